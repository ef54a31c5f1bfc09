import type { Rate } from '../core/policy-options.js'

/** A bucket's tokens as of epoch milliseconds `at`. */
export interface BucketState {
  tokens: number
  at: number
}

/**
 * A token bucket on an injected clock. It holds no timers: callers ask how long to
 * wait and park the work themselves (on AWS, as a timer in the table).
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor(
    private readonly rate: Required<Rate>,
    now: number,
    /** Where a bucket kept elsewhere (in a durable instance's item) left off; full when absent. */
    saved?: BucketState,
  ) {
    this.tokens = saved ? Math.min(rate.burst, saved.tokens) : rate.burst
    this.updatedAt = saved ? saved.at : now
  }

  /** What to keep to carry the bucket on later (`new TokenBucket(rate, now, saved)`). */
  save(): BucketState {
    return { tokens: this.tokens, at: this.updatedAt }
  }

  /** 0 when `tokens` (at most the burst) are there now; otherwise the milliseconds until they will be. Takes nothing. */
  waitMs(now: number, tokens = 1): number {
    this.refill(now)
    if (this.tokens >= tokens) return 0
    return Math.ceil(((tokens - this.tokens) * 1000) / this.rate.ratePerSecond)
  }

  /** Takes a token; call after `waitMs` returned 0 at the same time. */
  take(): void {
    this.tokens -= 1
  }

  private refill(now: number): void {
    if (now <= this.updatedAt) return
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.updatedAt) * this.rate.ratePerSecond) / 1000)
    this.updatedAt = now
  }
}
