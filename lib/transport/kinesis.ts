// The Kinesis transport: sends envelopes as records with PutRecords, as few calls as the limits
// allow, and reports what happened to each one.
//
// - Batching: up to 500 records and 5 MiB per call (data plus partition keys, as Kinesis counts),
//   one stream per call. `send` goes at once; `enqueue` waits up to `lingerMs` for company.
// - Record size: every record is checked, before anything is sent, against its stream's limit as
//   DescribeStreamSummary gives it (`MaxRecordSizeInKiB`, else 1 MiB), read once per stream. A
//   record over it fails alone with a RecordTooLargeError; the rest of the call goes on.
// - Partial failure: PutRecords can fail some records inside an HTTP 200. Only those are resent,
//   with full-jitter exponential backoff, up to `maxAttempts` per record. A whole call that fails
//   (after the SDK's own retries, e.g. on a ProvisionedThroughputExceededException) is retried the
//   same way when the error is transient, and fails its records when it is not.
// - Order per partition key (see partition-queue.ts): a key's later records never go out while an
//   earlier one is in flight or waiting to be resent; a failed record goes back to the head of its
//   key. With `ordering: 'strict'` (the default) a call carries at most one record per key, so no
//   record can be overtaken at all; `'batched'` lets a run of one key share a call, and marks as
//   `overtook` any record Kinesis accepted while failing an earlier one of its key.
// - Aggregation (`strict`, on by default): when a key has several messages waiting, its run goes as
//   one aggregate record (record-codec.ts), up to the stream's record size, so a hot key costs one
//   entry per run instead of one call per message. The record is accepted or failed whole: its
//   messages settle, retry, back off and give up together, and each gets the record's sequence
//   number and its place in it (`member`). A key with one message waiting sends a plain record.
// - Giving up: when a record fails for good, every record of its key queued behind it fails too,
//   with a HeldBackError (sending them would break per-key order); the caller resends all in order.

import { DescribeStreamSummaryCommand, PutRecordCommand, PutRecordsCommand, type KinesisClient, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis'
import type { Envelope } from '../core/envelope.js'
import { ConfigError, SystemStoppedError, TroupeError } from '../core/errors.js'
import { DEFAULT_MAX_RECORD_BYTES, PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS } from '../routing/kinesis-limits.js'
import { AGGREGATE_OVERHEAD, defaultRecordCodec, type EncodedRecord, type RecordCodec } from '../routing/record-codec.js'
import { InvalidEnvelopeError, RecordTooLargeError } from '../routing/record-errors.js'
import type { Router } from '../routing/router.js'
import { HeldBackError, SendFailedError } from './errors.js'
import { PartitionQueue, type KeySettlement, type Ordering, type Packing, type QueuedRecord } from './partition-queue.js'

export interface KinesisTransportOptions {
  /** The Kinesis client. The transport never destroys it. */
  client: KinesisClient
  /** Stream and partition key per message. */
  router: Router
  /** Envelope ⇄ record. @default the codec with default limits */
  codec?: RecordCodec
  /** Per-key order: `'strict'` never lets a record be overtaken; `'batched'` spends fewer calls on hot keys. @default 'strict' */
  ordering?: Ordering
  /**
   * Send a key's waiting run as one aggregate record (`strict` only). Turn it off while hosts that
   * cannot read aggregates still consume the stream. @default true
   */
  aggregate?: boolean
  /** How long `enqueue` waits for more messages before sending a partial batch. @default 10 */
  lingerMs?: number
  /** Attempts per record, the first included, before it fails. @default 8 */
  maxAttempts?: number
  /** Backoff before the n-th retry: a random delay up to min(maxDelayMs, baseDelayMs × 2^(n−1)). @default 100 */
  baseDelayMs?: number
  /** @default 5000 */
  maxDelayMs?: number
  /** PutRecords calls in flight at once, over all streams. @default 4 */
  maxInFlight?: number
  /** Records per call (1–500). @default 500 */
  maxBatchRecords?: number
  /** Bytes per call, data plus partition keys (up to 5 MiB). @default 5 MiB */
  maxBatchBytes?: number
  /** Random numbers in [0, 1) for the jitter. @default Math.random */
  random?: () => number
}

/** One message written: where Kinesis put it. */
export interface SentResult {
  status: 'sent'
  messageId: string
  actor: string
  stream: string
  partitionKey: string
  shardId: string
  sequenceNumber: string
  /** Its place in the aggregate record that carried it (0 first); absent when it went as a record of its own. */
  member?: number
  /** PutRecords calls that carried it. */
  attempts: number
  /** Set when Kinesis accepted it while failing an earlier record of its key in the same call (`batched` ordering only). */
  overtook?: true
}

/** One message not written, and why (a TroupeError with a stable `code`). */
export interface FailedResult {
  status: 'failed'
  messageId: string
  actor: string
  stream: string | undefined
  partitionKey: string | undefined
  attempts: number
  error: TroupeError
}

export type SendResult = SentResult | FailedResult

/** The outcome of one `send`: a result per envelope, in the order given. */
export interface SendReport {
  results: SendResult[]
  sent: number
  failed: number
}

/** What the transport did since it was made. */
export interface KinesisTransportStats {
  /** PutRecords calls (each may be several HTTP attempts inside the SDK). */
  calls: number
  /** Calls that failed as a whole, after the SDK's retries. */
  failedCalls: number
  /** DescribeStreamSummary calls (one per stream, to learn its record size). */
  describeCalls: number
  /** Messages written. */
  recordsSent: number
  /** Aggregate records written (each carried several messages of one key). */
  aggregatesSent: number
  /** Records put back for another attempt. */
  recordsRetried: number
  recordsFailed: number
  /** Records accepted ahead of an earlier, failed record of their key (`batched` only). */
  recordsOvertaking: number
}

/** Per-record error codes worth another attempt (AWS documents only these two). */
const RETRYABLE_RECORD_CODES = new Set(['ProvisionedThroughputExceededException', 'InternalFailure', 'InternalFailureException', 'KMSThrottlingException'])
/** Whole-call errors worth another attempt, besides 5xx responses and network failures. */
const RETRYABLE_CALL_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'LimitExceededException',
  'InternalFailure',
  'InternalFailureException',
  'ServiceUnavailable',
  'KMSThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
])

interface ItemError {
  code: string
  message: string
  retryable: boolean
  cause?: unknown
}

interface Item extends QueuedRecord {
  readonly envelope: Envelope
  readonly stream: string
  readonly data: Buffer
  attempts: number
  lastError: ItemError | undefined
  readonly finish: (result: SendResult) => void
}

interface Lane {
  readonly stream: string
  readonly queue: PartitionQueue<Item>
  /** The stream's record size limit, once DescribeStreamSummary answered. */
  limit: number | undefined
  /** Records waiting for the limit, in arrival order. */
  intake: Item[]
  describing: boolean
}

/**
 * Sends envelopes to Kinesis in batches, resending only what failed, keeping per-key order.
 *
 * @example
 * const transport = new KinesisTransport({ client: kinesis, router: new Router({ defaultStream: 'troupe' }) })
 * const report = await transport.send(outbox)
 * for (const r of report.results) if (r.status === 'failed') console.error(r.error.message)
 * await transport.close()
 */
export class KinesisTransport {
  readonly stats: KinesisTransportStats = {
    calls: 0,
    failedCalls: 0,
    describeCalls: 0,
    recordsSent: 0,
    aggregatesSent: 0,
    recordsRetried: 0,
    recordsFailed: 0,
    recordsOvertaking: 0,
  }

  private readonly client: KinesisClient
  private readonly router: Router
  private readonly codec: RecordCodec
  private readonly lingerMs: number
  private readonly maxAttempts: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number
  private readonly maxInFlight: number
  private readonly maxBatchRecords: number
  private readonly maxBatchBytes: number
  private readonly random: () => number
  private readonly ordering: Ordering
  private readonly aggregate: boolean

  private readonly lanes = new Map<string, Lane>()
  private readonly limits = new Map<string, Promise<number>>()
  private laneCursor = 0
  private staged: Item[] = []
  private stagedBytes = 0
  private lingerTimer: NodeJS.Timeout | undefined
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAt = Infinity
  private inFlight = 0
  private outstanding = 0
  private idle: (() => void)[] = []
  private closed = false

  constructor(options: KinesisTransportOptions) {
    if (!options?.client) throw new ConfigError('KinesisTransportOptions.client is required')
    if (!options.router) throw new ConfigError('KinesisTransportOptions.router is required')
    this.client = options.client
    this.router = options.router
    this.codec = options.codec ?? defaultRecordCodec
    this.ordering = options.ordering ?? 'strict'
    if (this.ordering !== 'strict' && this.ordering !== 'batched') {
      throw new ConfigError(`KinesisTransportOptions.ordering must be 'strict' or 'batched', got ${JSON.stringify(this.ordering)}`)
    }
    this.aggregate = options.aggregate ?? true
    this.lingerMs = int(options.lingerMs, 10, 0, 60_000, 'lingerMs')
    this.maxAttempts = int(options.maxAttempts, 8, 1, 1_000, 'maxAttempts')
    this.baseDelayMs = int(options.baseDelayMs, 100, 0, 60_000, 'baseDelayMs')
    this.maxDelayMs = int(options.maxDelayMs, 5_000, 0, 600_000, 'maxDelayMs')
    this.maxInFlight = int(options.maxInFlight, 4, 1, 1_000, 'maxInFlight')
    this.maxBatchRecords = int(options.maxBatchRecords, PUT_RECORDS_MAX_RECORDS, 1, PUT_RECORDS_MAX_RECORDS, 'maxBatchRecords')
    this.maxBatchBytes = int(options.maxBatchBytes, PUT_RECORDS_MAX_BYTES, 1, PUT_RECORDS_MAX_BYTES, 'maxBatchBytes')
    this.random = options.random ?? Math.random
  }

  /**
   * Sends envelopes now (after any that `enqueue` is holding), in as few calls as the limits allow,
   * retrying only what fails. Never rejects: each envelope gets a result, in the order given.
   */
  async send(envelopes: readonly Envelope[]): Promise<SendReport> {
    this.releaseStaged()
    const pending = envelopes.map(
      (envelope) =>
        new Promise<SendResult>((resolve) => {
          const item = this.prepare(envelope, resolve)
          if (item) this.admit(item)
        }),
    )
    this.pump()
    const results = await Promise.all(pending)
    let sent = 0
    for (const r of results) if (r.status === 'sent') sent++
    return { results, sent, failed: results.length - sent }
  }

  /**
   * Sends one envelope with whatever else arrives within `lingerMs` (or at once when a call's
   * worth is waiting). Resolves with its result; never rejects.
   */
  enqueue(envelope: Envelope): Promise<SendResult> {
    return new Promise<SendResult>((resolve) => {
      const item = this.prepare(envelope, resolve)
      if (!item) return
      this.staged.push(item)
      this.stagedBytes += item.bytes
      if (this.lingerMs === 0 || this.staged.length >= this.maxBatchRecords || this.stagedBytes >= this.maxBatchBytes) {
        this.releaseStaged()
        this.pump()
      } else {
        this.lingerTimer ??= setTimeout(() => {
          this.releaseStaged()
          this.pump()
        }, this.lingerMs)
      }
    })
  }

  /** Sends whatever `enqueue` holds and waits until every message so far has its result. */
  async flush(): Promise<void> {
    this.releaseStaged()
    this.pump()
    if (this.outstanding === 0) return
    await new Promise<void>((resolve) => this.idle.push(resolve))
  }

  /** Flushes, then takes no more messages (they fail with a SystemStoppedError). Leaves the client open. */
  async close(): Promise<void> {
    this.closed = true
    await this.flush()
    clearTimeout(this.wakeTimer)
    this.wakeTimer = undefined
  }

  /**
   * Puts record data as it is, with one PutRecord (no codec, no aggregate, no batching): what
   * replay does with an unreadable record's letter, whose bytes go back on their stream. Checked
   * against the stream's record limit first; `about` names the letter in errors. Resolves once
   * Kinesis has the record; rejects with a RecordTooLargeError or a SendFailedError.
   */
  async putData(record: { stream: string; partitionKey: string; data: Uint8Array }, about: { actor: string; messageId: string }): Promise<{ shardId: string; sequenceNumber: string }> {
    if (this.closed) throw new SystemStoppedError('the Kinesis transport is closed and takes no new records')
    const bytes = record.data.byteLength + Buffer.byteLength(record.partitionKey)
    const limit = await this.recordLimit(record.stream)
    if (bytes > limit) throw new RecordTooLargeError(about.actor, about.messageId, bytes, limit, record.stream)
    try {
      const out = await this.client.send(new PutRecordCommand({ StreamName: record.stream, PartitionKey: record.partitionKey, Data: record.data }))
      this.stats.recordsSent++
      return { shardId: out.ShardId ?? '', sequenceNumber: out.SequenceNumber ?? '' }
    } catch (error) {
      this.stats.recordsFailed++
      const e = error as { name?: string; message?: string }
      throw new SendFailedError(about.actor, about.messageId, record.stream, e.name ?? 'Error', 1, e.message ?? '', { cause: error })
    }
  }

  /**
   * The largest record (data plus partition key, in bytes) `stream` takes: `MaxRecordSizeInKiB`
   * from DescribeStreamSummary, else 1 MiB. Asked once per stream and kept.
   */
  recordLimit(stream: string): Promise<number> {
    let limit = this.limits.get(stream)
    if (!limit) {
      this.stats.describeCalls++
      limit = this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream })).then((out) => {
        const kib = out.StreamDescriptionSummary?.MaxRecordSizeInKiB
        return typeof kib === 'number' && kib > 0 ? kib * 1024 : DEFAULT_MAX_RECORD_BYTES
      })
      this.limits.set(stream, limit)
      limit.catch(() => this.limits.delete(stream)) // ask again next time
    }
    return limit
  }

  // ——— intake ———

  /** Encodes and routes one envelope; on failure resolves its result at once and returns undefined. */
  private prepare(envelope: Envelope, resolve: (r: SendResult) => void): Item | undefined {
    const actor = typeof envelope?.type === 'string' ? envelope.type : '(unknown actor)'
    const messageId = typeof envelope?.id === 'string' ? envelope.id : '(no id)'
    if (this.closed) {
      resolve(failedResult(envelope, undefined, 0, new SystemStoppedError('the Kinesis transport is closed and takes no new messages')))
      return undefined
    }
    let record: EncodedRecord
    try {
      record = this.codec.toRecord(envelope, this.router)
    } catch (e) {
      const error = e instanceof TroupeError ? e : new InvalidEnvelopeError(actor, messageId, `it could not be routed or encoded (${String((e as Error)?.message ?? e)})`, { cause: e })
      this.stats.recordsFailed++
      resolve(failedResult(envelope, undefined, 0, error))
      return undefined
    }
    this.outstanding++
    return {
      envelope,
      stream: record.stream,
      partitionKey: record.partitionKey,
      data: record.data,
      bytes: record.bytes,
      attempts: 0,
      lastError: undefined,
      finish: (result) => {
        resolve(result)
        if (--this.outstanding === 0) for (const done of this.idle.splice(0)) done()
      },
    }
  }

  private releaseStaged(): void {
    clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    const staged = this.staged
    this.staged = []
    this.stagedBytes = 0
    for (const item of staged) this.admit(item)
  }

  private admit(item: Item): void {
    let lane = this.lanes.get(item.stream)
    if (!lane) {
      lane = { stream: item.stream, queue: new PartitionQueue<Item>(this.ordering), limit: undefined, intake: [], describing: false }
      this.lanes.set(item.stream, lane)
    }
    if (lane.limit === undefined) {
      lane.intake.push(item)
      this.learnLimit(lane)
    } else this.queue(lane, item)
  }

  private queue(lane: Lane, item: Item): void {
    if (item.bytes > lane.limit!) {
      this.fail(item, new RecordTooLargeError(item.envelope.type, item.envelope.id, item.bytes, lane.limit!, lane.stream))
    } else lane.queue.add(item)
  }

  private learnLimit(lane: Lane): void {
    if (lane.describing) return
    lane.describing = true
    this.recordLimit(lane.stream).then(
      (limit) => {
        lane.describing = false
        lane.limit = limit
        for (const item of lane.intake.splice(0)) this.queue(lane, item)
        this.pump()
      },
      (e: unknown) => {
        lane.describing = false
        const error = callError(e)
        for (const item of lane.intake.splice(0)) {
          this.fail(item, new SendFailedError(item.envelope.type, item.envelope.id, lane.stream, error.code, 0, `DescribeStreamSummary failed: ${error.message}`, { cause: e }))
        }
        this.pump()
      },
    )
  }

  // ——— calls ———

  /** Starts calls while there is room and something is ready; sets a timer for records backing off. */
  private pump(): void {
    const now = Date.now()
    while (this.inFlight < this.maxInFlight) {
      const next = this.nextBatch(now)
      if (!next) break
      void this.call(next.lane, next.items)
    }
    let wake = Infinity
    for (const lane of this.lanes.values()) wake = Math.min(wake, lane.queue.nextReadyAt(now) ?? Infinity)
    if (wake === Infinity) {
      clearTimeout(this.wakeTimer)
      this.wakeTimer = undefined
      this.wakeAt = Infinity
    } else if (this.wakeTimer === undefined || wake < this.wakeAt) {
      clearTimeout(this.wakeTimer)
      this.wakeAt = wake
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = undefined
        this.wakeAt = Infinity
        this.pump()
      }, wake - now)
    }
  }

  /** The next call's entries (each one record, or one key's run as an aggregate), taking streams in turn. */
  private nextBatch(now: number): { lane: Lane; items: Item[][] } | undefined {
    const lanes = [...this.lanes.values()]
    for (let i = 0; i < lanes.length; i++) {
      const index = (this.laneCursor + i) % lanes.length
      const lane = lanes[index]!
      if (lane.limit === undefined || lane.queue.size === 0) continue
      const packing: Packing<Item> | undefined = this.aggregate
        ? {
            maxBytes: Math.min(lane.limit, this.maxBatchBytes, this.codec.maxRecordBytes),
            ...AGGREGATE_OVERHEAD,
            joins: (a, b) => a.envelope.type === b.envelope.type && a.envelope.key === b.envelope.key,
          }
        : undefined
      const items = lane.queue.takeEntries(now, this.maxBatchRecords, this.maxBatchBytes, packing)
      if (items.length > 0) {
        this.laneCursor = index + 1
        return { lane, items }
      }
    }
    return undefined
  }

  private async call(lane: Lane, runs: Item[][]): Promise<void> {
    this.inFlight++
    this.stats.calls++
    const items = runs.flat()
    for (const item of items) item.attempts++
    const failed = new Set<Item>()
    let entries: PutRecordsResultEntry[] | undefined
    try {
      const records = runs.map((run) => ({ Data: run.length === 1 ? run[0]!.data : this.aggregateOf(run), PartitionKey: run[0]!.partitionKey }))
      const out = await this.client.send(new PutRecordsCommand({ StreamName: lane.stream, Records: records }))
      entries = out.Records
      if (!entries || entries.length !== runs.length) {
        throw Object.assign(new Error(`PutRecords answered ${entries?.length ?? 0} entries for ${runs.length} records`), { name: 'MalformedResponse' })
      }
    } catch (e) {
      this.stats.failedCalls++
      const error = callError(e)
      for (const item of items) {
        item.lastError = error
        failed.add(item)
      }
      entries = undefined
    }
    if (entries) {
      for (let i = 0; i < runs.length; i++) {
        const entry = entries[i]!
        if (entry.ErrorCode || !entry.ShardId || !entry.SequenceNumber) {
          const code = entry.ErrorCode ?? 'MalformedResponse'
          const error = { code, message: entry.ErrorMessage ?? (entry.ErrorCode ? '' : 'no shard id or sequence number'), retryable: RETRYABLE_RECORD_CODES.has(code) }
          // An aggregate fails whole: each of its messages goes again.
          for (const item of runs[i]!) {
            item.lastError = error
            failed.add(item)
          }
        }
      }
    }
    this.settle(lane, runs, items, failed, entries)
    this.inFlight--
    this.pump()
  }

  /** One record for a key's run: its messages' records packed in order. */
  private aggregateOf(run: readonly Item[]): Buffer {
    return this.codec.encodeAggregate(
      run.map((i) => i.data),
      run[0]!.envelope.type,
      run[0]!.envelope.id,
    )
  }

  private settle(lane: Lane, runs: Item[][], items: Item[], failed: ReadonlySet<Item>, entries: PutRecordsResultEntry[] | undefined): void {
    // One delay for the whole call, so the keys it failed come back together, in one call.
    const retryAt = failed.size > 0 ? Date.now() + this.backoff(Math.max(...[...failed].map((i) => i.attempts))) : 0
    const settlements: KeySettlement<Item>[] = lane.queue.settle(items, failed, () => retryAt)
    const overtook = new Set<Item>()
    for (const s of settlements) for (const item of s.overtook) overtook.add(item)
    if (entries) {
      for (let i = 0; i < runs.length; i++) {
        const run = runs[i]!
        if (failed.has(run[0]!)) continue
        const entry = entries[i]!
        if (run.length > 1) this.stats.aggregatesSent++
        run.forEach((item, member) => {
          this.stats.recordsSent++
          const result: SentResult = {
            status: 'sent',
            messageId: item.envelope.id,
            actor: item.envelope.type,
            stream: lane.stream,
            partitionKey: item.partitionKey,
            shardId: entry.ShardId!,
            sequenceNumber: entry.SequenceNumber!,
            ...(run.length > 1 ? { member } : {}),
            attempts: item.attempts,
          }
          if (overtook.has(item)) {
            result.overtook = true
            this.stats.recordsOvertaking++
          }
          item.finish(result)
        })
      }
    }
    for (const s of settlements) {
      const head = s.retry[0]!
      if (!head.lastError!.retryable || head.attempts >= this.maxAttempts) this.giveUp(lane, s.partitionKey)
      else this.stats.recordsRetried += s.retry.length
    }
  }

  /** Fails the head of a key and every record of the key waiting behind it (here and in `enqueue`'s hold). */
  private giveUp(lane: Lane, partitionKey: string): void {
    const dropped = lane.queue.drop(partitionKey)
    const staged = this.staged.filter((i) => i.stream === lane.stream && i.partitionKey === partitionKey)
    if (staged.length > 0) {
      this.staged = this.staged.filter((i) => !staged.includes(i))
      for (const i of staged) this.stagedBytes -= i.bytes
      dropped.push(...staged)
    }
    const blockedBy = dropped[0]!.envelope.id
    for (const item of dropped) {
      const e = item.lastError
      this.fail(
        item,
        item.attempts > 0 && e
          ? new SendFailedError(item.envelope.type, item.envelope.id, lane.stream, e.code, item.attempts, e.message, e.cause === undefined ? undefined : { cause: e.cause })
          : new HeldBackError(item.envelope.type, item.envelope.id, lane.stream, partitionKey, blockedBy),
      )
    }
  }

  private fail(item: Item, error: TroupeError): void {
    this.stats.recordsFailed++
    item.finish(failedResult(item.envelope, item, item.attempts, error))
  }

  /** Full jitter: a random delay up to min(maxDelayMs, baseDelayMs × 2^(attempts−1)). */
  private backoff(attempts: number): number {
    return Math.floor(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempts - 1)))
  }
}

function failedResult(envelope: Envelope, item: Item | undefined, attempts: number, error: TroupeError): FailedResult {
  return {
    status: 'failed',
    messageId: typeof envelope?.id === 'string' ? envelope.id : '(no id)',
    actor: typeof envelope?.type === 'string' ? envelope.type : '(unknown actor)',
    stream: item?.stream,
    partitionKey: item?.partitionKey,
    attempts,
    error,
  }
}

/** A whole call's error: its code, and whether trying again may help. */
function callError(e: unknown): ItemError {
  const err = (e ?? {}) as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } }
  const code = typeof err.name === 'string' && err.name ? err.name : 'Error'
  const status = err.$metadata?.httpStatusCode
  const retryable =
    RETRYABLE_CALL_ERRORS.has(code) ||
    Boolean(err.$retryable) ||
    (status !== undefined ? status >= 500 : code !== 'MalformedResponse') // no response at all: network, timeout
  return { code, message: typeof err.message === 'string' ? err.message.split('\n')[0]! : String(e), retryable, cause: e }
}

function int(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`KinesisTransportOptions.${name} must be a whole number from ${min} to ${max}, got ${value}`)
  }
  return value
}
