// A Kinesis record as the local event source mapping holds it: already the JSON of its entry
// in the Lambda event (AWS-SEMANTICS.md §1.1), with what batching and checkpoints need to know.
import type { _Record } from '@aws-sdk/client-kinesis'
import type { KinesisEventRecord } from '../platform/lambda-events.js'

/** A record read from a shard, held in its lane until it is done or discarded. */
export interface Rec {
  seq: string
  big: bigint
  /** Order in its shard, from 0. */
  index: number
  arrivalMs: number
  /** The record as event JSON. */
  json: string
  bytes: number
}

/** `{"Records":[]}` */
export const EVENT_OVERHEAD = 14

/** What the event says of where its records come from. */
export interface EventSource {
  shardId: string
  /** The function's execution role, as `invokeIdentityArn`. */
  roleArn: string
  region: string
  streamArn: string
}

/** A record read from the shard, as the event carries it; `index` is its order in the shard. */
export function eventRecord(r: _Record, index: number, source: EventSource): Rec {
  const seq = r.SequenceNumber!
  const partitionKey = r.PartitionKey!
  const arrivalMs = r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()
  const event: KinesisEventRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber: seq,
      data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.roleArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  }
  const json = JSON.stringify(event)
  return { seq, big: BigInt(seq), index, arrivalMs, json, bytes: Buffer.byteLength(json) }
}

/** The event of a batch: its records' JSON, in order. */
export function eventPayload(batch: readonly Rec[]): string {
  return `{"Records":[${batch.map((r) => r.json).join(',')}]}`
}
