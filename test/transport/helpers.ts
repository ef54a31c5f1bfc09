// Shared by the transport tests: streams on a local Kinesis, envelopes, and reading a stream back.
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { decodeRecord } from '../../lib/routing/record-codec.js'

let streams = 0

/** Creates a stream with a fresh name and waits until it is ACTIVE. */
export async function createStream(kinesis: KinesisClient, shards = 2, prefix = 'stream'): Promise<string> {
  const name = `${prefix}-${++streams}`
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
  for (let i = 0; i < 200; i++) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`stream ${name} never became ACTIVE`)
}

let ids = 0

/** An envelope for `type`; keyed when `key` is not ''. */
export function message(type: string, key: string, body: unknown, id = `m${++ids}`): Envelope {
  return makeEnvelope({ id: id as MessageId, type, key, body, correlationId: 'corr' as CorrelationId, sentAt: Date.now() })
}

export interface ReadRecord {
  shardId: string
  sequenceNumber: string
  partitionKey: string
  envelope: Envelope
}

/** Every record of a stream, shard by shard, in stream order, decoded. */
export async function readStream(kinesis: KinesisClient, stream: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = []
  const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }))
  for (const shard of shards.Shards ?? []) {
    let iterator = (
      await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
      for (const r of page.Records ?? []) {
        const decoded = decodeRecord(r.Data!)
        if (!decoded.ok) throw new Error(`record ${r.SequenceNumber} does not decode: ${decoded.reason}`)
        out.push({ shardId: shard.ShardId!, sequenceNumber: r.SequenceNumber!, partitionKey: r.PartitionKey!, envelope: decoded.envelope })
      }
      if (!page.Records?.length) break
      iterator = page.NextShardIterator
    }
  }
  return out
}
