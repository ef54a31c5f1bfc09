// Replaying a dead letter from the table: the letter is taken and its message sent again as a new
// run, at a new place in the replaying process's lane, so receivers that saw the message end
// (dead) do not take the replay for a copy of it (docs/guarantees.md). A record no host could read
// is no message: its bytes go back on their stream as they were. If the send fails, the letter is
// put back. One set of rules for both who replay: AwsSystem.replay, and TableInspector.replay
// (`troupe inspect`, with no system running); they differ only in the parts they hand in.
import type { Envelope } from '../core/envelope.js'
import { NoDeadLetterError } from '../core/errors.js'
import { changeInstanceMeta } from '../hosts/durable/instance-meta-change.js'
import { dropPendingOf } from '../hosts/durable/pending-receipts.js'
import type { ProcessLane } from '../hosts/durable/process-lane.js'
import type { RecordCodec } from '../routing/record-codec.js'
import { recordToPutBack, withNewOrigins, type RecordToPutBack } from '../routing/unreadable-record.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { DynamoDBStateStore } from '../store/dynamodb.js'
import type { ReceiptRecord } from '../store/index.js'

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
}

/** Sends dead letter `id` again; resolves to the message sent once the stream has it. */
export async function replayDeadLetter(parts: ReplayParts, id: string): Promise<Envelope> {
  const { journal, lane } = parts
  const letter = await journal.takeDeadLetter(id)
  if (!letter) throw new NoDeadLetterError(id, parts.where)
  const { origin: _old, ...rest } = letter.envelope
  const envelope: Envelope = { ...rest, attempt: 0 }
  const pos = lane.stamp(envelope)
  try {
    const sender = parts.sender()
    const record = recordToPutBack(letter, sender.streams)
    if (record) {
      const data = withNewOrigins(record.data, parts.codec, (i) => lane.origin(pos, i))
      await sender.putData({ ...record, data }, { actor: envelope.type, messageId: envelope.id })
    } else {
      // The replay is a new run of the message: its receipt (a dead letter always has one) starts
      // again, and what its instance's item still keeps of the old run's end goes first.
      envelope.receipt ??= 'status'
      await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => dropPendingOf(meta, envelope.id), 'the replayed message’s entries')
      await journal.deleteReceipt(envelope.id)
      await journal.putReceipts([parts.accepted(envelope)])
      await sender.send(envelope)
    }
  } catch (error) {
    await journal.putDeadLetters([letter]) // not sent: it stays a dead letter
    throw error
  } finally {
    lane.settle(pos)
  }
  return envelope
}
