// The outbox: what a durable turn leaves behind, kept in the instance's commit and carried out
// after it (the output gate). Every entry is idempotent: messages carry ids derived from the
// turn that made them (receivers drop duplicates), timers and journal entries are keyed
// writes. So an outbox sent twice, by a host that died before it knew the first send went
// through, changes nothing.
import type { Envelope } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import type { JournalStore, ReceiptRecord, TimerRecord, TimerStore } from '../../store/index.js'
import { errorRecord, type DeadLetter } from '../../supervisor/dead-letter.js'
import type { SendReport } from '../../transport/kinesis.js'

export type OutboxEntry =
  | { kind: 'message'; envelope: Envelope }
  | { kind: 'schedule'; timer: TimerRecord }
  | { kind: 'cancel'; timerId: string }
  | { kind: 'receipt'; record: ReceiptRecord }
  | { kind: 'dead'; letter: DeadLetter }

/** Sends envelopes; every envelope gets a result (the Kinesis transport). */
export interface MessageSender {
  send(envelopes: readonly Envelope[]): Promise<SendReport>
}

/** Error codes of a message no resend can deliver: it becomes a dead letter instead. */
const UNSENDABLE = new Set(['TROUPE_RECORD_TOO_LARGE', 'TROUPE_INVALID_ENVELOPE', 'TROUPE_CONFIG'])

export class OutboxSender {
  constructor(
    private readonly messages: MessageSender,
    private readonly timers: TimerStore,
    private readonly journal: JournalStore,
    private readonly now: () => number,
    /** A timer was put: the process's timer runner may want to wake earlier. */
    private readonly onTimer: (dueAt: number) => void = () => {},
    /** Receipt entries were written: an `ask` waiting in this process reads them at once. */
    private readonly onReceipts: (records: readonly ReceiptRecord[]) => void = () => {},
  ) {}

  /**
   * Carries out every entry. Rejects when something may be retried (a send or write that
   * failed): the caller reports the batch unfinished and the next delivery sends again.
   */
  async send(entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return
    const envelopes: Envelope[] = []
    const receipts: ReceiptRecord[] = []
    const letters: DeadLetter[] = []
    const writes: Promise<void>[] = []
    for (const e of entries) {
      if (e.kind === 'message') envelopes.push(e.envelope)
      else if (e.kind === 'receipt') receipts.push(e.record)
      else if (e.kind === 'dead') letters.push(e.letter)
      else if (e.kind === 'schedule') writes.push(Promise.resolve(this.timers.put(e.timer)).then(() => this.onTimer(e.timer.dueAt)))
      else writes.push(Promise.resolve(this.timers.delete(e.timerId)))
    }
    if (envelopes.length !== 0) {
      const report = await this.messages.send(envelopes)
      let retryable: Error | undefined
      for (const [i, r] of report.results.entries()) {
        if (r.status === 'sent') continue
        if (UNSENDABLE.has(r.error.code)) {
          letters.push({ envelope: envelopes[i]!, error: errorRecord(r.error), attempts: [], deadAt: this.now() })
        } else {
          retryable ??= r.error
        }
      }
      if (retryable) {
        await Promise.allSettled(writes)
        throw new TroupeError('TROUPE_SEND_FAILED', `${report.failed} of ${envelopes.length} messages were not sent; the batch will be delivered again (${retryable.message})`, { cause: retryable })
      }
    }
    if (receipts.length !== 0) writes.push(Promise.resolve(this.journal.putReceipts(receipts)).then(() => this.onReceipts(receipts)))
    if (letters.length !== 0) writes.push(Promise.resolve(this.journal.putDeadLetters(letters)))
    const results = await Promise.allSettled(writes)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}
