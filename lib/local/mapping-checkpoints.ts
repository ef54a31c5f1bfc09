// The local event source mapping's checkpoints: per shard, the last sequence number done
// (everything up to it). They live in memory unless a store is given: a new mapping starts at
// `startingPosition`, as a new AWS mapping would; with a store, a restart resumes after them.
import type { Logger } from '../core/logger.js'
import type { ShardState } from './mapping-shard.js'

/** Where checkpoints are kept across mappings (a restart resumes after them). */
export interface CheckpointStore {
  get(stream: string, shardId: string): Promise<string | undefined> | string | undefined
  put(stream: string, shardId: string, sequenceNumber: string): Promise<void> | void
}

/** One mapping's checkpoints: in its store, else in its memory. */
export class Checkpoints {
  private readonly memory = new Map<string, string>()

  constructor(
    private readonly store: CheckpointStore | undefined,
    private readonly stream: string,
    private readonly logger: Logger,
  ) {}

  /** The checkpoint a shard starts after, if it has one. */
  get(shardId: string): Promise<string | undefined> | string | undefined {
    return this.store ? this.store.get(this.stream, shardId) : this.memory.get(shardId)
  }

  /** Everything before the earliest record still in a lane is done: that is the shard's checkpoint. */
  advance(shard: ShardState): void {
    let earliest = shard.nextIndex
    for (const lane of shard.lanes) if (lane.queue.length !== 0) earliest = Math.min(earliest, lane.queue[0]!.index)
    const doneThrough = earliest - 1
    if (doneThrough < shard.base) return
    const seq = shard.seqs[doneThrough - shard.base]!
    shard.seqs.splice(0, doneThrough - shard.base + 1)
    shard.base = doneThrough + 1
    shard.checkpoint = seq
    if (this.store) {
      Promise.resolve(this.store.put(this.stream, shard.id, seq)).catch((error: unknown) =>
        this.logger.error('could not keep a checkpoint', { shard: shard.id, error: (error as Error).message }),
      )
    } else {
      this.memory.set(shard.id, seq)
    }
  }
}
