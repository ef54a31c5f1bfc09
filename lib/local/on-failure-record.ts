// The record the local event source mapping sends to its on-failure destination for records it
// gave up on (AWS-SEMANTICS.md §2.4): past the retries, or past the maximum record age.
import { randomUUID } from 'node:crypto'
import type { Rec } from './kinesis-event-record.js'
import type { Unit } from './mapping-lane.js'

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

/** The record for `records` (at least one) of a shard, discarded for `condition`; `unit` is the unit they were retried in, if any. */
export function onFailureRecord(
  where: { shardId: string; functionArn: string; streamArn: string },
  records: readonly Rec[],
  condition: OnFailureRecord['requestContext']['condition'],
  unit: Unit | undefined,
): OnFailureRecord {
  const first = records[0]!
  const last = records.at(-1)!
  return {
    requestContext: {
      requestId: unit?.lastRequestId ?? randomUUID(),
      functionArn: where.functionArn,
      condition,
      approximateInvokeCount: unit?.invokes ?? 0,
    },
    responseContext: { statusCode: 200, executedVersion: unit?.lastVersion ?? '$LATEST', ...(unit?.lastFunctionError ? { functionError: 'Unhandled' } : {}) },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: where.shardId,
      startSequenceNumber: first.seq,
      endSequenceNumber: last.seq,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: records.length,
      streamArn: where.streamArn,
    },
  }
}
