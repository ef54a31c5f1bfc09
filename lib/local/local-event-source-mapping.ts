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
import { createHash, randomUUID } from 'node:crypto'
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis'
import { ConfigError } from '../core/errors.js'
import { createLogger, type Logger } from '../core/logger.js'
import type { KinesisEventRecord } from '../hosts/lambda/events.js'
import { MAX_SYNC_PAYLOAD_BYTES, type InvokeResult, type LocalFunction } from './local-function.js'
import { NotIdleError } from './not-idle-error.js'

/** The on-failure destination record (AWS-SEMANTICS.md §2.4). */
export interface OnFailureRecord {
  requestContext: {
    requestId: string
    functionArn: string
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'
    approximateInvokeCount: number
  }
  responseContext: { statusCode: number; executedVersion: string; functionError?: string }
  version: '1.0'
  timestamp: string
  KinesisBatchInfo: {
    shardId: string
    startSequenceNumber: string
    endSequenceNumber: string
    approximateArrivalOfFirstRecord: string
    approximateArrivalOfLastRecord: string
    batchSize: number
    streamArn: string
  }
}

/** The values of `FunctionResponseTypes` Lambda takes for a Kinesis mapping. */
export type FunctionResponseType = 'ReportBatchItemFailures'

/** Where checkpoints are kept across mappings (a restart resumes after them). */
export interface CheckpointStore {
  get(stream: string, shardId: string): Promise<string | undefined> | string | undefined
  put(stream: string, shardId: string, sequenceNumber: string): Promise<void> | void
}

/** What one invocation of a batch did, for observers (tests, `troupe dev` reports). */
export interface BatchReport {
  shardId: string
  lane: number
  size: number
  firstSequenceNumber: string
  lastSequenceNumber: string
  /** The attempt of this unit of records (1 = first delivery). */
  attempt: number
  outcome: 'success' | 'partial' | 'function-error' | 'bad-response' | 'not-invoked'
  /** The lowest reported sequence number, for `partial`. */
  failedFrom?: string
  duplicate: boolean
  requestId?: string
  error?: string
}

export interface LocalEventSourceMappingOptions {
  kinesis: KinesisClient
  stream: string
  fn: LocalFunction
  /** 1-10,000. @default 100 */
  batchSize?: number
  /** 0-300; fractions allowed here (tests). @default 0 */
  maximumBatchingWindowInSeconds?: number
  /** @default 'TRIM_HORIZON' */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST'
  /** 1-10 batches at once per shard, in order per partition key. @default 1 */
  parallelizationFactor?: number
  /** -1 (until the records expire) or 0-10,000. @default -1 */
  maximumRetryAttempts?: number
  /**
   * Records older than this many seconds are discarded: -1 (never) or a whole number from 60 to
   * 604,800, the values AWS takes (it refuses 0-59). To test ageing without waiting a minute, move
   * `now` forward. @default -1
   */
  maximumRecordAgeInSeconds?: number
  /** @default false */
  bisectBatchOnFunctionError?: boolean
  /**
   * `['ReportBatchItemFailures']` makes the mapping read the function's `batchItemFailures` and
   * deliver again from the lowest one reported. Without it, as on AWS, any answer is success and
   * the whole batch is done. troupe's handler answers with partial batch responses, and the
   * mapping `troupe template` and `troupe deploy` make asks for them. @default []
   */
  functionResponseTypes?: readonly FunctionResponseType[]
  /** Each invocation's timeout. @default the function's timeout */
  functionTimeoutMs?: number
  /** Wait between reads of a shard that had nothing new, in ms. Lambda polls about once a second. @default 1000 */
  pollMs?: number
  /** The on-failure destination: called with each discarded batch's record. */
  onFailure?: (record: OnFailureRecord) => void | Promise<void>
  /** 0..1: the probability that a successful batch is delivered once more (at least once, §6). @default 0 */
  duplicateDelivery?: number
  /** Invoke `{ troupe: 'tick' }` this often, as the scheduled rule does; off when absent. */
  tickEveryMs?: number
  /** Keeps checkpoints; in memory when absent. */
  checkpoints?: CheckpointStore
  /** Delay before delivering a failed unit again: doubles per failure of the same unit. @default { initialMs: 200, maxMs: 10_000 } */
  retryBackoff?: { initialMs?: number; maxMs?: number }
  /** @default 'us-east-1' */
  region?: string
  /** The function's execution role, as `invokeIdentityArn`. @default arn:aws:iam::000000000000:role/<function>-role */
  roleArn?: string
  logger?: Logger
  /** For `duplicateDelivery`. @default Math.random */
  random?: () => number
  /**
   * The time records' ages are measured at, in epoch ms (their arrival times are the stream's).
   * Tests move it forward to age records past `maximumRecordAgeInSeconds`. @default Date.now
   */
  now?: () => number
  /** Told about every batch delivered (after its outcome is known). */
  onBatch?: (report: BatchReport) => void
}

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

interface Rec {
  seq: string
  big: bigint
  /** Order in its shard, from 0. */
  index: number
  arrivalMs: number
  /** The record as event JSON. */
  json: string
  bytes: number
}

/** The records a lane retries as one: a bisected half has a fixed size; otherwise the batch is formed anew each time. */
interface Unit {
  fixedSize?: number
  /** Failed responses so far. */
  attempts: number
  invokes: number
  lastRequestId?: string
  lastFunctionError?: boolean
  duplicate?: boolean
}

interface Lane {
  index: number
  queue: Rec[]
  unit: Unit | undefined
  /** Sizes of bisected halves still to deliver after the unit, in order. */
  splits: number[]
  inFlight: boolean
  /** Not before this time (backoff after a failure). */
  notBefore: number
  windowStart: number
  timer: NodeJS.Timeout | undefined
}

interface ShardState {
  id: string
  parent: string | undefined
  iterator: string | undefined
  /** The last record read (for a fresh iterator after expiry). */
  lastRead: string | undefined
  nextIndex: number
  /** Sequence numbers read and not yet behind the checkpoint, from index `base`. */
  seqs: string[]
  base: number
  /** GetRecords said the shard is closed and everything is read. */
  closed: boolean
  started: boolean
  lanes: Lane[]
  /** The idle mark of the latest read that found nothing new. */
  emptyReadMark: number
  /** `batchesEnded` when that read started. */
  emptyReadAfter: number
  wake: (() => void) | undefined
  loop: Promise<void> | undefined
  checkpoint: string | undefined
}

const ACCOUNT = '000000000000'
/** GetRecords page size. */
const READ_LIMIT = 10_000
/** `{"Records":[]}` */
const EVENT_OVERHEAD = 14

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
  private readonly o: Required<Pick<LocalEventSourceMappingOptions, 'batchSize' | 'maximumBatchingWindowInSeconds' | 'startingPosition' | 'parallelizationFactor' | 'maximumRetryAttempts' | 'maximumRecordAgeInSeconds' | 'bisectBatchOnFunctionError' | 'pollMs' | 'duplicateDelivery'>>
  /** FunctionResponseTypes has ReportBatchItemFailures: partial batch responses are read. */
  private readonly reportBatchItemFailures: boolean
  private readonly options: LocalEventSourceMappingOptions
  private readonly logger: Logger
  private readonly region: string
  private readonly roleArn: string
  private readonly random: () => number
  private readonly now: () => number
  private readonly timeoutMs: number
  private readonly backoff: { initialMs: number; maxMs: number }
  private readonly shards = new Map<string, ShardState>()
  private readonly memory = new Map<string, string>()
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
  private readonly counts = {
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

  constructor(options: LocalEventSourceMappingOptions) {
    this.options = options
    this.o = {
      batchSize: options.batchSize ?? 100,
      maximumBatchingWindowInSeconds: options.maximumBatchingWindowInSeconds ?? 0,
      startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
      parallelizationFactor: options.parallelizationFactor ?? 1,
      maximumRetryAttempts: options.maximumRetryAttempts ?? -1,
      maximumRecordAgeInSeconds: options.maximumRecordAgeInSeconds ?? -1,
      bisectBatchOnFunctionError: options.bisectBatchOnFunctionError ?? false,
      pollMs: options.pollMs ?? 1_000,
      duplicateDelivery: options.duplicateDelivery ?? 0,
    }
    const o = this.o
    const check = (ok: boolean, what: string, value: unknown) => {
      if (!ok) throw new ConfigError(`LocalEventSourceMapping ${what}, got ${JSON.stringify(value)}`)
    }
    check(Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= 10_000, 'batchSize must be a whole number from 1 to 10,000', o.batchSize)
    check(o.maximumBatchingWindowInSeconds >= 0 && o.maximumBatchingWindowInSeconds <= 300, 'maximumBatchingWindowInSeconds must be from 0 to 300', o.maximumBatchingWindowInSeconds)
    check(o.startingPosition === 'TRIM_HORIZON' || o.startingPosition === 'LATEST', "startingPosition must be 'TRIM_HORIZON' or 'LATEST'", o.startingPosition)
    check(Number.isInteger(o.parallelizationFactor) && o.parallelizationFactor >= 1 && o.parallelizationFactor <= 10, 'parallelizationFactor must be a whole number from 1 to 10', o.parallelizationFactor)
    check(Number.isInteger(o.maximumRetryAttempts) && o.maximumRetryAttempts >= -1 && o.maximumRetryAttempts <= 10_000, 'maximumRetryAttempts must be -1 or a whole number up to 10,000', o.maximumRetryAttempts)
    check(
      o.maximumRecordAgeInSeconds === -1 || (Number.isInteger(o.maximumRecordAgeInSeconds) && o.maximumRecordAgeInSeconds >= 60 && o.maximumRecordAgeInSeconds <= 604_800),
      'maximumRecordAgeInSeconds must be -1 (no limit) or a whole number of seconds from 60 to 604,800, as AWS takes',
      o.maximumRecordAgeInSeconds,
    )
    const types = options.functionResponseTypes ?? []
    check(Array.isArray(types) && types.every((type) => type === 'ReportBatchItemFailures'), "functionResponseTypes must be [] or ['ReportBatchItemFailures']", types)
    this.reportBatchItemFailures = types.includes('ReportBatchItemFailures')
    check(o.pollMs >= 0, 'pollMs must be 0 or more', o.pollMs)
    check(o.duplicateDelivery >= 0 && o.duplicateDelivery <= 1, 'duplicateDelivery must be a probability from 0 to 1', o.duplicateDelivery)
    check(options.tickEveryMs === undefined || options.tickEveryMs > 0, 'tickEveryMs must be more than 0', options.tickEveryMs)
    this.logger = options.logger ?? createLogger('warn')
    this.region = options.region ?? 'us-east-1'
    this.streamArn = `arn:aws:kinesis:${this.region}:${ACCOUNT}:stream/${options.stream}`
    this.roleArn = options.roleArn ?? `arn:aws:iam::${ACCOUNT}:role/${options.fn.name}-role`
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
    this.timeoutMs = options.functionTimeoutMs ?? options.fn.timeoutMs
    this.backoff = { initialMs: options.retryBackoff?.initialMs ?? 200, maxMs: options.retryBackoff?.maxMs ?? 10_000 }
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
    const checkpoints: Record<string, string> = {}
    for (const shard of this.shards.values()) if (shard.checkpoint !== undefined) checkpoints[shard.id] = shard.checkpoint
    return { shards: this.shards.size, ...this.counts, checkpoints }
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
        const shard: ShardState = {
          id: s.ShardId,
          parent: s.ParentShardId,
          iterator: undefined,
          lastRead: undefined,
          nextIndex: 0,
          seqs: [],
          base: 0,
          closed: false,
          started: false,
          lanes: Array.from({ length: this.o.parallelizationFactor }, (_, index) => ({ index, queue: [], unit: undefined, splits: [], inFlight: false, notBefore: 0, windowStart: 0, timer: undefined })),
          emptyReadMark: -1,
          emptyReadAfter: -1,
          wake: undefined,
          loop: undefined,
          checkpoint: undefined,
        }
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
    if (parent && !this.finished(parent)) return
    shard.started = true
    const stored = this.options.checkpoints ? await this.options.checkpoints.get(this.options.stream, shard.id) : this.memory.get(shard.id)
    shard.checkpoint = stored
    // A child of a finished parent starts at its beginning, whatever the starting position.
    const position: Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'> =
      stored !== undefined
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: stored }
        : { ShardIteratorType: parent ? 'TRIM_HORIZON' : this.o.startingPosition }
    shard.iterator = await this.iterator(shard, position)
    shard.loop = this.read(shard)
  }

  private finished(shard: ShardState): boolean {
    return shard.closed && shard.lanes.every((l) => l.queue.length === 0 && !l.inFlight)
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
          this.logger.warn('GetRecords failed; trying again', { shard: shard.id, error: (error as Error).message })
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
      if (!this.stopping) await this.discover().catch((error: unknown) => this.logger.error('listing shards failed', { error: (error as Error).message }))
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
      const seq = r.SequenceNumber!
      const partitionKey = r.PartitionKey!
      const arrivalMs = r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()
      const event: KinesisEventRecord = {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey,
          sequenceNumber: seq,
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: arrivalMs / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shard.id}:${seq}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: this.roleArn,
        awsRegion: this.region,
        eventSourceARN: this.streamArn,
      }
      const json = JSON.stringify(event)
      const rec: Rec = { seq, big: BigInt(seq), index: shard.nextIndex++, arrivalMs, json, bytes: Buffer.byteLength(json) }
      shard.seqs.push(seq)
      shard.lastRead = seq
      const lane = shard.lanes[this.o.parallelizationFactor === 1 ? 0 : laneOf(partitionKey, this.o.parallelizationFactor)]!
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
      this.expire(shard, lane, this.now())
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
      void this.deliver(shard, lane).finally(() => {
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

  /** Discards the records at the front that are past the maximum age (RecordAgeExceeded); `now` is the mapping's clock. */
  private expire(shard: ShardState, lane: Lane, now: number): void {
    if (this.o.maximumRecordAgeInSeconds === -1) return
    const limit = now - this.o.maximumRecordAgeInSeconds * 1000
    let n = 0
    while (n < lane.queue.length && lane.queue[n]!.arrivalMs < limit) n++
    if (n === 0) return
    const gone = lane.queue.slice(0, n)
    const unit = lane.unit
    this.dropFront(shard, lane, n)
    this.discard(shard, gone, 'RecordAgeExceeded', unit)
  }

  private async deliver(shard: ShardState, lane: Lane): Promise<void> {
    const unit = (lane.unit ??= lane.splits.length !== 0 ? { fixedSize: lane.splits.shift()!, attempts: 0, invokes: 0 } : { attempts: 0, invokes: 0 })
    const batch = this.batchOf(lane, unit)
    if (batch.length === 0) return
    const payload = `{"Records":[${batch.map((r) => r.json).join(',')}]}`
    const report: BatchReport = {
      shardId: shard.id,
      lane: lane.index,
      size: batch.length,
      firstSequenceNumber: batch[0]!.seq,
      lastSequenceNumber: batch.at(-1)!.seq,
      attempt: unit.attempts + 1,
      outcome: 'success',
      duplicate: unit.duplicate === true,
    }
    if (unit.attempts !== 0) this.counts.retries++
    let result: InvokeResult
    try {
      result = await this.options.fn.invokeRaw(payload, { timeoutMs: this.timeoutMs })
    } catch (error) {
      if (this.stopping) return
      if ((error as { code?: string }).code === 'TROUPE_LAMBDA_REQUEST_TOO_LARGE') {
        // A single record whose event passes 6 MB: it can never be delivered; fail it like a function error.
        result = { ok: false, requestId: randomUUID(), functionError: 'Unhandled', failure: 'error', error: { errorType: 'RequestTooLarge', errorMessage: (error as Error).message }, payload: '', durationMs: 0 }
      } else {
        // The function could not be invoked (stopped, throttled): try again later, no attempt counted.
        this.counts.notInvoked++
        lane.notBefore = Date.now() + this.backoff.initialMs
        this.logger.warn('could not invoke the function; trying again', { shard: shard.id, error: (error as Error).message })
        this.options.onBatch?.({ ...report, outcome: 'not-invoked', error: (error as Error).message })
        return
      }
    }
    this.counts.batches++
    this.counts.records += batch.length
    unit.invokes++
    unit.lastRequestId = result.requestId
    report.requestId = result.requestId

    let failedAt: number | undefined // index in the batch of the first record to retry
    if (!result.ok) {
      this.counts.functionErrors++
      unit.lastFunctionError = true
      failedAt = 0
      report.outcome = 'function-error'
      report.error = `${result.error.errorType}: ${result.error.errorMessage}`
    } else {
      unit.lastFunctionError = false
      if (this.reportBatchItemFailures) {
        const read = readBatchResponse(result.result, batch)
        if (read.kind === 'bad') {
          this.counts.badResponses++
          failedAt = 0
          report.outcome = 'bad-response'
          report.error = read.why
          this.logger.error('the function answered a partial batch response that names no record of this batch: the whole batch failed', {
            shard: shard.id,
            why: read.why,
            response: result.payload.slice(0, 500),
          })
        } else if (read.kind === 'partial') {
          this.counts.partialFailures++
          failedAt = read.at
          report.outcome = 'partial'
          report.failedFrom = batch[read.at]!.seq
        }
      }
    }

    if (failedAt === undefined) {
      this.counts.successes++
      this.options.onBatch?.(report)
      if (!unit.duplicate && this.o.duplicateDelivery > 0 && this.random() < this.o.duplicateDelivery) {
        // As if the checkpoint was lost: the same records come once more.
        this.counts.duplicatesInjected++
        lane.unit = { fixedSize: batch.length, attempts: 0, invokes: 0, duplicate: true }
        return
      }
      this.dropFront(shard, lane, batch.length)
      lane.unit = undefined
      return
    }
    this.options.onBatch?.(report)

    // Records before the failure are done.
    if (failedAt > 0) this.dropFront(shard, lane, failedAt)
    const rest = batch.length - failedAt
    const wholeBatchFailed = failedAt === 0 && report.outcome !== 'partial'
    if (this.o.bisectBatchOnFunctionError && wholeBatchFailed && rest > 1) {
      // Split in two halves, in order, each with its own attempts; the split counts no attempt.
      this.counts.bisects++
      const first = Math.ceil(rest / 2)
      lane.unit = { fixedSize: first, attempts: 0, invokes: 0 }
      lane.splits.unshift(rest - first)
      return
    }
    // Attempts count the failures of the record at the unit's front: progress starts a new count.
    if (failedAt > 0) {
      unit.attempts = 1
      unit.invokes = 1
    } else {
      unit.attempts++
    }
    if (this.o.bisectBatchOnFunctionError && report.outcome === 'partial') unit.fixedSize = rest
    else if (unit.fixedSize !== undefined) unit.fixedSize = rest
    lane.unit = unit
    if (this.o.maximumRetryAttempts !== -1 && unit.attempts > this.o.maximumRetryAttempts) {
      const gone = lane.queue.slice(0, rest)
      this.dropFront(shard, lane, rest)
      lane.unit = undefined
      this.discard(shard, gone, 'RetryAttemptsExhausted', unit)
      return
    }
    lane.notBefore = Date.now() + Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (unit.attempts - 1))
  }

  /** The records of the next delivery: the unit's fixed size, else up to batchSize and 6 MB. */
  private batchOf(lane: Lane, unit: Unit): Rec[] {
    const max = Math.min(unit.fixedSize ?? this.o.batchSize, lane.queue.length)
    let bytes = EVENT_OVERHEAD
    let n = 0
    while (n < max) {
      const next = bytes + lane.queue[n]!.bytes + (n === 0 ? 0 : 1)
      if (n !== 0 && next > MAX_SYNC_PAYLOAD_BYTES) break
      bytes = next
      n++
    }
    if (unit.fixedSize !== undefined && n < unit.fixedSize) {
      // A bisected half too large for one invocation (it can only shrink): keep what fits, the rest follows as its own half.
      lane.splits.unshift(unit.fixedSize - n)
      unit.fixedSize = n
    }
    return lane.queue.slice(0, n)
  }

  /** Removes `n` records from the front of a lane (done or discarded), keeping the unit and halves in step, and moves the checkpoint. */
  private dropFront(shard: ShardState, lane: Lane, n: number): void {
    lane.queue.splice(0, n)
    let left = n
    const unit = lane.unit
    if (unit?.fixedSize !== undefined) {
      const d = Math.min(left, unit.fixedSize)
      unit.fixedSize -= d
      left -= d
      if (unit.fixedSize === 0) lane.unit = undefined
    }
    // (A unit without a fixed size has no halves behind it.)
    while (left > 0 && lane.splits.length !== 0) {
      const d = Math.min(left, lane.splits[0]!)
      lane.splits[0]! -= d
      left -= d
      if (lane.splits[0] === 0) lane.splits.shift()
    }
    this.checkpoint(shard)
  }

  /** Everything before the earliest record still in a lane is done: that is the shard's checkpoint. */
  private checkpoint(shard: ShardState): void {
    let earliest = shard.nextIndex
    for (const lane of shard.lanes) if (lane.queue.length !== 0) earliest = Math.min(earliest, lane.queue[0]!.index)
    const doneThrough = earliest - 1
    if (doneThrough < shard.base) return
    const seq = shard.seqs[doneThrough - shard.base]!
    shard.seqs.splice(0, doneThrough - shard.base + 1)
    shard.base = doneThrough + 1
    shard.checkpoint = seq
    if (this.options.checkpoints) {
      Promise.resolve(this.options.checkpoints.put(this.options.stream, shard.id, seq)).catch((error: unknown) =>
        this.logger.error('could not keep a checkpoint', { shard: shard.id, error: (error as Error).message }),
      )
    } else {
      this.memory.set(shard.id, seq)
    }
  }

  /** Records given up on: counted, logged, and sent to the on-failure destination. */
  private discard(shard: ShardState, records: Rec[], condition: OnFailureRecord['requestContext']['condition'], unit: Unit | undefined): void {
    if (records.length === 0) return
    this.counts.discardedRecords += records.length
    const first = records[0]!
    const last = records.at(-1)!
    this.logger.warn('records discarded', { shard: shard.id, condition, from: first.seq, to: last.seq, records: records.length })
    const onFailure = this.options.onFailure
    if (!onFailure) return
    const record: OnFailureRecord = {
      requestContext: {
        requestId: unit?.lastRequestId ?? randomUUID(),
        functionArn: this.options.fn.arn,
        condition,
        approximateInvokeCount: unit?.invokes ?? 0,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(unit?.lastFunctionError ? { functionError: 'Unhandled' } : {}) },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId: shard.id,
        startSequenceNumber: first.seq,
        endSequenceNumber: last.seq,
        approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
        batchSize: records.length,
        streamArn: this.streamArn,
      },
    }
    this.counts.onFailureRecords++
    Promise.resolve()
      .then(() => onFailure(record))
      .catch((error: unknown) => this.logger.error('the on-failure destination refused a record', { shard: shard.id, error: (error as Error).message }))
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
        const result = await this.options.fn.invoke({ troupe: 'tick' }, { timeoutMs: this.timeoutMs })
        if (!result.ok) {
          this.counts.tickErrors++
          this.logger.warn('a tick failed', { error: `${result.error.errorType}: ${result.error.errorMessage}` })
        }
      } catch (error) {
        if (this.stopping) break
        this.counts.tickErrors++
        this.logger.warn('could not invoke a tick', { error: (error as Error).message })
      }
    }
  }

  /** What keeps the mapping from being idle since `mark` (empty when idle). */
  private busy(mark: number): string[] {
    const busy: string[] = []
    for (const shard of this.shards.values()) {
      if (!shard.started) {
        const parent = shard.parent === undefined ? undefined : this.shards.get(shard.parent)
        if (parent && !this.finished(parent)) continue // counted with its parent
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

/** The lane of a partition key when ParallelizationFactor > 1: md5(key) mod N (AWS-SEMANTICS.md §2.2, an emulator choice). */
export function laneOf(partitionKey: string, lanes: number): number {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest('hex')
  return Number(BigInt(`0x${digest}`) % BigInt(lanes))
}

type ReadResponse = { kind: 'success' } | { kind: 'partial'; at: number } | { kind: 'bad'; why: string }

/**
 * A handler's answer read as a partial batch response (AWS-SEMANTICS.md §1.2): null, {}, and an
 * empty or null list are success; an identifier that is empty, not a string, under another key,
 * or no sequence number of this batch is a whole-batch failure; else the lowest one.
 */
export function readBatchResponse(response: unknown, batch: readonly { seq: string; big: bigint }[]): ReadResponse {
  if (response === null || response === undefined) return { kind: 'success' }
  if (typeof response !== 'object' || Array.isArray(response)) return { kind: 'bad', why: `the response is ${Array.isArray(response) ? 'an array' : typeof response}, not an object` }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures
  if (failures === null || failures === undefined) return { kind: 'success' }
  if (!Array.isArray(failures)) return { kind: 'bad', why: 'batchItemFailures is not a list' }
  if (failures.length === 0) return { kind: 'success' }
  let lowest: bigint | undefined
  for (const item of failures) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier
    if (typeof id !== 'string' || id === '') return { kind: 'bad', why: `an item has no itemIdentifier string (${JSON.stringify(item)?.slice(0, 100)})` }
    if (!/^(0|[1-9]\d{0,128})$/.test(id)) return { kind: 'bad', why: `itemIdentifier ${JSON.stringify(id.slice(0, 100))} is not a sequence number (an eventID?)` }
    const big = BigInt(id)
    if (!batch.some((r) => r.big === big)) return { kind: 'bad', why: `itemIdentifier ${id} is no record of this batch` }
    if (lowest === undefined || big < lowest) lowest = big
  }
  return { kind: 'partial', at: batch.findIndex((r) => r.big === lowest) }
}
