// One shard, read by one consumer while it holds the shard's lease: GetRecords in a loop, one
// batch at a time into the handler, checkpoints after what it finished, and the shard's end.
//
// - Position: after the checkpoint, else the starting position; after a failure, AT the first
//   unfinished record, so exactly the unfinished tail comes again (the handler is idempotent).
// - Pace: at most one GetRecords per READ_INTERVAL_MS, under Kinesis's 5 reads/s per shard
//   that every consumer of the shard shares; an idle shard is read every `pollMs`.
// - Throttles (ProvisionedThroughputExceeded, LimitExceeded) and transient errors back off
//   (full jitter, 100 ms → 5 s) and try again, forever: a shard is never given up for a hiccup.
// - An expired iterator (5 minutes unused, e.g. behind a slow handler) is fetched again from the
//   last finished record, so nothing is skipped or repeated.
// - Lease: the reader stops the moment a lease write says another consumer holds the shard, and
//   also when its own lease has run out without a renewal (someone may have taken it since).
//   A lost lease writes nothing more; any other stop writes the last checkpoint and releases.
// - End: a closed shard (after a reshard) is done when GetRecords returns no next iterator; it is
//   then marked ended, which is what lets the consumer start its children.

import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis'
import type { Logger } from '../core/logger.js'
import { LeaseLostError, type DynamoDBLeaseStore } from '../store/dynamodb-leases.js'

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

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST'

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

/** Kinesis allows 5 GetRecords per second per shard, shared by all its consumers. */
export const READ_INTERVAL_MS = 200
const BACKOFF_BASE_MS = 100
const BACKOFF_MAX_MS = 5_000
const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'ThrottlingException', 'KMSThrottlingException'])

type Position = { type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string } | { type: StartingPosition }

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
  private position: Position
  private iterator: string | undefined
  private leaseExpiresAt: number
  private checkpointed: string | undefined
  private pending: string | undefined
  private lastCheckpointAt = 0
  private lastReadAt = 0
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
    this.checkpointed = init.checkpoint
    this.position = init.checkpoint === undefined ? { type: init.start } : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: init.checkpoint }
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
    await this.finish(exit)
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
      if (this.iterator === undefined) {
        try {
          this.iterator = await this.getIterator()
        } catch (e) {
          if (this.exit !== undefined) break
          if (await this.onAwsError(e, 'GetShardIterator', errorAttempts++)) continue
          break
        }
        errorAttempts = 0
        if (this.iterator === undefined) {
          this.exit = 'ended'
          break
        }
      }

      await this.sleep(this.lastReadAt + READ_INTERVAL_MS - Date.now())
      if (this.exit !== undefined) break
      this.lastReadAt = Date.now()
      const tick = this.ctx.tick()
      this.stats.reads++
      let out
      try {
        out = await this.ctx.kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: this.ctx.batchSize }), {
          abortSignal: this.abort.signal,
        })
      } catch (e) {
        if (this.exit !== undefined) break
        if (name(e) === 'ExpiredIteratorException') {
          this.log.debug('shard iterator expired; getting a new one from the last finished record')
          this.iterator = undefined
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
        this.iterator = next
        if (next === undefined) {
          this.exit = 'ended'
          break
        }
        // kinesalite always reports 0 behind on an open shard; AWS may return an empty page
        // while behind, so only `0 behind` counts as the tip.
        this.tipTick = (out.MillisBehindLatest ?? 0) === 0 ? tick : undefined
        this.ctx.changed()
        await this.flushCheckpoint(false)
        if (this.tipTick !== undefined) await this.sleep(this.ctx.pollMs)
        continue
      }

      this.tipTick = undefined
      let failedFrom: string | undefined
      for (let i = 0; i < records.length && failedFrom === undefined; i += this.ctx.batchSize) {
        if (i > 0 && this.exit !== undefined) break
        failedFrom = await this.deliver(records.slice(i, i + this.ctx.batchSize))
        if (this.exit === 'lost') return
      }
      if (failedFrom !== undefined) {
        this.position = { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: failedFrom }
        this.iterator = undefined
        await this.flushCheckpoint(true)
        await this.sleep(backoff(failedAttempts++))
        continue
      }
      failedAttempts = 0
      if (this.exit !== undefined) break
      this.iterator = next
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
      this.pending = last
      this.stats.lastSequenceNumber = last
      this.position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: last }
    }
    if (failedFrom !== undefined) {
      this.stats.failures++
      return failedFrom
    }
    await this.flushCheckpoint(false)
    return undefined
  }

  /** Writes the pending checkpoint when due (or `force`). A lost lease stops the reader; other errors wait for the next try. */
  private async flushCheckpoint(force: boolean): Promise<void> {
    const sequenceNumber = this.pending
    if (sequenceNumber === undefined || sequenceNumber === this.checkpointed || this.exit === 'lost') return
    if (!force && this.ctx.checkpointEveryMs > 0 && Date.now() - this.lastCheckpointAt < this.ctx.checkpointEveryMs) return
    try {
      await this.ctx.leases.checkpoint(this.stream, this.shardId, this.ctx.owner, sequenceNumber)
      this.checkpointed = sequenceNumber
      this.stats.checkpoint = sequenceNumber
      this.lastCheckpointAt = Date.now()
    } catch (e) {
      if (e instanceof LeaseLostError) this.lose(e)
      else this.log.warn('checkpoint failed; it is written with the next one', { error: e, sequenceNumber })
    }
  }

  /** Handles a failed Kinesis call: true to try again (after a backoff), false when the reader must stop. */
  private async onAwsError(e: unknown, operation: string, attempt: number): Promise<boolean> {
    const code = name(e)
    if (code === 'ResourceNotFoundException') {
      this.log.error(`${operation} found no such stream or shard; stopped reading it`, { error: e })
      this.exit = 'gone'
      return false
    }
    if (THROTTLES.has(code)) this.stats.throttles++
    else this.log.warn(`${operation} failed; trying again`, { error: e, attempt: attempt + 1 })
    // An invalid iterator (or one from before a restart of the emulator) is simply fetched again.
    if (code === 'InvalidArgumentException') this.iterator = undefined
    await this.sleep(backoff(attempt))
    return true
  }

  private async getIterator(): Promise<string | undefined> {
    const p = this.position
    const input: GetShardIteratorCommandInput = { StreamName: this.stream, ShardId: this.shardId, ShardIteratorType: p.type }
    if ('sequenceNumber' in p) input.StartingSequenceNumber = p.sequenceNumber
    const out = await this.ctx.kinesis.send(new GetShardIteratorCommand(input), { abortSignal: this.abort.signal })
    return out.ShardIterator ?? undefined
  }

  private async finish(exit: ReaderExit): Promise<void> {
    const { leases, owner } = this.ctx
    const write = async (what: string, op: () => Promise<unknown>) => {
      try {
        await op()
      } catch (e) {
        if (e instanceof LeaseLostError) this.log.warn(`${what} skipped: the lease is someone else's now`, { holder: e.holder })
        else this.log.warn(`${what} failed`, { error: e })
      }
    }
    if (exit === 'lost') return
    if (this.pending !== undefined && this.pending !== this.checkpointed) {
      await write('last checkpoint', async () => {
        await leases.checkpoint(this.stream, this.shardId, owner, this.pending!)
        this.checkpointed = this.pending
        this.stats.checkpoint = this.pending
      })
    }
    if (exit === 'ended') {
      await write('marking the shard ended', () => leases.markEnded(this.stream, this.shardId, owner))
      this.stats.ended = true
      this.log.info('shard read to its end')
    } else {
      await write('release', () => leases.release(this.stream, this.shardId, owner))
    }
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

/** Full jitter: a random delay up to min(5 s, 100 ms × 2^attempt). */
function backoff(attempt: number): number {
  return Math.floor(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 20)))
}

function toShardRecord(r: _Record): ShardRecord {
  const at = r.ApproximateArrivalTimestamp
  return {
    sequenceNumber: r.SequenceNumber!,
    partitionKey: r.PartitionKey!,
    data: r.Data ?? new Uint8Array(0),
    approximateArrivalTimestamp: at instanceof Date ? at.getTime() : typeof at === 'number' ? at * 1000 : 0,
  }
}

function name(e: unknown): string {
  return typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : ''
}
