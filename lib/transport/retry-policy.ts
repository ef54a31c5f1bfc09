// Which failures of a PutRecords call are worth another attempt, and how long to wait first.
// A record that failed inside an HTTP 200 is classed by its entry's error code; a call that failed
// as a whole (after the SDK's own retries) by its error: transient errors go again, with
// full-jitter exponential backoff, until a record has had `maxAttempts`; the rest fail at once.
import type { PutRecordsResultEntry } from '@aws-sdk/client-kinesis'
import { int, type KinesisTransportOptions } from './kinesis-options.js'

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

/** Why a record's last attempt failed, and whether another may help. */
export interface ItemError {
  code: string
  message: string
  retryable: boolean
  cause?: unknown
}

/** How often a record is tried, and the backoff between tries. */
export class RetryPolicy {
  /** Attempts per record, the first included, before it fails. */
  readonly maxAttempts: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number
  private readonly random: () => number

  constructor(options: Pick<KinesisTransportOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'random'>) {
    this.maxAttempts = int(options.maxAttempts, 8, 1, 1_000, 'maxAttempts')
    this.baseDelayMs = int(options.baseDelayMs, 100, 0, 60_000, 'baseDelayMs')
    this.maxDelayMs = int(options.maxDelayMs, 5_000, 0, 600_000, 'maxDelayMs')
    this.random = options.random ?? Math.random
  }

  /** Full jitter: a random delay up to min(maxDelayMs, baseDelayMs × 2^(attempts−1)). */
  backoff(attempts: number): number {
    return Math.floor(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempts - 1)))
  }
}

/** The error of an entry PutRecords failed, or answered without a shard id or sequence number. */
export function entryError(entry: PutRecordsResultEntry): ItemError {
  const code = entry.ErrorCode ?? 'MalformedResponse'
  return { code, message: entry.ErrorMessage ?? (entry.ErrorCode ? '' : 'no shard id or sequence number'), retryable: RETRYABLE_RECORD_CODES.has(code) }
}

/** A whole call's error: its code, and whether trying again may help. */
export function callError(e: unknown): ItemError {
  const err = (e ?? {}) as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } }
  const code = typeof err.name === 'string' && err.name ? err.name : 'Error'
  const status = err.$metadata?.httpStatusCode
  const retryable =
    RETRYABLE_CALL_ERRORS.has(code) ||
    Boolean(err.$retryable) ||
    (status !== undefined ? status >= 500 : code !== 'MalformedResponse') // no response at all: network, timeout
  return { code, message: typeof err.message === 'string' ? err.message.split('\n')[0]! : String(e), retryable, cause: e }
}
