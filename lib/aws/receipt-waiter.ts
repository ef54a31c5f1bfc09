// Waiting for a receipt on AWS (aws-system.ts is the facade): the receipt is in the table, so a
// wait reads it until it has the status wanted. A wait is woken to read again at once when this
// process's host wrote an entry for the message; otherwise it polls, slowing down. `stop()` wakes
// every wait, which then returns what it last read. An ask's answer is read from its receipt too.
import type { Clock } from '../core/clock.js'
import * as d from '../core/defaults.js'
import type { Envelope } from '../core/envelope.js'
import { AskFailedError, AskTimeoutError, ReceiptTimeoutError, SystemStoppedError, TroupeError } from '../core/errors.js'
import type { MessageId } from '../core/ids.js'
import { FINAL_STATUSES, type MessageStatus, type Receipt } from '../core/receipt.js'
import { decode } from '../core/serialization.js'
import type { AwaitReceiptOptions } from '../core/system.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import { withPending } from '../hosts/durable/pending-receipts.js'
import type { ReceiptRecord, StoredInstance, StoredReceipt } from '../store/index.js'
import { wholeHistory } from '../store/receipt-records.js'
import type { ErrorRecord } from '../core/dead-letter.js'
import { isKeptForkResult } from './aws-fork.js'

/** Polling a receipt starts this often and slows down to once a second. */
const FIRST_POLL_MS = 25
const MAX_POLL_MS = 1_000

/** How an ask's message ended, as its receipt says. */
export type AskOutcome = Pick<StoredReceipt, 'status' | 'reply' | 'error'>

export class ReceiptWaiter {
  /** Message ids someone in this process waits on → wake-ups. */
  private readonly waiters = new Map<string, Set<() => void>>()

  constructor(
    private readonly journal: DynamoDBJournalStore,
    private readonly clock: Clock,
    /** True once the system stops: a wait returns instead of reading again. */
    private readonly stopping: () => boolean,
    /** Reads an instance's item: a message asked by Invoke may have its final entry there (pending-receipts.ts). */
    private readonly readInstance: (type: string, key: string) => Promise<StoredInstance | undefined>,
  ) {}

  /** A message's receipt; a fork's kept result is none (`system.fork` reads it with `waitFor`). */
  async receipt(id: string): Promise<Receipt | undefined> {
    const stored = await this.read(id)
    return stored && !isKeptForkResult(stored) ? toReceipt(stored) : undefined
  }

  private async read(id: string): Promise<StoredReceipt | undefined> {
    return withPending(() => this.journal.receipt(id, this.clock.now()), this.readInstance)
  }

  async awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt> {
    const wanted = new Set<MessageStatus>(options?.status ?? FINAL_STATUSES)
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    const stored = await this.waitFor(id, wanted, timeoutMs)
    // The joined replies kept under a fork's id are troupe's own, no message's: as in the embedded mode, none is kept for it.
    if (stored !== undefined && isKeptForkResult(stored)) throw new TroupeError('TROUPE_NO_RECEIPT', `no receipt is kept for message ${id}: it is a fork's id (system.fork answers with the joined replies)`)
    if (stored === undefined || !stored.history.some((e) => wanted.has(e.status))) {
      throw new ReceiptTimeoutError(id, [...wanted], stored?.status ?? 'no receipt', timeoutMs)
    }
    return toReceipt(stored)
  }

  /** The final receipt of an ask's message, waiting for it up to `waitMs`: what is left of the ask's `timeoutMs`. */
  async finalOf(envelope: Envelope, waitMs: number, timeoutMs: number): Promise<StoredReceipt> {
    const receipt = await this.waitFor(envelope.id, FINAL_STATUSES, waitMs)
    if (receipt === undefined || !FINAL_STATUSES.has(receipt.status)) {
      if (this.stopping()) throw new SystemStoppedError('the system stopped before the reply came')
      throw new AskTimeoutError(envelope.type, envelope.key, envelope.id, receipt?.status ?? 'unknown', timeoutMs)
    }
    return receipt
  }

  /**
   * Reads a receipt until one of its entries has a wanted status, the time is up or the
   * system stops; returns the last read. Reads again at once when this process's host
   * wrote an entry for the message, else polls, slowing down.
   */
  async waitFor(id: string, wanted: ReadonlySet<MessageStatus>, timeoutMs: number): Promise<StoredReceipt | undefined> {
    const deadline = this.clock.now() + timeoutMs
    let last: StoredReceipt | undefined
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      last = await this.read(id)
      if (last?.history.some((e) => wanted.has(e.status))) return last
      const left = deadline - this.clock.now()
      if (left <= 0 || this.stopping()) return last
      await new Promise<void>((resolve) => {
        const done = () => {
          this.clock.clearTimeout(timer)
          stopListening()
          resolve()
        }
        const timer = this.clock.setTimeout(done, Math.min(delay, left))
        const stopListening = this.listen(id, done)
      })
    }
  }

  /**
   * Calls `wake` when the host writes an entry for message `id`, and when the system stops (an
   * ask by invocation waits on the function, not the receipt, and must end then too). Returns
   * what stops listening.
   */
  listen(id: string, wake: () => void): () => void {
    let set = this.waiters.get(id)
    if (!set) this.waiters.set(id, (set = new Set()))
    set.add(wake)
    return () => {
      set.delete(wake)
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id)
    }
  }

  /** This process's host wrote these entries: their waits read again. */
  wake(records: readonly ReceiptRecord[]): void {
    if (this.waiters.size === 0) return
    for (const r of records) for (const done of [...(this.waiters.get(r.id) ?? [])]) done()
  }

  /** The system stops: every wait ends. */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const done of [...set]) done()
  }
}

/** A stored receipt as the System API gives it: one history, the runs before a replay first, as the embedded mode keeps it. */
function toReceipt(stored: StoredReceipt): Receipt {
  return { id: stored.id as MessageId, actor: stored.actor, key: stored.key, status: stored.status, attempts: stored.attempts, history: wholeHistory(stored) }
}

/** What an ask answers, from its message's final receipt: the reply, or the error the message ended with. */
export function answerOf(envelope: Envelope, receipt: AskOutcome): unknown {
  if (receipt.status === 'done') {
    if (receipt.reply === undefined && receipt.error !== undefined) throw new TroupeError('TROUPE_REPLY_TOO_LARGE', receipt.error.message)
    return receipt.reply === undefined ? undefined : decode(receipt.reply)
  }
  throw new AskFailedError(envelope.type, envelope.key, envelope.id, receipt.status as 'dead' | 'filtered', asError(receipt.error))
}

function asError(record: ErrorRecord | undefined): Error | undefined {
  if (record === undefined) return undefined
  const error = new Error(record.message)
  error.name = record.name
  return error
}
