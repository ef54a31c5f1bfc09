// The shard consumer: how a long-running host (a container, `troupe dev` without Lambda) reads
// Kinesis itself, the way an event source mapping would: every shard of its streams, one batch
// at a time per shard, shards in parallel, with checkpoints and leases in the troupe table so
// that several hosts share the shards and a restarted one resumes where the last one stopped.
//
// - Shards: ListShards every 10 × pollMs (and at once when a shard ends or a lease changes
//   hands). A shard from a reshard is read only once all its listed parents are ended, so a
//   partition key's records come in order across the reshard. This relies on ListShards and
//   ParentShardId alone, since kinesalite does not return ChildShards.
// - Leases: a consumer takes free shards (absent, expired or released leases) up to its share,
//   ceil(open shards / consumers seen), and asks busier owners to hand some over when it has
//   fewer (see dynamodb-leases.ts). Leases are renewed every leaseMs / 3; a renew or checkpoint
//   that finds the lease taken stops that shard at once.
// - Children of a shard that was read start at their oldest record whatever the starting
//   position, or the records written between the split and their start would be skipped.
// - `idle()` is for tests and `settle`: it waits until records put before the call are read,
//   which takes a shard listing and, for every owned shard, a read at the tip, both begun after
//   the call. A shard that is closed counts only once read to its end and its children too.

import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { ListShardsCommand, type KinesisClient, type ListShardsCommandOutput, type Shard } from '@aws-sdk/client-kinesis'
import { ConfigError, TroupeError } from '../core/errors.js'
import { createLogger, type Logger } from '../core/logger.js'
import { LeaseLostError, type DynamoDBLeaseStore, type Lease } from '../store/dynamodb-leases.js'
import { ShardReader, type ReaderContext, type ShardHandler, type ShardStats, type StartingPosition } from './shard-reader.js'

export type {
  ShardBatch,
  ShardHandler,
  ShardHandlerResult,
  ShardRecord,
  ShardStats,
  StartingPosition,
} from './shard-reader.js'

export interface ShardConsumerOptions {
  kinesis: KinesisClient
  /** Leases and checkpoints; every consumer of the same streams must share the table. */
  leases: DynamoDBLeaseStore
  /** Stream names (kinesalite does not take ARNs). */
  streams: string[]
  /** Gets each batch; must be idempotent (see ShardHandler). */
  handler: ShardHandler
  /** This consumer's name in the leases; unique per process. @default `<hostname>#<pid>#<random>` */
  owner?: string
  /** How long a lease lasts without renewal; a dead consumer's shards wait this long. @default 30_000 */
  leaseMs?: number
  /** Wait between reads of a shard with nothing new (never less than Kinesis's 200 ms per read). @default 1000 */
  pollMs?: number
  /** Records per GetRecords and at most per handler call (1–10,000). @default 1000 */
  batchSize?: number
  /** Where to start a shard that has no checkpoint. @default 'TRIM_HORIZON' */
  startingPosition?: StartingPosition
  /**
   * Least time between checkpoint writes of a shard; 0 writes one after every batch. Longer saves
   * writes, at the price of redelivering up to that much after a crash.
   * @default 0
   */
  checkpointEveryMs?: number
  logger?: Logger
}

export interface IdleOptions {
  /** Reject with a TroupeError naming the shards not caught up after this long. @default no limit */
  timeoutMs?: number
}

/** How each listed shard stood at the last listing. */
type ShardStatus = 'ended' | 'blocked' | 'other' | 'mine' | 'free'

interface ListedShard {
  stream: string
  shardId: string
  status: ShardStatus
  /** Closed by a reshard: it has an ending sequence number. */
  closed: boolean
}

interface Listing {
  /** Tick when the listing began. */
  tick: number
  /** Every stream listed and its leases read. */
  complete: boolean
  shards: ListedShard[]
  problems: string[]
}

interface IdleWaiter {
  mark: number
  resolve: () => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout | undefined
}

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

  private readonly kinesis: KinesisClient
  private readonly leases: DynamoDBLeaseStore
  private readonly streams: string[]
  private readonly leaseMs: number
  private readonly pollMs: number
  private readonly startingPosition: StartingPosition
  private readonly logger: Logger
  private readonly readerContext: ReaderContext

  private readonly readers = new Map<string, ShardReader>()
  private readonly shardStats = new Map<string, ShardStats>()
  private readonly waiters = new Set<IdleWaiter>()
  private clock = 0
  private listing: Listing | undefined
  /** Tick of the last change a new listing must see (a shard ended, a lease went away). */
  private changedTick = 0
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new'
  private loops: Promise<void>[] = []
  private refreshWake: (() => void) | undefined
  private refreshAgain = false
  private renewWake: (() => void) | undefined
  private stopped: Promise<void> | undefined

  constructor(options: ShardConsumerOptions) {
    if (!options?.kinesis) throw new ConfigError('ShardConsumerOptions.kinesis must be a KinesisClient')
    if (!options.leases) throw new ConfigError('ShardConsumerOptions.leases must be a DynamoDBLeaseStore')
    if (typeof options.handler !== 'function') throw new ConfigError('ShardConsumerOptions.handler must be a function')
    if (!Array.isArray(options.streams) || options.streams.length === 0 || !options.streams.every((s) => typeof s === 'string' && /^[a-zA-Z0-9_.-]{1,128}$/.test(s))) {
      throw new ConfigError(`ShardConsumerOptions.streams must be stream names (1-128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(options.streams)}`)
    }
    const owner = options.owner ?? `${hostname()}#${process.pid}#${randomBytes(4).toString('hex')}`
    if (typeof owner !== 'string' || owner.length === 0) throw new ConfigError(`ShardConsumerOptions.owner must be a non-empty string, got ${JSON.stringify(owner)}`)
    const startingPosition = options.startingPosition ?? 'TRIM_HORIZON'
    if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') {
      throw new ConfigError(`ShardConsumerOptions.startingPosition must be 'TRIM_HORIZON' or 'LATEST', got ${JSON.stringify(startingPosition)}`)
    }
    this.owner = owner
    this.kinesis = options.kinesis
    this.leases = options.leases
    this.streams = [...new Set(options.streams)]
    this.leaseMs = int(options.leaseMs, 30_000, 100, 86_400_000, 'leaseMs')
    this.pollMs = int(options.pollMs, 1_000, 0, 600_000, 'pollMs')
    this.startingPosition = startingPosition
    this.logger = (options.logger ?? createLogger('info')).child({ component: 'shardConsumer', owner })
    this.readerContext = {
      kinesis: this.kinesis,
      leases: this.leases,
      handler: options.handler,
      owner,
      logger: this.logger,
      batchSize: int(options.batchSize, 1_000, 1, 10_000, 'batchSize'),
      pollMs: this.pollMs,
      checkpointEveryMs: int(options.checkpointEveryMs, 0, 0, 86_400_000, 'checkpointEveryMs'),
      tick: () => ++this.clock,
      changed: () => this.checkIdle(),
    }
  }

  /** Starts reading. Resolves once the first listing has taken the shards that were free. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new TroupeError('TROUPE_CONSUMER_STATE', `shard consumer ${this.owner} was already started`)
    this.state = 'running'
    let first!: () => void
    const listed = new Promise<void>((resolve) => (first = resolve))
    this.loops = [this.refreshLoop(first), this.renewLoop()]
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
    return new Promise<void>((resolve, reject) => {
      const waiter: IdleWaiter = { mark, resolve, reject, timer: undefined }
      if (options.timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new TroupeError('TROUPE_CONSUMER_NOT_IDLE', `shard consumer ${this.owner} did not catch up within ${options.timeoutMs} ms: ${this.notIdle(mark).join('; ')}`))
        }, options.timeoutMs)
      }
      this.waiters.add(waiter)
      // A fresh listing is part of the answer; ask for one now rather than at the next period.
      this.wakeRefresh()
    })
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
      this.checkIdle()
      if (this.refreshAgain || this.state !== 'running') continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REFRESH_POLLS * Math.max(this.pollMs, 20))
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

  private async refresh(): Promise<void> {
    const tick = ++this.clock
    const problems: string[] = []
    const views: { stream: string; shards: Shard[]; leases: Map<string, Lease> }[] = []
    for (const stream of this.streams) {
      try {
        const shards = await this.listShards(stream)
        const leases = await this.leases.getMany(stream, shards.map((s) => s.ShardId!))
        views.push({ stream, shards, leases })
      } catch (e) {
        problems.push(`${stream}: ${errorText(e)}`)
        this.logger.warn('could not list the shards of a stream or read their leases', { stream, error: e })
      }
    }
    const now = Date.now()
    const live = (l: Lease | undefined): l is Lease => l !== undefined && l.owner !== undefined && !l.ended && l.expiresAt >= now
    const wantedByOther = (l: Lease | undefined) => l?.wantedBy !== undefined && l.wantedBy !== this.owner && (l.wantedUntil ?? 0) > now

    const load = new Map<string, number>([[this.owner, 0]])
    const listed: ListedShard[] = []
    const free: { stream: string; shard: Shard; parents: string[]; lease: Lease | undefined; leases: Map<string, Lease> }[] = []
    const othersShards: { stream: string; shardId: string; owner: string; lease: Lease }[] = []
    for (const { stream, shards, leases } of views) {
      const ids = new Set(shards.map((s) => s.ShardId!))
      for (const shard of shards) {
        const shardId = shard.ShardId!
        const lease = leases.get(shardId)
        // A parent no longer listed is past retention: nothing of it is left to read first.
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && ids.has(p))
        const reader = this.readers.get(key(stream, shardId))
        const entry: ListedShard = { stream, shardId, status: 'free', closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined }
        listed.push(entry)
        if (lease?.wantedBy !== undefined && wantedByOther(lease) && !load.has(lease.wantedBy)) load.set(lease.wantedBy, 0)
        if (lease?.ended) entry.status = 'ended'
        else if (!parents.every((p) => leases.get(p)?.ended)) entry.status = 'blocked'
        else if (reader && !reader.stopping) {
          if (lease && lease.owner !== this.owner) {
            reader.lose(new LeaseLostError(stream, shardId, this.owner, lease.owner, 'listing'))
            entry.status = 'other'
          } else {
            entry.status = 'mine'
            load.set(this.owner, load.get(this.owner)! + 1)
          }
        } else if (reader) entry.status = 'mine' // handing over or stopping: not free until it released
        else if (live(lease) && lease.owner !== this.owner) {
          entry.status = 'other'
          load.set(lease.owner!, (load.get(lease.owner!) ?? 0) + 1)
          othersShards.push({ stream, shardId, owner: lease.owner!, lease })
        } else free.push({ stream, shard, parents, lease, leases })
      }
    }

    const open = listed.filter((s) => s.status === 'mine' || s.status === 'other' || s.status === 'free').length
    const share = Math.ceil(open / load.size)
    let mine = load.get(this.owner)!
    for (const f of free) {
      const shardId = f.shard.ShardId!
      const entry = listed.find((s) => s.stream === f.stream && s.shardId === shardId)!
      if (mine >= share || this.state !== 'running' || wantedByOther(f.lease)) continue
      const taken = await this.take(f.stream, f.shard, f.parents, f.leases)
      entry.status = taken
      if (taken === 'mine') mine++
    }

    // Short of a share while others hold more: ask the busiest for shards, one request each.
    let missing = share - mine - othersShards.filter((s) => s.lease.wantedBy === this.owner && (s.lease.wantedUntil ?? 0) > now).length
    if (missing > 0 && this.state === 'running') {
      for (const s of othersShards.sort((a, b) => load.get(b.owner)! - load.get(a.owner)!)) {
        if (missing <= 0) break
        if (load.get(s.owner)! <= share || wantedByOther(s.lease) || s.lease.wantedBy === this.owner) continue
        try {
          if (await this.leases.requestHandOver(s.stream, s.shardId, this.owner, s.owner, now + this.leaseMs, now)) {
            this.logger.info('asked for a shard', { stream: s.stream, shardId: s.shardId, holder: s.owner, share })
            load.set(s.owner, load.get(s.owner)! - 1)
            missing--
          }
        } catch (e) {
          this.logger.warn('asking for a shard failed', { stream: s.stream, shardId: s.shardId, holder: s.owner, error: e })
        }
      }
    }
    this.listing = { tick, complete: problems.length === 0, shards: listed, problems }
  }

  /** Takes one free shard's lease and starts reading it. Returns the shard's status after trying. */
  private async take(stream: string, shard: Shard, parents: string[], leases: Map<string, Lease>): Promise<ShardStatus> {
    const shardId = shard.ShardId!
    let lease: Lease | undefined
    try {
      lease = await this.leases.acquire(stream, shardId, this.owner, this.leaseMs, Date.now(), parents)
    } catch (e) {
      this.logger.warn('taking a lease failed', { stream, shardId, error: e })
      return 'free'
    }
    if (!lease) return 'other'
    if (lease.ended) {
      await this.leases.release(stream, shardId, this.owner).catch(() => false)
      return 'ended'
    }
    if (this.state !== 'running') {
      await this.leases.release(stream, shardId, this.owner).catch(() => false)
      return 'free'
    }
    // Without a checkpoint: the oldest record when a parent was read (its children's records
    // follow it), else the configured position.
    const start: StartingPosition = parents.some((p) => leases.get(p)?.checkpoint !== undefined) ? 'TRIM_HORIZON' : this.startingPosition
    const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined
    if (lease.checkpoint === undefined && start === 'LATEST' && closed) {
      // Nothing comes after LATEST on a closed shard: end it unread so its children can start.
      try {
        await this.leases.markEnded(stream, shardId, this.owner, { read: false })
        return 'ended'
      } catch (e) {
        this.logger.warn('ending a closed shard skipped by LATEST failed', { stream, shardId, error: e })
        return 'free'
      }
    }
    const k = key(stream, shardId)
    let stats = this.shardStats.get(k)
    if (!stats) {
      stats = { stream, shardId, owned: true, records: 0, batches: 0, failures: 0, lastSequenceNumber: undefined, checkpoint: undefined, millisBehindLatest: undefined, reads: 0, throttles: 0, ended: false }
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
      this.checkIdle()
    })
    return 'mine'
  }

  private async listShards(stream: string): Promise<Shard[]> {
    const shards: Shard[] = []
    let token: string | undefined
    do {
      const out: ListShardsCommandOutput = await this.kinesis.send(new ListShardsCommand(token === undefined ? { StreamName: stream } : { NextToken: token }))
      shards.push(...(out.Shards ?? []))
      token = out.NextToken ?? undefined
    } while (token !== undefined)
    return shards
  }

  // ——— leases ———

  private async renewLoop(): Promise<void> {
    const every = Math.max(1, Math.floor(this.leaseMs / 3))
    while (!this.is('stopped')) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, every)
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.renewWake = done
      })
      this.renewWake = undefined
      if (this.is('stopped')) break
      await Promise.all([...this.readers.values()].map((r) => this.renew(r)))
    }
  }

  private async renew(reader: ShardReader): Promise<void> {
    const { stream, shardId } = reader
    try {
      const now = Date.now()
      const lease = await this.leases.renew(stream, shardId, this.owner, this.leaseMs, now)
      reader.leaseRenewed(lease.expiresAt)
      if (lease.wantedBy !== undefined && lease.wantedBy !== this.owner && (lease.wantedUntil ?? 0) > now && !reader.stopping && this.state === 'running') {
        this.logger.info('handing a shard over', { stream, shardId, to: lease.wantedBy })
        void reader.stop('handedOver')
      }
    } catch (e) {
      // A stopping reader may have released its lease while this renew was on its way.
      if (e instanceof LeaseLostError) {
        if (!(reader.stopping && e.holder === this.owner)) reader.lose(e)
      } else this.logger.warn('renewing a lease failed; trying again', { stream, shardId, error: e })
    }
  }

  /** The state, read through a call so that checks after an await are not narrowed away. */
  private is(state: ShardConsumer['state']): boolean {
    return this.state === state
  }

  // ——— idle ———

  private checkIdle(): void {
    if (this.waiters.size === 0) return
    for (const w of [...this.waiters]) {
      if (this.notIdle(w.mark).length > 0) continue
      this.waiters.delete(w)
      clearTimeout(w.timer)
      w.resolve()
    }
  }

  /** What keeps the consumer from being idle for a call made at `mark`; empty when it is. */
  private notIdle(mark: number): string[] {
    const l = this.listing
    if (!l || l.tick <= mark) return ['no shard listing since the call yet']
    if (!l.complete) return l.problems
    if (this.changedTick > l.tick) return ['a shard ended or changed hands since the last listing']
    const why: string[] = []
    for (const s of l.shards) {
      const name = `${s.stream}/${s.shardId}`
      if (s.status === 'free') why.push(`${name}: free, not taken yet`)
      if (s.status !== 'mine') continue
      const reader = this.readers.get(key(s.stream, s.shardId))
      if (!reader) why.push(`${name}: stopped reading`)
      else if (s.closed) why.push(`${name}: closed, not read to its end yet`)
      else if (!reader.caughtUpSince(mark)) why.push(`${name}: ${reader.describe()}`)
    }
    return why
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
    this.renewWake?.()
    await this.loops[1]
    for (const w of this.waiters) {
      clearTimeout(w.timer)
      w.reject(new TroupeError('TROUPE_CONSUMER_STATE', `shard consumer ${this.owner} stopped before it was idle`))
    }
    this.waiters.clear()
  }
}

function key(stream: string, shardId: string): string {
  return `${stream}/${shardId}`
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)
}

function int(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`ShardConsumerOptions.${name} must be a whole number from ${min} to ${max}, got ${value}`)
  }
  return value
}
