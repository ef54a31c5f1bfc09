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
    initialDelayMs: num(actor, 'initialDelayMs', options.initialDelayMs ?? d.DEFAULT_INITIAL_DELAY_MS, 0),
    maxDelayMs: num(actor, 'maxDelayMs', options.maxDelayMs ?? d.DEFAULT_MAX_DELAY_MS, 0),
    backoffMultiplier: num(actor, 'backoffMultiplier', options.backoffMultiplier ?? d.DEFAULT_BACKOFF_MULTIPLIER, 1),
    attemptTimeoutMs: num(actor, 'attemptTimeoutMs', options.attemptTimeoutMs ?? d.DEFAULT_ATTEMPT_TIMEOUT_MS, 0),
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

function rate(actor: string, field: string, value: Rate | undefined): Required<Rate> | undefined {
  if (value === undefined) return undefined
  const ratePerSecond = num(actor, `${field}.ratePerSecond`, value.ratePerSecond, Number.MIN_VALUE)
  const burst = num(actor, `${field}.burst`, value.burst ?? Math.max(1, ratePerSecond), 1)
  return { ratePerSecond, burst }
}

function show(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`
}
