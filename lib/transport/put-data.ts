// Record data put as it is, with one PutRecord (no codec, no aggregate, no batching): what replay
// does with an unreadable record's letter, whose bytes go back on their stream.
import { PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { RecordTooLargeError } from '../routing/record-errors.js'
import { SendFailedError } from './errors.js'
import type { KinesisTransportStats } from './kinesis-stats.js'
import type { StreamLimits } from './stream-limits.js'

/**
 * Puts `record` once it is checked against its stream's record limit; `about` names the letter in
 * errors. Resolves once Kinesis has the record; rejects with a RecordTooLargeError or a SendFailedError.
 */
export async function putData(
  client: KinesisClient,
  limits: StreamLimits,
  stats: KinesisTransportStats,
  record: { stream: string; partitionKey: string; data: Uint8Array },
  about: { actor: string; messageId: string },
): Promise<{ shardId: string; sequenceNumber: string }> {
  const bytes = record.data.byteLength + Buffer.byteLength(record.partitionKey)
  const limit = await limits.of(record.stream)
  if (bytes > limit) throw new RecordTooLargeError(about.actor, about.messageId, bytes, limit, record.stream)
  try {
    const out = await client.send(new PutRecordCommand({ StreamName: record.stream, PartitionKey: record.partitionKey, Data: record.data }))
    stats.recordsSent++
    return { shardId: out.ShardId ?? '', sequenceNumber: out.SequenceNumber ?? '' }
  } catch (error) {
    stats.recordsFailed++
    const e = error as { name?: string; message?: string }
    throw new SendFailedError(about.actor, about.messageId, record.stream, e.name ?? 'Error', 1, e.message ?? '', { cause: error })
  }
}
