// What a shard's reader writes to the shard's lease (shard-reader.ts): a checkpoint of the last
// finished record as it goes (at most one per `checkpointEveryMs`, and at once before a batch is
// retried), and when it stops, the last checkpoint and then the shard's end (which lets the
// consumer start its children) or the lease's release (so another consumer takes over at once).
// A write that finds the lease in another's hands stops the reader; after that nothing is written.
import type { Logger } from '../core/logger.js'
import { LeaseLostError, type DynamoDBLeaseStore } from '../store/dynamodb-leases.js'
import type { ShardStats } from './shard-stats.js'

export interface CheckpointSettings {
  leases: DynamoDBLeaseStore
  owner: string
  stream: string
  shardId: string
  /** Least time between checkpoint writes; 0 writes one after every batch. */
  everyMs: number
  /** The lease's checkpoint when the reader took the shard. */
  checkpoint: string | undefined
  stats: ShardStats
  log: Logger
  /** The reader lost the lease: nothing more is written. */
  lost: () => boolean
  /** Called when a checkpoint finds the lease taken: the reader stops at once. */
  lose: (error: LeaseLostError) => void
}

/** One reader's checkpoints of its shard, and its last writes to the lease. */
export class ShardCheckpoints {
  private checkpointed: string | undefined
  private pending: string | undefined
  private lastCheckpointAt = 0

  constructor(private readonly s: CheckpointSettings) {
    this.checkpointed = s.checkpoint
  }

  /** The handler finished everything up to `sequenceNumber`; written with the next flush. */
  finished(sequenceNumber: string): void {
    this.pending = sequenceNumber
  }

  /** Writes the pending checkpoint when due (or `force`). A lost lease stops the reader; other errors wait for the next try. */
  async flush(force: boolean): Promise<void> {
    const { leases, owner, stream, shardId, everyMs, stats } = this.s
    const sequenceNumber = this.pending
    if (sequenceNumber === undefined || sequenceNumber === this.checkpointed || this.s.lost()) return
    if (!force && everyMs > 0 && Date.now() - this.lastCheckpointAt < everyMs) return
    try {
      await leases.checkpoint(stream, shardId, owner, sequenceNumber)
      this.checkpointed = sequenceNumber
      stats.checkpoint = sequenceNumber
      this.lastCheckpointAt = Date.now()
    } catch (e) {
      if (e instanceof LeaseLostError) this.s.lose(e)
      else this.s.log.warn('checkpoint failed; it is written with the next one', { error: e, sequenceNumber })
    }
  }

  /** The last checkpoint, then the shard marked ended (`ended`: it was read to its end) or the lease released. */
  async close(ended: boolean): Promise<void> {
    const { leases, owner, stream, shardId, stats, log } = this.s
    const write = async (what: string, op: () => Promise<unknown>) => {
      try {
        await op()
      } catch (e) {
        if (e instanceof LeaseLostError) log.warn(`${what} skipped: the lease is someone else's now`, { holder: e.holder })
        else log.warn(`${what} failed`, { error: e })
      }
    }
    if (this.pending !== undefined && this.pending !== this.checkpointed) {
      await write('last checkpoint', async () => {
        await leases.checkpoint(stream, shardId, owner, this.pending!)
        this.checkpointed = this.pending
        stats.checkpoint = this.pending
      })
    }
    if (ended) {
      await write('marking the shard ended', () => leases.markEnded(stream, shardId, owner))
      stats.ended = true
      log.info('shard read to its end')
    } else {
      await write('release', () => leases.release(stream, shardId, owner))
    }
  }
}
