import type { Clock, TimerHandle } from '../../core/clock.js'
import { ReceiptTimeoutError, TroupeError } from '../../core/errors.js'
import { FINAL_STATUSES, REPLAYED, type MessageStatus, type Receipt } from '../../core/receipt.js'
import type { Envelope } from '../../core/envelope.js'
import type { AwaitReceiptOptions } from '../../core/system.js'
import { DEFAULT_ASK_TIMEOUT_MS } from '../../core/defaults.js'

interface Waiter {
  statuses: readonly MessageStatus[]
  resolve: (receipt: Receipt) => void
  reject: (error: Error) => void
  timer: TimerHandle
}

/** Receipts of the messages whose sender asked for one, with waiters. Final ones are kept up to a limit. */
export class ReceiptBook {
  private readonly receipts = new Map<string, Receipt>()
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly finals: string[] = []
  private finalsHead = 0

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
  ) {}

  get size(): number {
    return this.receipts.size
  }

  open(envelope: Envelope): void {
    const existing = this.receipts.get(envelope.id)
    if (existing) {
      // A replay continues the receipt it had, from an entry that says so.
      this.record(envelope, 'accepted', REPLAYED)
      return
    }
    this.receipts.set(envelope.id, {
      id: envelope.id,
      actor: envelope.type,
      key: envelope.key,
      status: 'accepted',
      attempts: 0,
      history: [{ status: 'accepted', at: this.clock.now(), attempt: 0 }],
    })
  }

  /**
   * Opens the receipt of a message accepted at `envelope.sentAt` that has reached `status` at
   * `at`, without a receipt so far (an ask's, kept only once it is needed). Nothing if it has one.
   */
  adopt(envelope: Envelope, status: MessageStatus, at: number, reason: string | undefined): void {
    if (this.receipts.has(envelope.id)) return
    const history: Receipt['history'] = [{ status: 'accepted', at: envelope.sentAt, attempt: 0 }]
    if (status !== 'accepted') history.push({ status, at, attempt: envelope.attempt, ...(reason ? { reason } : {}) })
    this.receipts.set(envelope.id, { id: envelope.id, actor: envelope.type, key: envelope.key, status, attempts: envelope.attempt, history })
  }

  has(id: string): boolean {
    return this.receipts.has(id)
  }

  /** The current status alone, without copying the receipt. */
  status(id: string): MessageStatus | undefined {
    return this.receipts.get(id)?.status
  }

  get(id: string): Receipt | undefined {
    const r = this.receipts.get(id)
    return r && { ...r, history: r.history.map((e) => ({ ...e })) }
  }

  /** The message reached `status` at `at` (now, unless the caller has a reading). */
  record(envelope: Envelope, status: MessageStatus, reason?: string, at = this.clock.now()): void {
    const receipt = this.receipts.get(envelope.id)
    if (!receipt) return
    receipt.status = status
    receipt.attempts = envelope.attempt
    receipt.history.push({ status, at, attempt: envelope.attempt, ...(reason ? { reason } : {}) })
    if (FINAL_STATUSES.has(status)) this.retire(envelope.id)
    const waiting = this.waiters.get(envelope.id)
    if (!waiting) return
    for (const w of waiting) {
      if (!w.statuses.includes(status)) continue
      this.clock.clearTimeout(w.timer)
      waiting.delete(w)
      w.resolve(this.get(envelope.id)!)
    }
    if (waiting.size === 0) this.waiters.delete(envelope.id)
  }

  wait(id: string, options: AwaitReceiptOptions = {}): Promise<Receipt> {
    const statuses = options.status ?? [...FINAL_STATUSES]
    const receipt = this.receipts.get(id)
    if (!receipt) {
      return Promise.reject(
        new TroupeError('TROUPE_NO_RECEIPT', `no receipt is kept for message ${id}; pass { receipt: true } to tell, or it was evicted`),
      )
    }
    // A status already passed in this delivery counts (a waiter that comes late is not
    // left hanging); a replay starts a new delivery at its 'accepted' entry.
    const current = receipt.history.slice(receipt.history.findLastIndex((e) => e.status === 'accepted'))
    if (current.some((e) => statuses.includes(e.status))) return Promise.resolve(this.get(id)!)
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        statuses,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiters.get(id)?.delete(waiter)
          const last = this.status(id) ?? 'unknown'
          reject(new ReceiptTimeoutError(id, statuses, last, timeoutMs))
        }, timeoutMs),
      }
      let set = this.waiters.get(id)
      if (!set) this.waiters.set(id, (set = new Set()))
      set.add(waiter)
    })
  }

  private retire(id: string): void {
    this.finals.push(id)
    if (this.finals.length - this.finalsHead <= this.limit) return
    const oldest = this.finals[this.finalsHead++]!
    const r = this.receipts.get(oldest)
    if (r && FINAL_STATUSES.has(r.status)) this.receipts.delete(oldest)
    if (this.finalsHead > 4096) {
      this.finals.splice(0, this.finalsHead)
      this.finalsHead = 0
    }
  }
}
