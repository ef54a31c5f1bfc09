// How the record codec words what it refuses: a value described rather than quoted, an error
// cut short, and the message id and actor of a record when they are sane enough to name.
import { MAX_ID_LENGTH } from './record-limits.js'
import { isPlainObject } from './superjson-guard.js'
import { isWellFormed } from '../core/validate.js'

/** Reasons quote their input; keep them readable. */
const MAX_REASON_LENGTH = 500

export function fail(reason: string, ids: { actor?: string; messageId?: string } = {}): { ok: false; reason: string; messageId?: string; actor?: string } {
  const result: { ok: false; reason: string; messageId?: string; actor?: string } = {
    ok: false,
    reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason,
  }
  if (ids.messageId !== undefined) result.messageId = ids.messageId
  if (ids.actor !== undefined) result.actor = ids.actor
  return result
}

/** The message id and actor of a record or envelope, when they are sane strings. */
export function readable(o: unknown): { actor?: string; messageId?: string } {
  const r = (o !== null && typeof o === 'object' ? o : {}) as Record<string, unknown>
  const out: { actor?: string; messageId?: string } = {}
  const actor = sane(r.type)
  const messageId = sane(r.id)
  if (actor !== undefined) out.actor = actor
  if (messageId !== undefined) out.messageId = messageId
  return out
}

function sane(v: unknown): string | undefined {
  // Well-formed too: a letter names them, and its items' keys must keep them apart (UTF-8).
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH && isWellFormed(v) ? v : undefined
}

/** The message id and actor for an error message, with placeholders when not readable. */
export function names(o: unknown): { actor: string; messageId: string } {
  const { actor, messageId } = readable(o)
  return { actor: actor ?? '(unknown actor)', messageId: messageId ?? '(no id)' }
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : String(value)
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a Date'
  if (typeof value === 'object') return isPlainObject(value) ? 'an object' : `an instance of ${value.constructor?.name ?? 'a class'}`
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`
}

export function errorText(e: unknown): string {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  return m.length > 200 ? `${m.slice(0, 200)}…` : m
}
