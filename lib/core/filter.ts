import type { Envelope } from './envelope.js'

const DROP = Symbol('troupe.drop')

/** Returned by a filter to drop a message; it ends with status "filtered" and the reason. */
export interface Drop {
  readonly [DROP]: true
  readonly reason: string
}

/** Drops the message being filtered. */
export function drop(reason = 'dropped by filter'): Drop {
  return { [DROP]: true, reason }
}

export function isDrop(value: unknown): value is Drop {
  return typeof value === 'object' && value !== null && DROP in value
}

/**
 * A global filter, run before every actor's own `filter` and `receive`.
 * Return `drop(reason)` to drop, a new body to rewrite, or nothing to pass the message on.
 */
export type Filter = (body: unknown, envelope: Envelope) => unknown
