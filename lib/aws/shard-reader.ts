// One shard, read by one consumer while it holds the shard's lease: GetRecords in a loop, one
// batch at a time into the handler, checkpoints after what it finished, and the shard's end.
//
// - Position: after the checkpoint, else the starting position; after a failure, AT the first
//   unfinished record, so exactly the unfinished tail comes again (the handler is idempotent).
//   An expired iterator is fetched again from the last finished record (shard-iterator.ts).
// - Pace: under Kinesis's 5 reads/s per shard that every consumer of the shard shares; an idle
//   shard is read every `pollMs`, and at once when this process put a record on it (shard-read-pace.ts).
// - Throttles and transient errors back off and try again, forever (shard-read-backoff.ts).
// - Lease: the reader stops the moment a lease write says another consumer holds the shard, and
//   also when its own lease has run out without a renewal (someone may have taken it since).
//   A lost lease writes nothing more; any other stop writes the last checkpoint and releases
//   (shard-checkpoints.ts).
// - End: a closed shard (after a reshard) is done when GetRecords returns no next iterator; it is
//   then marked ended, which is what lets the consumer start its children.
//
// What the handler gets is in shard-batch.ts, what the reader counts in shard-stats.ts.

import { GetRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import type { Logger } from '../core/logger.js'
import type { DynamoDBLeaseStore, LeaseLostError } from '../store/dynamodb-leases.js'
import { toShardRecord, type ShardHandler, type ShardRecord } from './shard-batch.js'
import { ShardCheckpoints } from './shard-checkpoints.js'
import { ShardIterator, type StartingPosition } from './shard-iterator.js'
import { backoff, errorName, isThrottle } from './shard-read-backoff.js'
import { ReadPace } from './shard-read-pace.js'
import type { ShardStats } from './shard-stats.js'

export type { ShardBatch, ShardHandler, ShardHandlerResult, ShardRecord } from './shard-batch.js'
export type { StartingPosition } from './shard-iterator.js'
export type { ShardStats } from './shard-stats.js'

/** How a reader ended. */
export type ReaderExit = 'stopped' | 'handedOver' | 'lost' | 'expired' | 'ended' | 'gone'

/** What a reader shares with its consumer. */
export interface ReaderContext {
  kinesis: KinesisClient
  leases: DynamoDBLeaseStore
  handler: ShardHandler
  owner: string
  logger: Logger
  batchSize: number
  pollMs: number
  checkpointEveryMs: number
  /** A counter that only goes up: orders reads against `idle()` calls. */
  tick: () => number
  /** Called whenever the reader's progress may have changed what `idle()` waits for. */
  changed: () => void
}

export interface ReaderStart {
  stream: string
  shardId: string
  /** From the lease: resume after it. */
  checkpoint: string | undefined
  /** Where to start without a checkpoint. */
  start: StartingPosition
  leaseExpiresAt: number
  stats: ShardStats
}

/** Reads one shard while its lease lasts. Made and stopped by the ShardConsumer. */
export class ShardReader {
  readonly stream: string
  readonly shardId: string
  readonly stats: ShardStats
  /** Settles when the reader stopped and wrote what it had to (checkpoint, release, end). */
  readonly done: Promise<ReaderExit>

  private readonly ctx: ReaderContext
  private readonly log: Logger
  private readonly abort = new AbortController()
  private readonly wake = new AbortController()
  private readonly iterator: ShardIterator
  private readonly checkpoints: ShardCheckpoints
  private leaseExpiresAt: number
  private readonly pace: ReadPace
  private exit: ReaderExit | undefined
  private busy = false
  /** Tick of the last read, when it found nothing more at the tip of an open shard. */
  private tipTick: number | undefined

  constructor(ctx: ReaderContext, init: ReaderStart) {
    this.ctx = ctx
    this.stream = init.stream
    this.shardId = init.shardId
    this.stats = init.stats
    this.log = ctx.logger.child({ stream: init.stream, shardId: init.shardId, owner: ctx.owner })
    this.pace = new ReadPace(ctx.pollMs)
    this.iterator = new ShardIterator(ctx.kinesis, init.stream, init.shardId, init.checkpoint, init.start)
    this.checkpoints = new ShardCheckpoints({
      leases: ctx.leases,
      owner: ctx.owner,
      stream: init.stream,
      shardId: init.shardId,
      everyMs: ctx.checkpointEveryMs,
      checkpoint: init.checkpoint,
      stats: init.stats,
      log: this.log,
      lost: () => this.exit === 'lost',
      lose: (error) => this.lose(error),
    })
    this.leaseExpiresAt = init.leaseExpiresAt
    this.stats.owned = true
    this.stats.checkpoint = init.checkpoint
    this.done = this.run()
  }

  get stopping(): boolean {
    return this.exit !== undefined
  }

  /** True when a read that began after tick `mark` found the shard's tip, and no batch is running. */
  caughtUpSince(mark: number): boolean {
    return this.exit === undefined && !this.busy && this.tipTick !== undefined && this.tipTick > mark
  }

  /** Why the reader is not caught up, for error messages. */
  describe(): string {
    if (this.exit) return `stopping (${this.exit})`
    if (this.busy) return 'a batch is in the handler'
    if (this.tipTick === undefined) return this.stats.failures > 0 ? 'retrying a failed batch' : 'behind the tip'
    return 'no read at the tip since the call'
  }

  /** A record was just put on this shard by this process: read it without waiting for the next poll. */
  nudge(): void {
    this.pace.nudge()
  }

  leaseRenewed(expiresAt: number): void {
    this.leaseExpiresAt = expiresAt
  }

  /** Finishes the batch in flight, writes the checkpoint and releases the lease (or leaves it to `wanted`). */
  stop(why: 'stopped' | 'handedOver' = 'stopped'): Promise<ReaderExit> {
    this.exit ??= why
    this.wake.abort()
    return this.done
  }

  /** Stops at once without another write: the lease belongs to someone else now. */
  lose(error: LeaseLostError): void {
    if (this.exit === 'lost') return
    this.log.warn('lease lost; stopped reading the shard', { error: error.message, holder: error.holder })
    this.exit = 'lost'
    this.abort.abort(error)
    this.wake.abort()
  }

  private async run(): Promise<ReaderExit> {
    try {
      await this.loop()
    } catch (e) {
      // The loop handles every AWS error itself; anything else is a bug, and the shard is let go.
      this.log.error('shard reader failed', { error: e })
      this.exit ??= 'stopped'
    }
    const exit = this.exit ?? 'stopped'
    if (exit !== 'lost') await this.checkpoints.close(exit === 'ended')
    this.stats.owned = false
    this.tipTick = undefined
    this.ctx.changed()
    return exit
  }

  private async loop(): Promise<void> {
    let failedAttempts = 0
    let errorAttempts = 0
    while (this.exit === undefined) {
      if (Date.now() > this.leaseExpiresAt) {
        this.log.warn('lease ran out without a renewal; stopped reading the shard', { leaseExpiresAt: this.leaseExpiresAt })
        this.exit = 'expired'
        break
      }
      if (this.iterator.current === undefined) {
        try {
          await this.iterator.fetch(this.abort.signal)
        } catch (e) {
          if (this.exit !== undefined) break
          if (await this.onAwsError(e, 'GetShardIterator', errorAttempts++)) continue
          break
        }
        errorAttempts = 0
        if (this.iterator.current === undefined) {
          this.exit = 'ended'
          break
        }
      }

      await this.sleep(this.pace.nextReadAt(Date.now()) - Date.now())
      if (this.exit !== undefined) break
      this.pace.started(Date.now())
      const tick = this.ctx.tick()
      this.stats.reads++
      let out
      try {
        out = await this.ctx.kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator.current, Limit: this.ctx.batchSize }), {
          abortSignal: this.abort.signal,
        })
      } catch (e) {
        if (this.exit !== undefined) break
        if (errorName(e) === 'ExpiredIteratorException') {
          this.log.debug('shard iterator expired; getting a new one from the last finished record')
          this.iterator.drop()
          continue
        }
        if (await this.onAwsError(e, 'GetRecords', errorAttempts++)) continue
        break
      }
      errorAttempts = 0
      // Told to stop while reading: these records stay for the next owner, unread here.
      if (this.exit !== undefined) break
      const next = out.NextShardIterator ?? undefined
      this.stats.millisBehindLatest = out.MillisBehindLatest
      const records = (out.Records ?? []).map(toShardRecord)

      if (records.length === 0) {
        this.iterator.current = next
        if (next === undefined) {
          this.exit = 'ended'
          break
        }
        // kinesalite always reports 0 behind on an open shard; AWS may return an empty page
        // while behind, so only `0 behind` counts as the tip.
        this.tipTick = (out.MillisBehindLatest ?? 0) === 0 ? tick : undefined
        this.pace.ended(this.tipTick !== undefined)
        this.ctx.changed()
        await this.checkpoints.flush(false)
        if (this.tipTick !== undefined) await this.pace.idle(this.wake.signal)
        continue
      }

      this.tipTick = undefined
      this.pace.ended(false)
      let failedFrom: string | undefined
      for (let i = 0; i < records.length && failedFrom === undefined; i += this.ctx.batchSize) {
        if (i > 0 && this.exit !== undefined) break
        failedFrom = await this.deliver(records.slice(i, i + this.ctx.batchSize))
        if (this.exit === 'lost') return
      }
      if (failedFrom !== undefined) {
        this.iterator.rewind(failedFrom)
        await this.checkpoints.flush(true)
        await this.sleep(backoff(failedAttempts++))
        continue
      }
      failedAttempts = 0
      if (this.exit !== undefined) break
      this.iterator.current = next
      if (next === undefined) {
        this.exit = 'ended'
        break
      }
    }
  }

  /** One handler call. Returns the first unfinished sequence number, or undefined when all are done. */
  private async deliver(records: ShardRecord[]): Promise<string | undefined> {
    const first = records[0]!.sequenceNumber
    let failedFrom: string | undefined
    this.busy = true
    this.stats.batches++
    try {
      const result = await this.ctx.handler({ stream: this.stream, shardId: this.shardId, records, signal: this.abort.signal })
      failedFrom = result?.failedFrom ?? undefined
      if (failedFrom !== undefined && !records.some((r) => r.sequenceNumber === failedFrom)) {
        this.log.error('the handler reported failedFrom, a sequence number not in its batch; the whole batch is retried', {
          failedFrom,
          first,
          last: records.at(-1)!.sequenceNumber,
        })
        failedFrom = first
      }
    } catch (e) {
      this.log.error('the handler threw; the batch is retried', { error: e, first, records: records.length })
      failedFrom = first
    } finally {
      this.busy = false
    }
    if (this.exit === 'lost') return undefined
    const done = failedFrom === undefined ? records.length : records.findIndex((r) => r.sequenceNumber === failedFrom)
    this.stats.records += done
    if (done > 0) {
      const last = records[done - 1]!.sequenceNumber
      this.checkpoints.finished(last)
      this.stats.lastSequenceNumber = last
      this.iterator.finished(last)
    }
    if (failedFrom !== undefined) {
      this.stats.failures++
      return failedFrom
    }
    await this.checkpoints.flush(false)
    return undefined
  }

  /** Handles a failed Kinesis call: true to try again (after a backoff), false when the reader must stop. */
  private async onAwsError(e: unknown, operation: string, attempt: number): Promise<boolean> {
    const code = errorName(e)
    if (code === 'ResourceNotFoundException') {
      this.log.error(`${operation} found no such stream or shard; stopped reading it`, { error: e })
      this.exit = 'gone'
      return false
    }
    if (isThrottle(code)) this.stats.throttles++
    else this.log.warn(`${operation} failed; trying again`, { error: e, attempt: attempt + 1 })
    // An invalid iterator (or one from before a restart of the emulator) is simply fetched again.
    if (code === 'InvalidArgumentException') this.iterator.drop()
    await this.sleep(backoff(attempt))
    return true
  }

  /** Waits `ms`, or less when the reader is told to stop. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.wake.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake.signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake.signal.addEventListener('abort', done)
    })
  }
}
