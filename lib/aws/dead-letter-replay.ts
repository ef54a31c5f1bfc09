// Replaying a dead letter on AWS (aws-system.ts is the facade): the letter is taken from the
// table and its message sent again as a new run, at a new place in this process's lane, so
// receivers that saw the message end (dead) do not take the replay for a copy of it. A record no
// host could read is no message: its bytes go back on their stream as they were. If the send
// fails, the letter is put back.
import type { Envelope } from '../core/envelope.js'
import { NoDeadLetterError } from '../core/errors.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { Router } from '../routing/router.js'
import { recordToPutBack, withNewOrigins } from '../routing/unreadable-record.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { DynamoDBStateStore } from '../store/dynamodb.js'
import { changeInstanceMeta } from '../hosts/durable/instance-meta-change.js'
import { dropPendingOf } from '../hosts/durable/pending-receipts.js'
import type { KinesisTransport } from '../transport/kinesis.js'
import type { AwsOutbox } from './aws-outbox.js'

export interface ReplayParts {
  journal: DynamoDBJournalStore
  state: DynamoDBStateStore
  host: DurableHost
  router: Router
  codec: RecordCodec
  transport: KinesisTransport
  outbox: AwsOutbox
}

/** Sends dead letter `id` again; resolves to the message sent once Kinesis has it. */
export async function replayDeadLetter(parts: ReplayParts, id: string): Promise<Envelope> {
  const { journal, host } = parts
  const letter = await journal.takeDeadLetter(id)
  if (!letter) throw new NoDeadLetterError(id)
  const { origin: _old, ...rest } = letter.envelope
  const envelope: Envelope = { ...rest, attempt: 0 }
  const pos = host.lane.stamp(envelope)
  try {
    const record = recordToPutBack(letter, parts.router.streams)
    if (record) {
      const data = withNewOrigins(record.data, parts.codec, (i) => host.lane.origin(pos, i))
      await parts.transport.putData({ ...record, data }, { actor: envelope.type, messageId: envelope.id })
    } else {
      // The replay is a new run of the message: its receipt (a dead letter always has one) starts
      // again, and what its instance's item still keeps of the old run's end goes first.
      envelope.receipt ??= 'status'
      await changeInstanceMeta(parts.state, Date.now, envelope.type, envelope.key, (meta) => dropPendingOf(meta, envelope.id), 'the replayed message’s entries')
      await journal.deleteReceipt(envelope.id)
      await journal.putReceipts([host.receiptRecord(envelope, 'accepted', undefined)])
      await parts.outbox.sendOffloaded(envelope)
    }
  } catch (error) {
    await journal.putDeadLetters([letter]) // not sent: it stays a dead letter
    throw error
  } finally {
    host.lane.settle(pos)
  }
  return envelope
}
