// The shard consumer: how a long-running host (a container, `troupe dev` without Lambda) reads
// Kinesis itself, the way an event source mapping would: every shard of its streams, one batch
// at a time per shard, shards in parallel, with checkpoints and leases in the troupe table so
// that several hosts share the shards and a restarted one resumes where the last one stopped.
//
// - Shards: ListShards every 10 × pollMs (and at once when a shard ends or a lease changes
//   hands). A shard from a reshard is read only once all its listed parents are ended, so a
//   partition key's records come in order across the reshard.
// - Leases: a consumer takes free shards (absent, expired or released leases) up to its share,
//   ceil(open shards / consumers seen), and asks busier owners to hand some over when it has
//   fewer (see dynamodb-leases.ts). Leases are renewed every leaseMs / 3; a renew or checkpoint
//   that finds the lease taken stops that shard at once.
// - Children of a shard that was read start at their oldest record whatever the starting
//   position, or the records written between the split and their start would be skipped.
// - `idle()` is for tests and `settle`: it waits until records put before the call are read.
//
// The pieces, each in a file of its own (this one runs the listing loop, takes shards and stops):
//   shard-consumer-options.ts  the options, checked, with their defaults
//   shard-listing.ts           a listing: the shards and their leases, and how each stands
//   shard-share.ts             a consumer's share, and asking busier owners for shards
//   shard-lease-renewal.ts     renewing the leases of the shards read here, handing one over
//   shard-consumer-idle.ts     `idle()`: what keeps the consumer from being caught up
//   shard-reader.ts            one shard read while its lease lasts (with shard-iterator.ts,
//                              shard-checkpoints.ts, shard-read-backoff.ts)
//   shard-batch.ts             what the handler gets and answers
//   shard-stats.ts             what the consumer did with each shard

import type { Shard } from '@aws-sdk/client-kinesis'
import { TroupeError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { Lease } from '../store/dynamodb-leases.js'
import { consumerSettings, type ConsumerSettings, type ShardConsumerOptions } from './shard-consumer-options.js'
import { IdleWaiters, notIdle, type IdleOptions } from './shard-consumer-idle.js'
import { LeaseRenewal } from './shard-lease-renewal.js'
import { readStreams, survey, wantedByOther, type Listing, type ShardStatus } from './shard-listing.js'
import { ShardReader, type ReaderContext } from './shard-reader.js'
import { askForShards, shareOf } from './shard-share.js'
import { newShardStats, type ShardStats } from './shard-stats.js'
import type { StartingPosition } from './shard-iterator.js'

export type { ShardConsumerOptions } from './shard-consumer-options.js'
export type { IdleOptions } from './shard-consumer-idle.js'
export type { ShardBatch, ShardHandler, ShardHandlerResult, ShardRecord } from './shard-batch.js'
export type { ShardStats } from './shard-stats.js'
export type { StartingPosition } from './shard-iterator.js'

const REFRESH_POLLS = 10

/**
 * Reads every shard of `streams` and feeds batches to `handler`, sharing the shards with other
 * consumers of the same lease table.
 *
 * @example
 * const consumer = new ShardConsumer({
 *   kinesis, leases: new DynamoDBLeaseStore({ client: dynamodb, tableName: 'troupe' }), streams: ['troupe'],
 *   handler: async ({ records }) => { for (const r of records) await handle(r) },
 * })
 * await consumer.start()
 * process.on('SIGTERM', () => consumer.stop())
 */
export class ShardConsumer {
  readonly owner: string

  private readonly settings: ConsumerSettings
  private readonly logger: Logger
  private readonly readerContext: ReaderContext
  private readonly renewal: LeaseRenewal
  private readonly waiters: IdleWaiters

  private readonly readers = new Map<string, ShardReader>()
  private readonly shardStats = new Map<string, ShardStats>()
  private clock = 0
  private listing: Listing | undefined
  /** Tick of the last change a new listing must see (a shard ended, a lease went away). */
  private changedTick = 0
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new'
  private loops: Promise<void>[] = []
  private refreshWake: (() => void) | undefined
  private refreshAgain = false
  private stopped: Promise<void> | undefined

  constructor(options: ShardConsumerOptions) {
    const settings = consumerSettings(options)
    this.settings = settings
    this.owner = settings.owner
    this.logger = settings.logger
    this.readerContext = {
      kinesis: settings.kinesis,
      leases: settings.leases,
      handler: settings.handler,
      owner: settings.owner,
      logger: settings.logger,
      batchSize: settings.batchSize,
      pollMs: settings.pollMs,
      checkpointEveryMs: settings.checkpointEveryMs,
      tick: () => ++this.clock,
      changed: () => this.waiters.check(),
    }
    this.renewal = new LeaseRenewal(settings, {
      readers: () => this.readers.values(),
      running: () => this.state === 'running',
      stopped: () => this.state === 'stopped',
    })
    this.waiters = new IdleWaiters(settings.owner, (mark) => notIdle(mark, this.listing, this.changedTick, (stream, shardId) => this.readerOf(stream, shardId)))
  }

  /** Starts reading. Resolves once the first listing has taken the shards that were free. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new TroupeError('TROUPE_CONSUMER_STATE', `shard consumer ${this.owner} was already started`)
    this.state = 'running'
    let first!: () => void
    const listed = new Promise<void>((resolve) => (first = resolve))
    this.loops = [this.refreshLoop(first), this.renewal.loop()]
    await listed
  }

  /**
   * Stops: takes no more shards, lets each batch in flight finish, writes the last checkpoints
   * and releases the leases so other consumers take over at once.
   */
  stop(): Promise<void> {
    return (this.stopped ??= this.shutdown())
  }

  /**
   * Resolves when everything put on the streams before the call has been through the handler
   * (as far as this consumer's shards go) and no batch is running. Meant for tests and settling.
   */
  idle(options: IdleOptions = {}): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new TroupeError('TROUPE_CONSUMER_STATE', `shard consumer ${this.owner} is ${this.state}, not running`))
    const mark = ++this.clock
    const idle = this.waiters.wait(mark, options)
    // A fresh listing and a read of each shard after the call are part of the answer: ask for
    // them now rather than at the next period and poll.
    this.wakeRefresh()
    for (const reader of this.readers.values()) reader.nudge()
    return idle
  }

  /** Per shard this consumer has read since it started. */
  stats(): ShardStats[] {
    return [...this.shardStats.values()].map((s) => ({ ...s }))
  }

  /** `stream/shardId` of the shards this consumer reads now. */
  owned(): string[] {
    return [...this.readers.values()].filter((r) => !r.stopping).map((r) => `${r.stream}/${r.shardId}`).sort()
  }

  // ——— listing and taking shards ———

  private async refreshLoop(first: () => void): Promise<void> {
    while (this.state === 'running') {
      this.refreshAgain = false
      try {
        await this.refresh()
      } catch (e) {
        this.logger.error('listing shards failed', { error: e })
      }
      first()
      this.waiters.check()
      if (this.refreshAgain || this.state !== 'running') continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REFRESH_POLLS * Math.max(this.settings.pollMs, 20))
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.refreshWake = done
      })
      this.refreshWake = undefined
    }
  }

  private wakeRefresh(): void {
    this.refreshAgain = true
    this.refreshWake?.()
  }

  /** One listing: takes free shards up to this consumer's share, then asks for more when short. */
  private async refresh(): Promise<void> {
    const tick = ++this.clock
    const { kinesis, leases, streams } = this.settings
    const { views, problems } = await readStreams(kinesis, leases, streams, this.logger)
    const now = Date.now()
    const { listed, free, held, load } = survey(views, this.owner, (stream, shardId) => this.readerOf(stream, shardId), now)
    const share = shareOf(listed, load)
    let mine = load.get(this.owner)!
    for (const f of free) {
      if (mine >= share || this.state !== 'running' || wantedByOther(f.lease, this.owner, now)) continue
      const taken = await this.take(f.stream, f.shard, f.parents, f.leases)
      f.entry.status = taken
      if (taken === 'mine') mine++
    }
    if (this.state === 'running') await askForShards(this.settings, held, load, share, mine, now)
    this.listing = { tick, complete: problems.length === 0, shards: listed, problems }
  }

  /** Takes one free shard's lease and starts reading it. Returns the shard's status after trying. */
  private async take(stream: string, shard: Shard, parents: string[], leases: Map<string, Lease>): Promise<ShardStatus> {
    const { leases: store, owner, leaseMs, startingPosition } = this.settings
    const shardId = shard.ShardId!
    let lease: Lease | undefined
    try {
      lease = await store.acquire(stream, shardId, owner, leaseMs, Date.now(), parents)
    } catch (e) {
      this.logger.warn('taking a lease failed', { stream, shardId, error: e })
      return 'free'
    }
    if (!lease) return 'other'
    if (lease.ended) {
      await store.release(stream, shardId, owner).catch(() => false)
      return 'ended'
    }
    if (this.state !== 'running') {
      await store.release(stream, shardId, owner).catch(() => false)
      return 'free'
    }
    // Without a checkpoint: the oldest record when a parent was read (its children's records
    // follow it), else the configured position.
    const start: StartingPosition = parents.some((p) => leases.get(p)?.checkpoint !== undefined) ? 'TRIM_HORIZON' : startingPosition
    const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined
    if (lease.checkpoint === undefined && start === 'LATEST' && closed) {
      // Nothing comes after LATEST on a closed shard: end it unread so its children can start.
      try {
        await store.markEnded(stream, shardId, owner, { read: false })
        return 'ended'
      } catch (e) {
        this.logger.warn('ending a closed shard skipped by LATEST failed', { stream, shardId, error: e })
        return 'free'
      }
    }
    const k = key(stream, shardId)
    let stats = this.shardStats.get(k)
    if (!stats) {
      stats = newShardStats(stream, shardId)
      this.shardStats.set(k, stats)
    }
    const reader = new ShardReader(this.readerContext, { stream, shardId, checkpoint: lease.checkpoint, start, leaseExpiresAt: lease.expiresAt, stats })
    this.readers.set(k, reader)
    this.logger.info('reading a shard', { stream, shardId, checkpoint: lease.checkpoint, start: lease.checkpoint === undefined ? start : 'AFTER_SEQUENCE_NUMBER' })
    void reader.done.then((exit) => {
      if (this.readers.get(k) === reader) this.readers.delete(k)
      this.logger.debug('stopped reading a shard', { stream, shardId, exit })
      this.changedTick = ++this.clock
      if (this.state === 'running') this.wakeRefresh()
      this.waiters.check()
    })
    return 'mine'
  }

  /** This process just put a record on a shard: its reader, when it is this consumer's, reads it now. */
  nudge(stream: string, shardId: string): void {
    this.readerOf(stream, shardId)?.nudge()
  }

  private readerOf(stream: string, shardId: string): ShardReader | undefined {
    return this.readers.get(key(stream, shardId))
  }

  // ——— stopping ———

  private async shutdown(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    this.refreshWake?.()
    await this.loops[0]
    // Renewals go on while the last batches finish, so their leases stay valid.
    await Promise.all([...this.readers.values()].map((r) => r.stop('stopped')))
    this.state = 'stopped'
    this.renewal.wake()
    await this.loops[1]
    this.waiters.rejectAll()
  }
}

function key(stream: string, shardId: string): string {
  return `${stream}/${shardId}`
}
