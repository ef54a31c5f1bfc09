// Replaying a dead letter from the table: the letter is taken and its message sent again as a new
// run, at a new place in the replaying process's lane, so receivers that saw the message end
// (dead) do not take the replay for a copy of it (docs/guarantees.md). A record no host could read
// is no message: its bytes go back on their stream as they were. If the send fails, the letter is
// put back; a send that failed may have put the message all the same, so a stateful instance keeps
// a note, and a replay of the letter again sends it so that it is applied once (replay-resends.ts).
// One set of rules for both who replay: AwsSystem.replay, and TableInspector.replay
// (`troupe inspect`, with no system running); they differ only in the parts they hand in.
import type { Envelope, Origin } from '../core/envelope.js'
import { NoDeadLetterError } from '../core/errors.js'
import { changeInstanceMeta } from '../hosts/durable/instance-meta-change.js'
import { decodeMeta } from '../hosts/durable/instance-meta.js'
import { awaitsResend, noteResend, resendOrigin, type ResendNoting } from '../hosts/durable/replay-resends.js'
import { dropPendingOf, merged, receiptsIn } from '../hosts/durable/pending-receipts.js'
import type { ProcessLane } from '../hosts/durable/process-lane.js'
import type { RecordCodec } from '../routing/record-codec.js'
import { recordToPutBack, withNewOrigins, type RecordToPutBack } from '../routing/unreadable-record.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { DynamoDBStateStore } from '../store/dynamodb.js'
import type { ReceiptRecord, StoredReceipt } from '../store/index.js'
import { REPLAYED, type ReceiptEntry } from '../core/receipt.js'
import { errorRecord } from '../core/dead-letter.js'

/**
 * Entries of the runs before a replay kept at most, and the bytes they may take, each reason cut
 * short: they ride on one item (400 KB) with the new run's first entry, and a letter replayed
 * again and again, or failing with long errors, would grow it past what an item holds (the
 * receipt could then not be written at all). The newest are kept.
 */
const MAX_EARLIER_ENTRIES = 100
const MAX_EARLIER_BYTES = 32 * 1024
const KEPT_REASON_CHARS = 1_000

/** How a replay reaches the streams. */
export interface ReplaySender {
  /** The streams it writes to: an unreadable record goes back only onto one of these. */
  streams: readonly string[]
  /** Puts an unreadable record's bytes back on their stream. */
  putData(record: RecordToPutBack, about: { actor: string; messageId: string }): Promise<unknown>
  /** Sends the replayed message; resolves once the stream has it. */
  send(envelope: Envelope): Promise<void>
}

export interface ReplayParts {
  journal: DynamoDBJournalStore
  state: DynamoDBStateStore
  /** The replaying process's lane: the replay's new place. */
  lane: ProcessLane
  codec: RecordCodec
  /** Where the letters were looked for, for the error when there is none (`in table t`). */
  where?: string
  /**
   * The sender, asked for once the letter is taken and before anything is written: one that has
   * no stream to write to throws there (after a missing letter is said), and the letter goes back.
   */
  sender(): ReplaySender
  /** The `accepted` receipt entry the replayed message's receipt starts again with. */
  accepted(envelope: Envelope): ReceiptRecord
  /** Whether actor type `type` keeps state (an item per instance); undefined when the app's types are not known. */
  keepsState(type: string): boolean | undefined
}

/** The entry a replay's run starts with: `accepted`, saying it is a replay, with the history before it. */
export function replayedEntry(accepted: ReceiptRecord, before: StoredReceipt | undefined): ReceiptRecord {
  const earlier = boundedHistory(before === undefined ? [] : [...(before.earlier ?? []), ...before.history])
  return { ...accepted, entry: { ...accepted.entry, reason: REPLAYED }, ...(earlier.length !== 0 ? { earlier } : {}) }
}

/** The newest of `entries` that fit MAX_EARLIER_ENTRIES and MAX_EARLIER_BYTES, each reason cut to KEPT_REASON_CHARS. */
function boundedHistory(entries: readonly ReceiptEntry[]): ReceiptEntry[] {
  const kept: ReceiptEntry[] = []
  let bytes = 0
  for (let i = entries.length - 1; i >= 0 && kept.length < MAX_EARLIER_ENTRIES; i--) {
    const e = entries[i]!
    const entry = e.reason !== undefined && e.reason.length > KEPT_REASON_CHARS ? { ...e, reason: `${e.reason.slice(0, KEPT_REASON_CHARS)}…` } : e
    bytes += Buffer.byteLength(JSON.stringify(entry))
    if (bytes > MAX_EARLIER_BYTES) break
    kept.push(entry)
  }
  return kept.reverse()
}

/**
 * After the replay's first entry was written, the replay failed and the letter is back: the
 * receipt ends that run as dead, with why, rather than showing a run that never went out. A
 * failure to write that is left (the error thrown is the replay's).
 */
async function notReplayed(journal: DynamoDBJournalStore, first: ReceiptRecord, error: unknown, mayHaveGone: boolean): Promise<void> {
  const why = `the replay failed, and the dead letter was kept: ${error instanceof Error ? error.message : String(error)}`.slice(0, KEPT_REASON_CHARS)
  const reason = mayHaveGone ? `${why} (the message may have reached its stream all the same: replaying the letter again sends it so that it runs once)` : why
  const dead: ReceiptRecord = { ...first, entry: { status: 'dead', at: Date.now(), attempt: 0, reason }, error: errorRecord(error) }
  delete dead.earlier
  try {
    // What is left of the old run's entries (the step that failed may have been their delete) is in `first` already.
    await journal.deleteReceipt(first.id, first)
    await journal.putReceipts([dead])
  } catch {
    // The replay's own error is the one thrown.
  }
}

/**
 * Once a replay's send failed, whether its message's instance read the copy it may have put
 * (`read`: the replay is done), or else keeps a note that lets a replay of the letter again send
 * it under `again` and have it applied once (`noted`); `gone` for a send again whose note was
 * ended (a copy of it was read). Undefined when no note can be kept: a type without state, whose
 * messages a replay may run twice (they are at least once), or a note that could not be written.
 */
async function noteFailedSend(parts: ReplayParts, envelope: Envelope, existed: boolean, again: Origin): Promise<ResendNoting | undefined> {
  if (!(parts.keepsState(envelope.type) ?? existed)) return undefined
  let noting: ResendNoting | undefined
  try {
    await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => {
      const found = noteResend(meta, envelope.id, envelope.origin!, again)
      noting = found.noting
      return found.changed
    }, 'the note of a replay whose send failed')
    return noting
  } catch {
    return undefined
  }
}

/** Sends dead letter `id` again; resolves to the message sent once the stream has it. */
export async function replayDeadLetter(parts: ReplayParts, id: string): Promise<Envelope> {
  const { journal, lane } = parts
  const letter = await journal.takeDeadLetter(id)
  if (!letter) throw new NoDeadLetterError(id, parts.where)
  const { origin: _old, ...rest } = letter.envelope
  const envelope: Envelope = { ...rest, attempt: 0 }
  // After a send that failed, the message goes again under the origin its instance's note names.
  const again = letter.resendAs
  const pos = again === undefined ? lane.stamp(envelope) : undefined
  if (again !== undefined) envelope.origin = again
  // The new run's first entry, once written: a send that fails after it says so in the receipt.
  let first: ReceiptRecord | undefined
  /** Whether the instance's item was there before the send: a type that keeps state, when the app's types are not known. */
  let existed = false
  let sending = false
  try {
    const sender = parts.sender()
    const record = recordToPutBack(letter, sender.streams)
    if (record) {
      const data = withNewOrigins(record.data, parts.codec, (i) => lane.origin(pos!, i))
      await sender.putData({ ...record, data }, { actor: envelope.type, messageId: envelope.id })
    } else {
      const stored = await parts.state.get(envelope.type, envelope.key)
      existed = stored !== undefined
      // Its note ended: the instance read a copy that the send that failed put. Nothing is sent again.
      if (again !== undefined && !awaitsResend(decodeMeta(stored?.meta), envelope.id, again)) return envelope
      // The replay is a new run of the message: its attempts count from 1 again, so its entries
      // would overwrite the old run's; those are kept on the new run's first entry instead, and
      // read before it (a receipt's history is all that happened to the message). What its
      // instance's item still keeps of the old run's end goes first. That entry is written
      // before anything of the old run is dropped, so a step that fails leaves the history whole.
      envelope.receipt ??= 'status'
      const before = merged(await journal.receipt(envelope.id, Date.now()), receiptsIn(stored, envelope.id))
      const entry = replayedEntry(parts.accepted(envelope), before)
      await journal.putReceipts([entry])
      first = entry
      await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => dropPendingOf(meta, envelope.id), 'the replayed message’s entries')
      await journal.deleteReceipt(envelope.id, entry)
      sending = true
      await sender.send(envelope)
    }
  } catch (error) {
    // Asked before this position settles, so the lane's fence has not passed it (replay-resends.ts).
    const next = again ?? resendOrigin()
    const noting = sending ? await noteFailedSend(parts, envelope, existed, next) : undefined
    if (noting === 'read' || noting === 'gone') return envelope // the instance has it: the replay is done
    const resendAs = noting === 'noted' ? next : again
    try {
      await journal.putBackDeadLetter(resendAs === undefined ? letter : { ...letter, resendAs }) // not sent: it stays a dead letter
    } finally {
      if (first !== undefined) await notReplayed(journal, first, error, noting === 'noted')
    }
    throw error
  } finally {
    if (pos !== undefined) lane.settle(pos)
  }
  return envelope
}
