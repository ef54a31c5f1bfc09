// The Lambda event source mapping for Kinesis, run locally: reads every shard of a stream on
// the local Kinesis and invokes a LocalFunction with batches shaped and retried exactly as
// AWS does (AWS-SEMANTICS.md §1-§2), so a local run meets the failures a deployed one meets.
//
// Per shard, one reader (GetRecords in a loop) fills one lane, or `parallelizationFactor`
// lanes keyed by md5(partitionKey) mod N. Each lane has at most one batch in flight and keeps
// its records in order from its checkpoint:
//
// - a batch is at most `batchSize` records and 6 MB of event; with a batching window, the lane
//   waits for a full batch until the window (started when the previous invoke ended) closes;
// - success (any return value unless the mapping was made with `functionResponseTypes:
//   ['ReportBatchItemFailures']`; with it: null, {}, an empty or null list) checkpoints past the
//   whole batch. As on AWS, partial batch responses are off by default: a mapping made without
//   the option reads a `batchItemFailures` answer as success;
// - with ReportBatchItemFailures, a partial batch response checkpoints before the lowest
//   `itemIdentifier` (compared as BigInt) and the rest is delivered again; an identifier that is
//   empty, not a string, under a misspelled key, or not a sequence number of this batch fails
//   the whole batch (logged);
// - a function error (throw, crash, timeout, oversized response) fails the whole batch;
// - every failed response counts one attempt of the unit being retried; past
//   `maximumRetryAttempts` (N retries = N+1 attempts) the unit is discarded, an on-failure
//   record (§2.4) goes to `onFailure`, and the lane moves on;
// - with `bisectBatchOnFunctionError`, a failed batch of more than one record is split in two
//   halves, delivered in order, each with its own attempt count (a split counts no attempt);
//   a partial response splits at the reported record, and only the rest is retried;
// - records older than `maximumRecordAgeInSeconds` (-1, or 60 to 604,800 as AWS takes) are
//   discarded before a delivery (condition RecordAgeExceeded);
// - errors before the function runs (it could not be invoked) are retried without counting.
//
// Checkpoints live in memory unless a store is given: a new mapping starts at
// `startingPosition`, as a new AWS mapping would.
//
// This file lists and reads the shards (a child after its parent), decides when each lane
// delivers (backoff, batching window), ticks, and waits for idle. One delivery and what its
// outcome does (retries, bisect, discards) is batch-delivery.ts; the options and their checks
// are mapping-options.ts; a shard's and a lane's state, mapping-shard.ts and mapping-lane.ts.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetShardIteratorCommandInput,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis'
import { ConfigError } from '../core/errors.js'
import { BatchDelivery } from './batch-delivery.js'
import { MAX_SYNC_PAYLOAD_BYTES } from './invoke-result.js'
import { EVENT_OVERHEAD, eventRecord } from './kinesis-event-record.js'
import { Checkpoints } from './mapping-checkpoints.js'
import { laneOf } from './mapping-lane.js'
import { mappingSettings, type LocalEventSourceMappingOptions, type MappingSettings } from './mapping-options.js'
import { finished, newShardState, type ShardState } from './mapping-shard.js'
import { mappingStats, newMappingCounts, type LocalEventSourceMappingStats } from './mapping-stats.js'
import { NotIdleError } from './not-idle-error.js'

export { readBatchResponse, type BatchReport } from './batch-report.js'
export type { CheckpointStore } from './mapping-checkpoints.js'
export { laneOf } from './mapping-lane.js'
export type { FunctionResponseType, LocalEventSourceMappingOptions } from './mapping-options.js'
export type { LocalEventSourceMappingStats } from './mapping-stats.js'
export type { OnFailureRecord } from './on-failure-record.js'

/** GetRecords page size. */
const READ_LIMIT = 10_000

/**
 * Feeds a stream's records to a LocalFunction as the Lambda event source mapping does.
 *
 * @example
 * const esm = new LocalEventSourceMapping({ kinesis, stream: 'troupe', fn, functionResponseTypes: ['ReportBatchItemFailures'], pollMs: 50 })
 * await esm.start()
 * // … tell …
 * await esm.idle()
 * await esm.stop()
 */
export class LocalEventSourceMapping {
  readonly streamArn: string
  private readonly o: Readonly<MappingSettings>
  private readonly options: LocalEventSourceMappingOptions
  private readonly checkpoints: Checkpoints
  private readonly delivery: BatchDelivery
  private readonly shards = new Map<string, ShardState>()
  private stopping = false
  private running = false
  private idleMark = 0
  /** Batches that ended (however): orders them against the shards' reads, for `idle()`. */
  private batchesEnded = 0
  /** Calls of `idle()` waiting now. */
  private idling = 0
  private tickLoop: Promise<void> | undefined
  private tickTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined
  private discovering: Promise<void> | undefined
  private readonly changed = new Set<() => void>()
  private readonly counts = newMappingCounts()

  constructor(options: LocalEventSourceMappingOptions) {
    this.options = options
    this.o = mappingSettings(options)
    this.streamArn = this.o.streamArn
    this.checkpoints = new Checkpoints(options.checkpoints, options.stream, this.o.logger)
    this.delivery = new BatchDelivery(options, this.o, this.counts, this.checkpoints, () => this.stopping)
  }

  /** Lists the shards and starts reading them (and ticking, when asked). Resolves once every shard has its starting iterator. */
  async start(): Promise<void> {
    if (this.running) return
    if (this.stopping) throw new ConfigError('a stopped LocalEventSourceMapping does not start again: make a new one (give both the same checkpoint store to resume)')
    this.running = true
    this.stopping = false
    await this.discover()
    if (this.options.tickEveryMs !== undefined) this.tickLoop = this.ticks(this.options.tickEveryMs)
  }

  /** Stops reading and ticking; batches in flight run to their end. The function is left running. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.stopping = true
    if (this.tickTimer) {
      clearTimeout(this.tickTimer.timer)
      this.tickTimer.resolve()
    }
    for (const shard of this.shards.values()) {
      shard.wake?.()
      for (const lane of shard.lanes) clearTimeout(lane.timer)
    }
    await this.discovering?.catch(() => {})
    await Promise.all([...this.shards.values()].map((s) => s.loop))
    await this.tickLoop
    await this.settledLanes()
    this.running = false
  }

  /**
   * Resolves once every shard has been read to its tip after this call, and no lane has a batch
   * in flight, a record waiting, or a retry pending. Rejects after `timeoutMs` with a
   * NotIdleError naming what was still busy. Ticks are not waited for.
   */
  async idle(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000
    const until = Date.now() + timeoutMs
    const mark = ++this.idleMark
    for (const shard of this.shards.values()) shard.wake?.()
    this.idling++
    try {
      for (;;) {
        await this.discovering
        const busy = this.busy(mark)
        if (busy.length === 0) return
        if (this.stopping) throw new Error('the event source mapping stopped before it was idle')
        if (Date.now() > until) throw new NotIdleError(`the mapping of stream ${this.options.stream}`, timeoutMs, busy)
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer)
            this.changed.delete(done)
            resolve()
          }
          const timer = setTimeout(done, 10)
          this.changed.add(done)
        })
      }
    } finally {
      this.idling--
    }
  }

  stats(): LocalEventSourceMappingStats {
    return mappingStats(this.shards, this.counts)
  }

  // ── shards ───────────────────────────────────────────────────────────────

  private discover(): Promise<void> {
    const run = async () => {
      const all: Shard[] = []
      let token: string | undefined
      do {
        const page = await this.options.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.options.stream }))
        all.push(...(page.Shards ?? []))
        token = page.NextToken
      } while (token)
      for (const s of all) {
        if (!s.ShardId || this.shards.has(s.ShardId)) continue
        const shard = newShardState(s.ShardId, s.ParentShardId, this.o.parallelizationFactor)
        this.shards.set(shard.id, shard)
      }
      for (const shard of this.shards.values()) await this.maybeStart(shard)
    }
    const p = (this.discovering ?? Promise.resolve()).catch(() => {}).then(run)
    this.discovering = p
    p.finally(() => {
      if (this.discovering === p) this.discovering = undefined
    }).catch(() => {})
    return p
  }

  /** A shard starts once its parent (after a reshard) is read to its end, so each key stays in order. */
  private async maybeStart(shard: ShardState): Promise<void> {
    if (shard.started || this.stopping) return
    const parent = shard.parent === undefined ? undefined : this.shards.get(shard.parent)
    if (parent && !finished(parent)) return
    shard.started = true
    const stored = await this.checkpoints.get(shard.id)
    shard.checkpoint = stored
    // A child of a finished parent starts at its beginning, whatever the starting position.
    const position: Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'> =
      stored !== undefined
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: stored }
        : { ShardIteratorType: parent ? 'TRIM_HORIZON' : this.o.startingPosition }
    shard.iterator = await this.iterator(shard, position)
    shard.loop = this.read(shard)
  }

  private async iterator(shard: ShardState, position: Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'>): Promise<string | undefined> {
    const out = await this.options.kinesis.send(new GetShardIteratorCommand({ StreamName: this.options.stream, ShardId: shard.id, ...position }))
    return out.ShardIterator
  }

  /** The shard's reader: keeps its lanes supplied, reads again at once while there is more, else every pollMs. */
  private async read(shard: ShardState): Promise<void> {
    let failures = 0
    while (!this.stopping && !shard.closed) {
      const buffered = shard.lanes.reduce((n, l) => n + l.queue.length, 0)
      let more = false
      if (buffered < this.o.batchSize * this.o.parallelizationFactor * 2) {
        const mark = this.idleMark
        const ended = this.batchesEnded
        try {
          if (shard.iterator === undefined) {
            shard.closed = true
            break
          }
          const page = await this.options.kinesis.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: READ_LIMIT }))
          failures = 0
          shard.iterator = page.NextShardIterator
          const records = page.Records ?? []
          if (records.length !== 0) this.take(shard, records)
          more = records.length !== 0 && page.NextShardIterator !== undefined
          if (records.length === 0) {
            shard.emptyReadMark = mark
            shard.emptyReadAfter = ended
          }
          if (page.NextShardIterator === undefined || page.NextShardIterator === null) shard.closed = true
        } catch (error) {
          if (this.stopping) break
          const name = (error as { name?: string }).name
          if (name === 'ExpiredIteratorException') {
            shard.iterator = await this.iterator(
              shard,
              shard.lastRead !== undefined ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: shard.lastRead } : { ShardIteratorType: this.o.startingPosition },
            ).catch(() => shard.iterator)
            continue
          }
          failures++
          this.o.logger.warn('GetRecords failed; trying again', { shard: shard.id, error: (error as Error).message })
          await this.sleep(shard, Math.min(100 * 2 ** failures, 5_000))
          continue
        }
      }
      this.kick(shard)
      this.notify()
      if (!more) await this.sleep(shard, this.o.pollMs)
    }
    if (shard.closed && !this.stopping) {
      // The children start once this shard's lanes are empty too.
      await this.settledLanes(shard)
      if (!this.stopping) await this.discover().catch((error: unknown) => this.o.logger.error('listing shards failed', { error: (error as Error).message }))
    }
    this.notify()
  }

  private sleep(shard: ShardState, ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        shard.wake = undefined
        resolve()
      }
      shard.wake = done
    })
  }

  private take(shard: ShardState, records: _Record[]): void {
    for (const r of records) {
      const rec = eventRecord(r, shard.nextIndex++, { shardId: shard.id, roleArn: this.o.roleArn, region: this.o.region, streamArn: this.streamArn })
      shard.seqs.push(rec.seq)
      shard.lastRead = rec.seq
      const lane = shard.lanes[this.o.parallelizationFactor === 1 ? 0 : laneOf(r.PartitionKey!, this.o.parallelizationFactor)]!
      if (lane.queue.length === 0 && !lane.inFlight) lane.windowStart = Date.now()
      lane.queue.push(rec)
      this.counts.recordsRead++
    }
  }

  // ── lanes ────────────────────────────────────────────────────────────────

  /** Starts a delivery on every lane that can take one now, and sets a wake-up for those that must wait. */
  private kick(shard: ShardState): void {
    if (this.stopping) return
    for (const lane of shard.lanes) {
      if (lane.inFlight || lane.queue.length === 0) continue
      const now = Date.now()
      this.delivery.expire(shard, lane, this.o.now())
      if (lane.queue.length === 0) continue
      let wait = lane.notBefore - now
      if (wait <= 0 && lane.unit === undefined && lane.splits.length === 0 && this.o.maximumBatchingWindowInSeconds > 0) {
        // Wait for a full batch (or 6 MB) until the window closes.
        const full = lane.queue.length >= this.o.batchSize || lane.queue.reduce((n, r) => n + r.bytes + 1, EVENT_OVERHEAD) >= MAX_SYNC_PAYLOAD_BYTES
        if (!full) wait = lane.windowStart + this.o.maximumBatchingWindowInSeconds * 1000 - now
      }
      if (wait > 0) {
        clearTimeout(lane.timer)
        lane.timer = setTimeout(() => this.kick(shard), wait)
        continue
      }
      lane.inFlight = true
      this.counts.inFlight++
      void this.delivery.deliver(shard, lane).finally(() => {
        lane.inFlight = false
        this.counts.inFlight--
        this.batchesEnded++
        lane.windowStart = Date.now()
        this.kick(shard)
        // Room in the buffer, or the shard may be done: let the reader look again. While idle()
        // waits, every shard looks: the batch may have put records on any of them.
        if (this.idling === 0) shard.wake?.()
        else for (const s of this.shards.values()) s.wake?.()
        this.notify()
      })
    }
  }

  // ── ticks, idle ──────────────────────────────────────────────────────────

  private async ticks(everyMs: number): Promise<void> {
    while (!this.stopping) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.tickTimer = undefined
          resolve()
        }, everyMs)
        this.tickTimer = { timer, resolve }
      })
      if (this.stopping) break
      this.counts.ticks++
      try {
        const result = await this.options.fn.invoke({ troupe: 'tick' }, { timeoutMs: this.o.timeoutMs })
        if (!result.ok) {
          this.counts.tickErrors++
          this.o.logger.warn('a tick failed', { error: `${result.error.errorType}: ${result.error.errorMessage}` })
        }
      } catch (error) {
        if (this.stopping) break
        this.counts.tickErrors++
        this.o.logger.warn('could not invoke a tick', { error: (error as Error).message })
      }
    }
  }

  /** What keeps the mapping from being idle since `mark` (empty when idle). */
  private busy(mark: number): string[] {
    const busy: string[] = []
    for (const shard of this.shards.values()) {
      if (!shard.started) {
        const parent = shard.parent === undefined ? undefined : this.shards.get(shard.parent)
        if (parent && !finished(parent)) continue // counted with its parent
        busy.push(`${shard.id} not started`)
        continue
      }
      for (const lane of shard.lanes) {
        if (lane.inFlight) busy.push(`${shard.id}/lane ${lane.index}: a batch in flight`)
        else if (lane.queue.length !== 0) busy.push(`${shard.id}/lane ${lane.index}: ${lane.queue.length} records waiting${lane.unit?.attempts ? ` (retry ${lane.unit.attempts})` : ''}`)
      }
      // A batch may put records on the stream (its turns' outbox): the tip counts once read after the last batch ended.
      if (!shard.closed && (shard.emptyReadMark < mark || shard.emptyReadAfter < this.batchesEnded)) busy.push(`${shard.id}: not read to its tip yet`)
    }
    return busy
  }

  private notify(): void {
    for (const done of [...this.changed]) done()
  }

  private async settledLanes(only?: ShardState): Promise<void> {
    const shards = only ? [only] : [...this.shards.values()]
    while (shards.some((s) => s.lanes.some((l) => l.inFlight || (!this.stopping && l.queue.length !== 0)))) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
