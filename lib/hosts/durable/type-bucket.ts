// The token math of a type's rate (`policy.throttle`) on AWS, where no one item sees every turn of
// a keyed or stateless actor. The type's bucket is one number kept in an item of its own (store:
// TypeBucketStore), its clock `c` in epoch ms: the time by which every token handed out so far was
// earned, at one token per `periodMs`. At `now` the bucket holds min(burst, (now − c) / period)
// tokens (the generic cell rate algorithm). A claim of n tokens moves the clock on by n periods in
// one atomic update and learns where it stood before: its k-th token is earned at
// `before + k × period`, now or later. So a claim never fails and nothing is handed back: tokens
// earned later are a place in line, and the messages that hold them run at those times. A clock
// behind `now − burst × period` stands for a full bucket: it is restarted from that floor.
//
// Why the rate holds across hosts: the clock only moves forward by what is handed out (or jumps to
// the floor when the bucket was full), each update is atomic, and each token is used once, by the
// instance it was dealt to, not before the time it was earned. So the turns that start in any
// span of L ms are at most burst + rate × L, give or take the hosts' clock skew × rate, and the
// rate × how late the tokens are used (a wake-up that a scheduled tick fires late runs all the
// tokens its key earned meanwhile).
import type { Rate } from '../../core/policy-options.js'

/** Milliseconds per token. */
export function periodMs(rate: Required<Rate>): number {
  return 1000 / rate.ratePerSecond
}

/** The lowest the clock stands at `now`: any lower and the bucket would hold more than its burst. */
export function floorAt(rate: Required<Rate>, now: number): number {
  return now - rate.burst * periodMs(rate)
}

/** When each of `n` tokens claimed from a clock that stood at `before` is earned, earliest first. */
export function tokenTimes(rate: Required<Rate>, before: number, n: number): number[] {
  const period = periodMs(rate)
  return Array.from({ length: n }, (_, k) => before + (k + 1) * period)
}

/**
 * The most tokens one instance takes from its type's bucket at a time: its burst. A key with more
 * waiting takes the next share after using this one, behind every key that claimed meanwhile, so
 * one busy key cannot hold the line against the others (round-robin across the waiting keys).
 */
export function shareOf(rate: Required<Rate>): number {
  return Math.max(1, Math.ceil(rate.burst))
}

/**
 * Deals claimed tokens (earliest first) to those who asked: the smallest ask first (in the asks'
 * order among equals), each its tokens together. So a key with little waiting is served before
 * one with much, and each key's tokens come close together, for one wake-up to run them. `times`
 * holds the sum of the asks; the result is in the asks' order.
 */
export function dealTokens(asks: readonly number[], times: readonly number[]): number[][] {
  const order = asks.map((_, i) => i).sort((a, b) => asks[a]! - asks[b]! || a - b)
  const dealt: number[][] = asks.map(() => [])
  let next = 0
  for (const i of order) {
    dealt[i] = times.slice(next, next + asks[i]!)
    next += asks[i]!
  }
  return dealt
}

/**
 * A held token unused this long after it was earned is dropped: an instance keeps tokens only to
 * run what waits in it, and a wake-up comes at worst a scheduled tick (a minute) late. Tokens kept
 * longer would let many keys spend old tokens at once, far over the burst.
 */
export const HELD_TOKEN_MS = 2 * 60_000

/** The tokens of its type's bucket one instance holds, each usable from the time it was earned. */
export class HeldTokens {
  private readonly times: number[]

  constructor(...lots: readonly (readonly number[] | undefined)[]) {
    this.times = lots.flatMap((l) => l ?? []).sort((a, b) => a - b)
  }

  /** How many are held. */
  get size(): number {
    return this.times.length
  }

  /** 0 when a token is usable at `now`; else the ms until the next one is, or undefined when none is held. */
  waitMs(now: number): number | undefined {
    const first = this.times[0]
    if (first === undefined) return undefined
    return Math.max(0, Math.ceil(first - now))
  }

  /** Uses the earliest token; call after `waitMs` returned 0. */
  take(): void {
    this.times.shift()
  }

  /** When the last held token is earned; undefined when none is held. */
  lastAt(): number | undefined {
    return this.times.at(-1)
  }

  /**
   * What to keep in the item: the tokens not earned by `now`, and with `earnedToo` (messages wait
   * for them) those earned less than HELD_TOKEN_MS before it.
   */
  keep(now: number, earnedToo: boolean): number[] | undefined {
    const from = earnedToo ? now - HELD_TOKEN_MS : now
    const kept = this.times.filter((at) => at > from)
    return kept.length === 0 ? undefined : kept
  }
}
