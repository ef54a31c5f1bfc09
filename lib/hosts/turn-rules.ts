// The rules of a turn that every host applies the same way: filters before receive, and
// what a failure means (retry after a delay, or a dead letter now).
import type { Envelope } from '../core/envelope.js'
import { ConfigError, NotSerializableError, RetryableError, TerminalError, ValidationError } from '../core/errors.js'
import { isDrop, type Filter } from '../core/filter.js'
import { assertSerializable, validateBody } from '../core/validate.js'
import { retryDelayMs } from '../supervisor/policy.js'
import type { ActorType } from './actor-type.js'

/**
 * Global filters, then the actor's own. Returns the reason when the message is dropped;
 * otherwise leaves a rewritten body, validated like any message, in the envelope.
 */
export function applyFilters(type: ActorType, envelope: Envelope, filters: readonly Filter[], checkSerializable: boolean): string | undefined {
  let body = envelope.body
  for (const f of filters) {
    const out = f(body, envelope)
    if (isDrop(out)) return out.reason
    if (out !== undefined) body = out
  }
  if (type.hasFilter) {
    const out = type.actor.filter!(body, envelope)
    if (isDrop(out)) return out.reason
    if (out !== undefined) body = out
  }
  if (body !== envelope.body) {
    const checked = validateBody(type.type, type.schema, body)
    if (checked instanceof Promise) throw new TerminalError(`${type.type} has an async schema; a filter's rewrite must validate synchronously`)
    if (checkSerializable) assertSerializable(type.type, 'message', checked)
    envelope.body = checked
  }
  return undefined
}

/** Errors no retry can fix: the message is dead-lettered at once. */
export function isTerminal(error: unknown): boolean {
  return error instanceof TerminalError || error instanceof NotSerializableError || error instanceof ValidationError || error instanceof ConfigError
}

/**
 * How long to wait before the next attempt after `attempt` failed with `error`, or
 * undefined when the message is done trying (terminal, or out of attempts).
 */
export function nextAttemptDelayMs(type: ActorType, error: unknown, attempt: number, random: () => number): number | undefined {
  if (isTerminal(error) || attempt >= type.policy.maxAttempts) return undefined
  if (error instanceof RetryableError && error.retryAfterMs !== undefined) return error.retryAfterMs
  return retryDelayMs(type.policy, attempt, random)
}
