import type { Envelope } from '../../core/envelope.js'
import { AskTimeoutError } from '../../core/errors.js'
import type { MessageStatus } from '../../core/receipt.js'
import type { Deadline, Deadlines } from '../../turn/deadlines.js'
import type { ReceiptBook } from './receipt-book.js'

interface PendingAsk {
  resolve: (reply: unknown) => void
  reject: (error: Error) => void
  deadline: Deadline
  /** The message, once accepted (an async schema validates it first). */
  envelope: Envelope | undefined
  /** Where the message is, and since when: its receipt, should it need one. */
  status: MessageStatus
  at: number
  reason: string | undefined
}

/**
 * The asks waiting for their reply. An ask's message keeps its receipt only once the ask does
 * not end with its reply (a timeout, a failure, a stop) or someone reads it while it waits:
 * until then its status is kept here, where it costs no receipt per ask. A receipt made late
 * starts from the message's acceptance and its status now, and goes on like any other.
 */
export class PendingAsks {
  private readonly asks = new Map<string, PendingAsk>()

  constructor(
    private readonly deadlines: Deadlines,
    private readonly receipts: ReceiptBook,
  ) {}

  get size(): number {
    return this.asks.size
  }

  /** Waits for the reply to message `id` of `actor`, asked at `now`, for up to `timeoutMs`. */
  wait(id: string, actor: string, timeoutMs: number, now: number, resolve: (reply: unknown) => void, reject: (error: Error) => void): void {
    const deadline = this.deadlines.add(now + timeoutMs, () => {
      const ask = this.asks.get(id)
      this.keepReceipt(id)
      this.asks.delete(id)
      reject(new AskTimeoutError(actor, ask?.envelope?.key ?? '', id, ask?.status ?? 'unknown', timeoutMs))
    })
    this.asks.set(id, { resolve, reject, deadline, envelope: undefined, status: 'accepted', at: now, reason: undefined })
  }

  /**
   * The ask's message was accepted: its receipt, if it comes to need one, is of this envelope.
   * False when the ask no longer waits (it timed out while an async schema validated the
   * message): the message then needs its receipt now.
   */
  accepted(envelope: Envelope): boolean {
    const ask = this.asks.get(envelope.id)
    if (ask === undefined) return false
    ask.envelope = envelope
    return true
  }

  /** The message of an ask moved on (running, retrying, paused) at `at`. */
  moved(id: string, status: MessageStatus, reason: string | undefined, at: number): void {
    const ask = this.asks.get(id)
    if (ask === undefined) return
    ask.status = status
    ask.at = at
    ask.reason = reason
  }

  /** The reply came. */
  answer(id: string, reply: unknown): void {
    this.take(id)?.resolve(reply)
  }

  /** The ask ends without its reply; its message keeps a receipt to follow. */
  fail(id: string, error: Error): void {
    this.keepReceipt(id)
    this.take(id)?.reject(error)
  }

  /** The message will not be accepted (it failed its schema): nothing to follow. */
  refuse(id: string, error: unknown): void {
    this.take(id)?.reject(error as Error)
  }

  /** Every ask ends with `error` (the system stopped); their messages keep receipts. */
  failAll(error: Error): void {
    for (const id of [...this.asks.keys()]) this.fail(id, error)
  }

  /** Makes the receipt of a waiting ask's message, from its acceptance and its status now. */
  keepReceipt(id: string): void {
    const ask = this.asks.get(id)
    if (ask?.envelope !== undefined) this.receipts.adopt(ask.envelope, ask.status, ask.at, ask.reason)
  }

  private take(id: string): PendingAsk | undefined {
    const ask = this.asks.get(id)
    if (ask === undefined) return undefined
    this.asks.delete(id)
    ask.deadline.cancel()
    return ask
  }
}
