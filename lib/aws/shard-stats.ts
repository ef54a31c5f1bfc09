// What one consumer did with one shard (ShardConsumer.stats()): kept by the consumer across the
// times it owned the shard, counted by each reader it ran on it (shard-reader.ts).

/** What one consumer did with one shard since it started. */
export interface ShardStats {
  stream: string
  shardId: string
  /** This consumer holds the shard's lease and reads it now. */
  owned: boolean
  /** Records the handler finished (a redelivered record counts again). */
  records: number
  /** Handler calls. */
  batches: number
  /** Handler calls that threw or reported `failedFrom`. */
  failures: number
  /** The last record the handler finished. */
  lastSequenceNumber: string | undefined
  /** The last checkpoint written. */
  checkpoint: string | undefined
  /** From the last GetRecords; undefined before the first. */
  millisBehindLatest: number | undefined
  /** GetRecords calls (throttled ones included). */
  reads: number
  /** Throttled GetRecords or GetShardIterator calls. */
  throttles: number
  /** The shard was read to its end (closed by a reshard). */
  ended: boolean
}

/** The stats of a shard the consumer takes for the first time. */
export function newShardStats(stream: string, shardId: string): ShardStats {
  return { stream, shardId, owned: true, records: 0, batches: 0, failures: 0, lastSequenceNumber: undefined, checkpoint: undefined, millisBehindLatest: undefined, reads: 0, throttles: 0, ended: false }
}
