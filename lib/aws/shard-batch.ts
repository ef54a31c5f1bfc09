// What a shard consumer's handler gets and answers (shard-reader.ts calls it): the records of one
// shard in stream order, and how far it finished them; and a Kinesis record as the handler sees it.
import type { _Record } from '@aws-sdk/client-kinesis'

/** One Kinesis record as the handler gets it. */
export interface ShardRecord {
  /** A decimal string of up to 128 digits: compare as BigInt, never as a number. */
  sequenceNumber: string
  partitionKey: string
  data: Uint8Array
  /** Epoch milliseconds. */
  approximateArrivalTimestamp: number
}

/** Records of one shard, in stream order. */
export interface ShardBatch {
  stream: string
  shardId: string
  records: ShardRecord[]
  /** Aborted when the consumer lost the shard's lease: nothing this batch finishes will be checkpointed. */
  signal: AbortSignal
}

/**
 * What the handler finished. `failedFrom`: the sequence number of the earliest record not
 * finished; everything before it is done and is not delivered again. Nothing (or no
 * `failedFrom`) means the whole batch is done.
 */
export interface ShardHandlerResult {
  failedFrom?: string
}

/**
 * Takes a batch of one shard. Must be idempotent: records come again after a failure, a crash,
 * a lost lease or (with `checkpointEveryMs`) a restart. Throwing fails the whole batch.
 */
export type ShardHandler = (batch: ShardBatch) => Promise<ShardHandlerResult | void>

/** A record of a GetRecords answer as the handler gets it. */
export function toShardRecord(r: _Record): ShardRecord {
  const at = r.ApproximateArrivalTimestamp
  return {
    sequenceNumber: r.SequenceNumber!,
    partitionKey: r.PartitionKey!,
    data: r.Data ?? new Uint8Array(0),
    approximateArrivalTimestamp: at instanceof Date ? at.getTime() : typeof at === 'number' ? at * 1000 : 0,
  }
}
