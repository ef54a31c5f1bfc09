// How an actor type asks to be supervised: the options of `static policy`, as users write them.
// supervisor/policy.ts fills their defaults and checks them.

/** A token-bucket rate: `ratePerSecond` tokens refill per second, up to `burst` saved. */
export interface Rate {
  ratePerSecond: number
  /** @default ratePerSecond (at least 1) */
  burst?: number
}

/** How an actor type is supervised. Every field is optional on the actor class (`static policy`). */
export interface PolicyOptions {
  /** Attempts per message including the first. @default 5 */
  maxAttempts?: number
  /** @default 100 */
  initialDelayMs?: number
  /** @default 30_000 */
  maxDelayMs?: number
  /** @default 2 */
  backoffMultiplier?: number
  /** A turn still running after this long fails with `TurnTimeoutError`; 0 turns it off. @default 60_000 */
  attemptTimeoutMs?: number
  /** Turns of this type running at once (unkeyed actors run concurrently; keyed ones one per key). @default 256 */
  concurrency?: number
  /** Token bucket shared by the whole type. */
  throttle?: Rate
  /** Token bucket per key (keyed actors only); other keys keep flowing. */
  throttlePerKey?: Rate
}
