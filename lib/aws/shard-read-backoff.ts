// How a shard's reader waits out a failed Kinesis call (shard-reader.ts): throttles
// (ProvisionedThroughputExceeded, LimitExceeded) and transient errors back off with full jitter,
// 100 ms → 5 s, and try again, forever: a shard is never given up for a hiccup.

const BACKOFF_BASE_MS = 100
const BACKOFF_MAX_MS = 5_000
const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'ThrottlingException', 'KMSThrottlingException'])

/** Full jitter: a random delay up to min(5 s, 100 ms × 2^attempt). */
export function backoff(attempt: number): number {
  return Math.floor(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 20)))
}

/** The error (by its name) says the call was over a rate: counted, not logged. */
export function isThrottle(code: string): boolean {
  return THROTTLES.has(code)
}

export function errorName(e: unknown): string {
  return typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : ''
}
