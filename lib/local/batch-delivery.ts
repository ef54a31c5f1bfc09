// One delivery of a lane's next batch by the local event source mapping, and what its outcome
// does to the lane (AWS-SEMANTICS.md §1-§2): success checkpoints past the batch (or, with
// `duplicateDelivery`, delivers it once more); a partial batch response checkpoints before the
// lowest reported record; a failure counts an attempt of the unit, and is retried after a
// backoff, bisected, or (past `maximumRetryAttempts`) discarded to the on-failure destination.
// Records past `maximumRecordAgeInSeconds` are discarded before a delivery.
import { randomUUID } from 'node:crypto'
import { readBatchResponse, type BatchReport } from './batch-report.js'
import { eventPayload, type Rec } from './kinesis-event-record.js'
import type { InvokeResult } from './invoke-result.js'
import type { Checkpoints } from './mapping-checkpoints.js'
import { batchOf, removeFront, type Lane, type Unit } from './mapping-lane.js'
import type { LocalEventSourceMappingOptions, MappingSettings } from './mapping-options.js'
import type { ShardState } from './mapping-shard.js'
import type { MappingCounts } from './mapping-stats.js'
import { onFailureRecord, type OnFailureRecord } from './on-failure-record.js'

/** Delivers the batches of a mapping's lanes, one at a time per lane (the mapping decides when). */
export class BatchDelivery {
  constructor(
    private readonly options: LocalEventSourceMappingOptions,
    private readonly o: Readonly<MappingSettings>,
    /** The mapping's counters, added to here. */
    private readonly counts: MappingCounts,
    private readonly checkpoints: Checkpoints,
    /** The mapping is stopping: an invocation that could not be made then is let go, neither retried nor counted. */
    private readonly stopping: () => boolean,
  ) {}

  /** Discards the records at the front that are past the maximum age (RecordAgeExceeded); `now` is the mapping's clock. */
  expire(shard: ShardState, lane: Lane, now: number): void {
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

  /** Invokes the function with the lane's next batch (its unit's), and moves the lane on by the outcome. */
  async deliver(shard: ShardState, lane: Lane): Promise<void> {
    const unit = (lane.unit ??= lane.splits.length !== 0 ? { fixedSize: lane.splits.shift()!, attempts: 0, invokes: 0 } : { attempts: 0, invokes: 0 })
    const batch = batchOf(lane, unit, this.o.batchSize)
    if (batch.length === 0) return
    const payload = eventPayload(batch)
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
      result = await this.options.fn.invokeRaw(payload, { timeoutMs: this.o.timeoutMs })
    } catch (error) {
      if (this.stopping()) return
      if ((error as { code?: string }).code === 'TROUPE_LAMBDA_REQUEST_TOO_LARGE') {
        // A single record whose event passes 6 MB: it can never be delivered; fail it like a function error.
        result = { ok: false, requestId: randomUUID(), functionError: 'Unhandled', failure: 'error', error: { errorType: 'RequestTooLarge', errorMessage: (error as Error).message }, payload: '', durationMs: 0 }
      } else {
        // The function could not be invoked (stopped, throttled): try again later, no attempt counted.
        this.counts.notInvoked++
        lane.notBefore = Date.now() + this.o.backoff.initialMs
        this.o.logger.warn('could not invoke the function; trying again', { shard: shard.id, error: (error as Error).message })
        this.options.onBatch?.({ ...report, outcome: 'not-invoked', error: (error as Error).message })
        return
      }
    }
    this.counts.batches++
    this.counts.records += batch.length
    unit.invokes++
    unit.lastRequestId = result.requestId
    unit.lastVersion = result.executedVersion
    report.requestId = result.requestId
    if (result.executedVersion !== undefined) report.executedVersion = result.executedVersion

    let failedAt: number | undefined // index in the batch of the first record to retry
    if (!result.ok) {
      this.counts.functionErrors++
      unit.lastFunctionError = true
      failedAt = 0
      report.outcome = 'function-error'
      report.error = `${result.error.errorType}: ${result.error.errorMessage}`
    } else {
      unit.lastFunctionError = false
      if (this.o.reportBatchItemFailures) {
        const read = readBatchResponse(result.result, batch)
        if (read.kind === 'bad') {
          this.counts.badResponses++
          failedAt = 0
          report.outcome = 'bad-response'
          report.error = read.why
          this.o.logger.error('the function answered a partial batch response that names no record of this batch: the whole batch failed', {
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
      if (!unit.duplicate && this.o.duplicateDelivery > 0 && this.o.random() < this.o.duplicateDelivery) {
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
    lane.notBefore = Date.now() + Math.min(this.o.backoff.maxMs, this.o.backoff.initialMs * 2 ** (unit.attempts - 1))
  }

  /** Removes `n` records from the front of a lane (done or discarded), keeping the unit and halves in step, and moves the checkpoint. */
  private dropFront(shard: ShardState, lane: Lane, n: number): void {
    removeFront(lane, n)
    this.checkpoints.advance(shard)
  }

  /** Records given up on: counted, logged, and sent to the on-failure destination. */
  private discard(shard: ShardState, records: Rec[], condition: OnFailureRecord['requestContext']['condition'], unit: Unit | undefined): void {
    if (records.length === 0) return
    this.counts.discardedRecords += records.length
    const first = records[0]!
    const last = records.at(-1)!
    this.o.logger.warn('records discarded', { shard: shard.id, condition, from: first.seq, to: last.seq, records: records.length })
    const onFailure = this.options.onFailure
    if (!onFailure) return
    const record = onFailureRecord({ shardId: shard.id, functionArn: this.options.fn.arn, streamArn: this.o.streamArn }, records, condition, unit)
    this.counts.onFailureRecords++
    Promise.resolve()
      .then(() => onFailure(record))
      .catch((error: unknown) => this.o.logger.error('the on-failure destination refused a record', { shard: shard.id, error: (error as Error).message }))
  }
}
