import { ConfigError } from '../core/errors.js'
import * as d from '../core/defaults.js'
import type { PolicyOptions, Rate } from '../core/policy-options.js'

export interface Policy {
  maxAttempts: number
  initialDelayMs: number
  maxDelayMs: number
  backoffMultiplier: number
  attemptTimeoutMs: number
  concurrency: number
  throttle: Required<Rate> | undefined
  throttlePerKey: Required<Rate> | undefined
}

/** Fills defaults and rejects bad values eagerly, naming the actor and the field. */
export function resolvePolicy(actor: string, options: PolicyOptions = {}, keyed: boolean): Policy {
  const policy: Policy = {
    maxAttempts: int(actor, 'maxAttempts', options.maxAttempts ?? d.DEFAULT_MAX_ATTEMPTS, 1),
    initialDelayMs: ms(actor, 'initialDelayMs', options.initialDelayMs ?? d.DEFAULT_INITIAL_DELAY_MS),
    maxDelayMs: ms(actor, 'maxDelayMs', options.maxDelayMs ?? d.DEFAULT_MAX_DELAY_MS),
    backoffMultiplier: finite(actor, 'backoffMultiplier', options.backoffMultiplier ?? d.DEFAULT_BACKOFF_MULTIPLIER, 1),
    attemptTimeoutMs: ms(actor, 'attemptTimeoutMs', options.attemptTimeoutMs ?? d.DEFAULT_ATTEMPT_TIMEOUT_MS),
    concurrency: int(actor, 'concurrency', options.concurrency ?? d.DEFAULT_TYPE_CONCURRENCY, 1),
    throttle: rate(actor, 'throttle', options.throttle),
    throttlePerKey: rate(actor, 'throttlePerKey', options.throttlePerKey),
  }
  if (policy.throttlePerKey && !keyed) {
    throw new ConfigError(`${actor}.policy.throttlePerKey needs a key(msg) method on ${actor}; unkeyed actors have no per-key bucket`)
  }
  return policy
}

/**
 * Exponential backoff with full jitter: a random delay in [0, cap], where the cap
 * grows by the multiplier per attempt up to `maxDelayMs`. `attempt` is the one that failed.
 */
export function retryDelayMs(policy: Policy, attempt: number, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffMultiplier ** (attempt - 1))
  return Math.round(random() * cap)
}

/**
 * The longest delay or timeout a policy may name: a host waits for it with a timer (Node's
 * setTimeout takes at most 2^31 - 1 ms, about 24.8 days) or puts it in a timer's due time and a
 * lease's expiry, none of which can hold an endless or NaN one.
 */
export const MAX_POLICY_MS = 2 ** 31 - 1

function num(actor: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new ConfigError(`${actor}.policy.${field} must be a number from ${min} up, got ${show(value)}`)
  }
  return value
}

function int(actor: string, field: string, value: unknown, min: number): number {
  const n = num(actor, field, value, min)
  if (!Number.isInteger(n) && n !== Infinity) {
    throw new ConfigError(`${actor}.policy.${field} must be an integer, got ${show(value)}`)
  }
  return n
}

/** A finite number from `min` up: Infinity means "without end" only where a field says so (maxAttempts, concurrency). */
function finite(actor: string, field: string, value: unknown, min: number): number {
  const n = num(actor, field, value, min)
  if (!Number.isFinite(n)) throw new ConfigError(`${actor}.policy.${field} must be a finite number, got ${show(value)}`)
  return n
}

/** Milliseconds from 0 to MAX_POLICY_MS. */
function ms(actor: string, field: string, value: unknown): number {
  const n = finite(actor, field, value, 0)
  if (n > MAX_POLICY_MS) throw new ConfigError(`${actor}.policy.${field} must be at most ${MAX_POLICY_MS} ms (about 24.8 days), got ${show(value)}`)
  return n
}

/** The slowest rate: a token at least every MAX_POLICY_MS, the longest a parked message's wake-up may be set for. */
const MIN_RATE_PER_SECOND = 1000 / MAX_POLICY_MS

function rate(actor: string, field: string, value: Rate | undefined): Required<Rate> | undefined {
  if (value === undefined) return undefined
  const ratePerSecond = finite(actor, `${field}.ratePerSecond`, value.ratePerSecond, 0)
  if (ratePerSecond < MIN_RATE_PER_SECOND) throw new ConfigError(`${actor}.policy.${field}.ratePerSecond must be at least ${MIN_RATE_PER_SECOND} (a token every ${MAX_POLICY_MS} ms, about 24.8 days), got ${show(value.ratePerSecond)}`)
  const burst = finite(actor, `${field}.burst`, value.burst ?? Math.max(1, ratePerSecond), 1)
  return { ratePerSecond, burst }
}

function show(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`
}
