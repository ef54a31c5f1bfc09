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
//   one aggregate record, accepted or failed whole (kinesis-aggregation.ts). A key with one
//   message waiting sends a plain record.
// - Giving up: when a record fails for good, every record of its key queued behind it fails too,
//   with a HeldBackError (sending them would break per-key order); the caller resends all in order.
//
// Here: the intake, the calls and what comes of them. Beside it: the options (kinesis-options.ts),
// the results (send-results.ts) and counts (kinesis-stats.ts), a message on its way (send-item.ts),
// a stream's lane (stream-lane.ts) and record limit (stream-limits.ts), when to retry
// (retry-policy.ts), aggregation, and replay's single put (put-data.ts).

import { PutRecordsCommand, type KinesisClient, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis'
import type { Envelope } from '../core/envelope.js'
import { ConfigError, SystemStoppedError, TroupeError } from '../core/errors.js'
import { PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS } from '../routing/kinesis-limits.js'
import { defaultRecordCodec, type EncodedRecord, type RecordCodec } from '../routing/record-codec.js'
import { InvalidEnvelopeError } from '../routing/record-errors.js'
import type { Router } from '../routing/router.js'
import { HeldBackError, SendFailedError } from './errors.js'
import { aggregateOf, aggregatePacking } from './kinesis-aggregation.js'
import { int, type KinesisTransportOptions } from './kinesis-options.js'
import { emptyStats, type KinesisTransportStats } from './kinesis-stats.js'
import type { KeySettlement, Ordering } from './partition-queue.js'
import { putData } from './put-data.js'
import { callError, entryError, RetryPolicy } from './retry-policy.js'
import type { SendItem } from './send-item.js'
import { failedResult, type SendReport, type SendResult, type SentResult } from './send-results.js'
import { StreamLane, type LaneOwner } from './stream-lane.js'
import { StreamLimits } from './stream-limits.js'

export type { KinesisTransportOptions } from './kinesis-options.js'
export type { KinesisTransportStats } from './kinesis-stats.js'
export type { FailedResult, SendReport, SendResult, SentResult } from './send-results.js'

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
  readonly stats: KinesisTransportStats = emptyStats()

  private readonly client: KinesisClient
  private readonly router: Router
  private readonly codec: RecordCodec
  private readonly lingerMs: number
  private readonly retry: RetryPolicy
  private readonly maxInFlight: number
  private readonly maxBatchRecords: number
  private readonly maxBatchBytes: number
  private readonly ordering: Ordering
  private readonly aggregate: boolean
  private readonly onPut: ((stream: string, shardId: string) => void) | undefined

  private readonly lanes = new Map<string, StreamLane>()
  private readonly limits: StreamLimits
  /** What the lanes call back: to fail a record, to start calls. */
  private readonly laneOwner: LaneOwner = { fail: (item, error) => this.fail(item, error), pump: () => this.pump() }
  private laneCursor = 0
  private staged: SendItem[] = []
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
    this.onPut = options.onPut
    this.lingerMs = int(options.lingerMs, 10, 0, 60_000, 'lingerMs')
    this.retry = new RetryPolicy(options)
    this.maxInFlight = int(options.maxInFlight, 4, 1, 1_000, 'maxInFlight')
    this.maxBatchRecords = int(options.maxBatchRecords, PUT_RECORDS_MAX_RECORDS, 1, PUT_RECORDS_MAX_RECORDS, 'maxBatchRecords')
    this.maxBatchBytes = int(options.maxBatchBytes, PUT_RECORDS_MAX_BYTES, 1, PUT_RECORDS_MAX_BYTES, 'maxBatchBytes')
    this.limits = new StreamLimits(this.client, this.stats)
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
    return putData(this.client, this.limits, this.stats, record, about)
  }

  /**
   * The largest record (data plus partition key, in bytes) `stream` takes: `MaxRecordSizeInKiB`
   * from DescribeStreamSummary, else 1 MiB. Asked once per stream and kept.
   */
  recordLimit(stream: string): Promise<number> {
    return this.limits.of(stream)
  }

  // ——— intake ———

  /** Encodes and routes one envelope; on failure resolves its result at once and returns undefined. */
  private prepare(envelope: Envelope, resolve: (r: SendResult) => void): SendItem | undefined {
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
      resolve,
    }
  }

  /** Hands an item's result back; the transport is idle when none is left. No closure per item. */
  private finish(item: SendItem, result: SendResult): void {
    item.resolve(result)
    if (--this.outstanding === 0) for (const done of this.idle.splice(0)) done()
  }

  private releaseStaged(): void {
    clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    const staged = this.staged
    this.staged = []
    this.stagedBytes = 0
    for (const item of staged) this.admit(item)
  }

  private admit(item: SendItem): void {
    let lane = this.lanes.get(item.stream)
    if (!lane) {
      lane = new StreamLane(item.stream, this.ordering, this.limits, this.laneOwner)
      this.lanes.set(item.stream, lane)
    }
    lane.admit(item)
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
  private nextBatch(now: number): { lane: StreamLane; items: SendItem[][] } | undefined {
    const lanes = [...this.lanes.values()]
    for (let i = 0; i < lanes.length; i++) {
      const index = (this.laneCursor + i) % lanes.length
      const lane = lanes[index]!
      if (lane.limit === undefined || lane.queue.size === 0) continue
      const packing = this.aggregate ? aggregatePacking(lane.limit, this.maxBatchBytes, this.codec) : undefined
      const items = lane.queue.takeEntries(now, this.maxBatchRecords, this.maxBatchBytes, packing)
      if (items.length > 0) {
        this.laneCursor = index + 1
        return { lane, items }
      }
    }
    return undefined
  }

  private async call(lane: StreamLane, runs: SendItem[][]): Promise<void> {
    this.inFlight++
    this.stats.calls++
    const items = runs.flat()
    for (const item of items) item.attempts++
    const failed = new Set<SendItem>()
    let entries: PutRecordsResultEntry[] | undefined
    try {
      const records = runs.map((run) => ({ Data: run.length === 1 ? run[0]!.data : aggregateOf(this.codec, run), PartitionKey: run[0]!.partitionKey }))
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
          const error = entryError(entry)
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
    if (entries && this.onPut) this.tellPut(lane.stream, entries)
  }

  private tellPut(stream: string, entries: PutRecordsResultEntry[]): void {
    const shards = new Set<string>()
    for (const e of entries) if (!e.ErrorCode && e.ShardId) shards.add(e.ShardId)
    for (const shardId of shards) {
      try {
        this.onPut!(stream, shardId)
      } catch {
        // Only a hint to a reader: a listener that throws changes nothing about the send.
      }
    }
  }

  private settle(lane: StreamLane, runs: SendItem[][], items: SendItem[], failed: ReadonlySet<SendItem>, entries: PutRecordsResultEntry[] | undefined): void {
    // One delay for the whole call, so the keys it failed come back together, in one call.
    const retryAt = failed.size > 0 ? Date.now() + this.retry.backoff(Math.max(...[...failed].map((i) => i.attempts))) : 0
    const settlements: KeySettlement<SendItem>[] = lane.queue.settle(items, failed, () => retryAt)
    const overtook = new Set<SendItem>()
    for (const s of settlements) for (const item of s.overtook) overtook.add(item)
    if (entries) {
      for (let i = 0; i < runs.length; i++) {
        const run = runs[i]!
        if (failed.has(run[0]!)) continue
        const entry = entries[i]!
        if (run.length > 1) this.stats.aggregatesSent++
        for (let member = 0; member < run.length; member++) {
          const item = run[member]!
          this.stats.recordsSent++
          const result: SentResult = {
            status: 'sent',
            messageId: item.envelope.id,
            actor: item.envelope.type,
            stream: lane.stream,
            partitionKey: item.partitionKey,
            shardId: entry.ShardId!,
            sequenceNumber: entry.SequenceNumber!,
            attempts: item.attempts,
          }
          if (run.length > 1) result.member = member
          if (overtook.has(item)) {
            result.overtook = true
            this.stats.recordsOvertaking++
          }
          this.finish(item, result)
        }
      }
    }
    for (const s of settlements) {
      const head = s.retry[0]!
      if (!head.lastError!.retryable || head.attempts >= this.retry.maxAttempts) this.giveUp(lane, s.partitionKey)
      else this.stats.recordsRetried += s.retry.length
    }
  }

  /** Fails the head of a key and every record of the key waiting behind it (here and in `enqueue`'s hold). */
  private giveUp(lane: StreamLane, partitionKey: string): void {
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

  private fail(item: SendItem, error: TroupeError): void {
    this.stats.recordsFailed++
    this.finish(item, failedResult(item.envelope, item, item.attempts, error))
  }
}

