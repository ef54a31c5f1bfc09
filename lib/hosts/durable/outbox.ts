// The outbox: what a durable turn leaves behind, kept in the instance's commit and carried out
// after it (the output gate). Every entry is idempotent: each message carries its origin (the
// lane and position of the commit that made it, its index there), the same on every copy, so
// its receivers apply it once (lane-memory.ts); timers and journal entries are keyed writes, and
// a timer's carry the order of the commit that made them (TimerOrder), so a late one is refused.
// So an outbox sent twice, by a host that died before it knew the first send went through,
// changes nothing.
//
// An instance's outbox is kept as segments, each where it was made: a commit in a shard's lane
// at a position (sent again only by a redelivery of that position, docs/guarantees.md), or made
// by a direct invocation and not yet placed in a lane (`PENDING`: the instance's next turn in its
// shard places and sends it).
import type { Envelope } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import type { ErrorCode } from '../../core/error-codes.js'
import type { JournalStore, ReceiptRecord, TimerRecord, TimerStore } from '../../store/index.js'
import { errorRecord, type DeadLetter } from '../../core/dead-letter.js'
import { unescapeBody } from '../../core/guarded-keys.js'
import type { SendReport } from '../../transport/kinesis.js'
import type { TimerOrder } from '../../core/schedule.js'

export type OutboxEntry =
  | { kind: 'message'; envelope: Envelope }
  /** `named`: the turn's instance named it, and orders its writes (instance-commit.ts). */
  | { kind: 'schedule'; timer: TimerRecord; named?: true }
  /** `order`: the commit's that made it (instance-commit.ts), as a schedule's timer has. */
  | { kind: 'cancel'; timerId: string; named?: true; order?: TimerOrder }
  /** `by`: in a PENDING segment, the id of the direct run that made it (pending-receipts.ts, `settlePending`). */
  | { kind: 'receipt'; record: ReceiptRecord; by?: string }
  /** `escaped`: the letter's body has its guarded keys escaped, so that the outbox can be written (guarded-keys.ts). */
  | { kind: 'dead'; letter: DeadLetter; escaped?: true }

/** Entries made at one place in a lane. */
export interface OutboxSegment {
  /** The lane of the commit that made them, or `PENDING`. */
  lane: string
  /** The commit's position in the lane (its messages' origin position). */
  pos: string
  /** The entries; empty when they were too large for the item and were kept in the overflow store instead. */
  entries: OutboxEntry[]
  /**
   * Where the entries are kept when they did not fit the item: written before the commit that
   * refers to them. `dropped`: messages whose dead letter and receipt entries there went stale (a
   * replay of the letter came since, pending-receipts.ts's `dropPendingOf`), left out when read.
   */
  spilled?: { key: string; bytes: number; count: number; messages: number; dropped?: string[] }
}

/** The lane of a direct invocation's entries until a turn in the instance's shard places them. */
export const PENDING = 'pending'

/** Whether `entry` is the dead letter or a receipt entry of message `id`. */
export function isEndOf(entry: OutboxEntry, id: string): boolean {
  return (entry.kind === 'dead' && entry.letter.envelope.id === id) || (entry.kind === 'receipt' && entry.record.id === id)
}

/** How many messages a segment holds, spilled or not. */
export function messageCount(segment: OutboxSegment): number {
  return segment.spilled?.messages ?? messagesOf(segment.entries).length
}

/**
 * `entries` with `more` after them, where a dead letter in `more` replaces one for the same
 * message in `entries`: the journal keeps one letter a message, and a run delivered again that
 * dead-letters what it read before (a record refused for want of room, an inconsistent one) must
 * not grow what waits in the item each time.
 */
export function appendEntries(entries: readonly OutboxEntry[], more: readonly OutboxEntry[]): OutboxEntry[] {
  const lettered = new Set<string>()
  for (const e of more) if (e.kind === 'dead') lettered.add(e.letter.envelope.id)
  return [...(lettered.size === 0 ? entries : entries.filter((e) => e.kind !== 'dead' || !lettered.has(e.letter.envelope.id))), ...more]
}

/** The messages of some entries. */
export function messagesOf(entries: readonly OutboxEntry[]): Envelope[] {
  const out: Envelope[] = []
  for (const e of entries) if (e.kind === 'message') out.push(e.envelope)
  return out
}

/**
 * Gives the messages among `entries` their origin: made at `pos` of `lane`, the `firstIndex`-th
 * and on, with `fence` as their sender can vouch for it now.
 */
export function placeMessages(entries: readonly OutboxEntry[], lane: string, pos: string, firstIndex: number, fence: string): void {
  let i = firstIndex
  for (const e of entries) if (e.kind === 'message') e.envelope.origin = { lane, pos, i: i++, fence }
}

/** Sends envelopes; every envelope gets a result (the Kinesis transport). */
export interface MessageSender {
  send(envelopes: readonly Envelope[]): Promise<SendReport>
}

/** Error codes of a message no resend can deliver: it becomes a dead letter instead. */
const UNSENDABLE = new Set<ErrorCode>(['TROUPE_RECORD_TOO_LARGE', 'TROUPE_INVALID_ENVELOPE', 'TROUPE_CONFIG'])

export class OutboxSender {
  constructor(
    private readonly messages: MessageSender,
    private readonly timers: TimerStore,
    private readonly journal: JournalStore,
    /** A timer was put: the process's timer runner may want to wake earlier. */
    private readonly onTimer: (dueAt: number) => void = () => {},
    /** Receipt entries were written: an `ask` waiting in this process reads them at once. */
    private readonly onReceipts: (records: readonly ReceiptRecord[]) => void = () => {},
    /** Before the letters of messages that died are written: keeps what their side effects did (SideEffects.pin). */
    private readonly pin: (letters: readonly DeadLetter[]) => Promise<void> = async () => {},
  ) {}

  /**
   * Carries out every entry, each message stamped with `fence` (what its sender can vouch for, as
   * it puts this copy). Rejects when something may be retried (a send or write that failed): the
   * caller reports the batch unfinished and the next delivery sends again.
   */
  async send(entries: readonly OutboxEntry[], fence?: string): Promise<void> {
    if (entries.length === 0) return
    if (fence !== undefined) entries = entries.map((e) => (e.kind === 'message' && e.envelope.origin ? { kind: 'message', envelope: { ...e.envelope, origin: { ...e.envelope.origin, fence } } } : e))
    const envelopes: Envelope[] = []
    const receipts: ReceiptRecord[] = []
    const letters: DeadLetter[] = []
    const writes: Promise<void>[] = []
    // The writes go out at once, so of a timer scheduled and cancelled (or scheduled again) by
    // the same outbox only the last is written: the store must end as the turns left it.
    const timers = new Map<string, OutboxEntry & { kind: 'schedule' | 'cancel' }>()
    for (const e of entries) {
      if (e.kind === 'message') envelopes.push(e.envelope)
      else if (e.kind === 'receipt') receipts.push(e.record)
      else if (e.kind === 'dead') letters.push(e.escaped ? { ...e.letter, envelope: { ...e.letter.envelope, body: unescapeBody(e.letter.envelope.body) } } : e.letter)
      else timers.set(e.kind === 'schedule' ? e.timer.id : e.timerId, e)
    }
    for (const e of timers.values()) {
      if (e.kind === 'schedule') writes.push(Promise.resolve(this.timers.put(e.timer)).then(() => this.onTimer(e.timer.dueAt)))
      else writes.push(Promise.resolve(this.timers.delete(e.timerId, e.order)))
    }
    if (envelopes.length !== 0) {
      const report = await this.messages.send(envelopes)
      let retryable: Error | undefined
      for (const [i, r] of report.results.entries()) {
        if (r.status === 'sent') continue
        if (UNSENDABLE.has(r.error.code)) {
          // Dead when its turn made it (`sentAt`): the same on every send of this outbox again, so
          // a copy of the letter is known as one (a letter replayed stays replayed).
          letters.push({ envelope: envelopes[i]!, error: errorRecord(r.error), attempts: [], deadAt: envelopes[i]!.sentAt })
        } else {
          retryable ??= r.error
        }
      }
      if (retryable) {
        await Promise.allSettled(writes)
        throw new TroupeError('TROUPE_OUTBOX_NOT_SENT', `${report.failed} of ${envelopes.length} messages were not sent; the batch will be delivered again (${retryable.message})`, { cause: retryable })
      }
    }
    // A dead letter is kept before the receipt that says dead: whoever reads that receipt finds the
    // letter; and after its message's side effects are pinned (the letters of messages this outbox
    // could not send never ran a turn, and have none).
    const died = letters.length === 0 ? [] : entries.flatMap((e) => (e.kind === 'dead' ? [e.letter] : []))
    const kept = letters.length === 0 ? Promise.resolve() : (died.length === 0 ? Promise.resolve() : this.pin(died)).then(() => this.journal.putDeadLetters(letters))
    writes.push(kept)
    if (receipts.length !== 0) writes.push(kept.then(() => this.journal.putReceipts(receipts)).then(() => this.onReceipts(receipts)))
    const results = await Promise.allSettled(writes)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}
