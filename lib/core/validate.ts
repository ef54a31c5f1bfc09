import type { StandardSchemaV1 } from '@standard-schema/spec'
import { NotSerializableError, ValidationError } from './errors.js'
import { findUnserializable } from './serializable.js'

/**
 * Checks a body against the actor's schema. Returns the schema's output (schemas may
 * coerce), synchronously when the schema validates synchronously.
 */
export function validateBody(actor: string, schema: StandardSchemaV1 | undefined, body: unknown): unknown {
  if (!schema) return body
  const result = schema['~standard'].validate(body)
  if (result instanceof Promise) return result.then((r) => outcome(actor, r))
  return outcome(actor, result)
}

/** Throws `NotSerializableError` naming the actor and the path when `value` would not survive superjson. */
export function assertSerializable(actor: string, what: 'message' | 'state' | 'reply' | 'once result', value: unknown): void {
  const bad = findUnserializable(value, what === 'message' ? 'body' : what === 'once result' ? 'result' : what)
  if (bad) throw new NotSerializableError(actor, what, bad.path, bad.found)
}

function outcome(actor: string, result: StandardSchemaV1.Result<unknown>): unknown {
  if (!result.issues) return result.value
  throw new ValidationError(
    actor,
    result.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  )
}

function formatPath(path: StandardSchemaV1.Issue['path']): string {
  if (!path) return ''
  let out = ''
  for (const segment of path) {
    const key = typeof segment === 'object' ? segment.key : segment
    if (typeof key === 'number') out += `[${key}]`
    else out += out ? `.${String(key)}` : String(key)
  }
  return out
}

/**
 * Whether `text` is well-formed UTF-16: no lone surrogate. A string that becomes part of a
 * DynamoDB key must be, since DynamoDB stores UTF-8, where each lone surrogate becomes U+FFFD and
 * two different strings (`'\uD800'`, `'\uDC00'`) would meet in one item.
 */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}

/** A string for an error: quoted, with lone surrogates and control characters escaped, cut short. */
export function quoted(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)
}
