// What the local event source mapping counts, for `stats()`: its reads, deliveries and their
// outcomes, retries and discards, ticks, and each shard's checkpoint.
import type { ShardState } from './mapping-shard.js'

export interface LocalEventSourceMappingStats {
  shards: number
  /** Invocations with a batch (redeliveries included). */
  batches: number
  /** Records delivered (a redelivered record counts again). */
  records: number
  /** Records read from Kinesis. */
  recordsRead: number
  successes: number
  partialFailures: number
  functionErrors: number
  /** Responses that could not be read as a partial batch response: whole-batch failures. */
  badResponses: number
  /** Deliveries that were retries of a failed unit. */
  retries: number
  bisects: number
  discardedRecords: number
  onFailureRecords: number
  duplicatesInjected: number
  /** Invocations that could not be made (not counted as attempts). */
  notInvoked: number
  ticks: number
  tickErrors: number
  /** Batches running now. */
  inFlight: number
  /** Shard → the last sequence number done (everything up to it). */
  checkpoints: Record<string, string>
}

/** The counters the mapping's parts add to as they go. */
export type MappingCounts = Omit<LocalEventSourceMappingStats, 'shards' | 'checkpoints'>

export function newMappingCounts(): MappingCounts {
  return {
    batches: 0,
    records: 0,
    recordsRead: 0,
    successes: 0,
    partialFailures: 0,
    functionErrors: 0,
    badResponses: 0,
    retries: 0,
    bisects: 0,
    discardedRecords: 0,
    onFailureRecords: 0,
    duplicatesInjected: 0,
    notInvoked: 0,
    ticks: 0,
    tickErrors: 0,
    inFlight: 0,
  }
}

export function mappingStats(shards: ReadonlyMap<string, ShardState>, counts: MappingCounts): LocalEventSourceMappingStats {
  const checkpoints: Record<string, string> = {}
  for (const shard of shards.values()) if (shard.checkpoint !== undefined) checkpoints[shard.id] = shard.checkpoint
  return { shards: shards.size, ...counts, checkpoints }
}
