/**
 * What may travel in a message or live in actor state: what superjson round-trips
 * faithfully. Checked at compile time on the actor's generics and, in development and
 * tests, at run time on every message, so what works in memory works on AWS.
 */
export type Leaf = string | number | boolean | null | undefined | void | bigint | Date | RegExp | URL | Error

/**
 * `T` itself when every part of it survives superjson; otherwise the offending parts
 * become `never`, so `Actor<{ cb: () => void }>` fails to compile. (A mapped type at the
 * top, so it can bound the actor's own type parameters; bound them by `Serializable<T> | Leaf`
 * so branded strings and other leaves pass at the top too.)
 */
export type Serializable<T> = { [P in keyof T]: P extends symbol ? never : SerializableValue<T[P]> }

// `unknown` passes: its contents are checked at run time, in development and tests.
type SerializableValue<T> = unknown extends T
  ? T
  : T extends Leaf
  ? T
  : T extends ((...args: never[]) => unknown) | symbol
    ? never
    : T extends ReadonlyMap<infer K, infer V>
      ? ReadonlyMap<SerializableValue<K>, SerializableValue<V>>
      : T extends ReadonlySet<infer V>
        ? ReadonlySet<SerializableValue<V>>
        : T extends object
          ? Serializable<T>
          : never

/** Where a value stops being serialisable, and what was found there. */
export interface Unserializable {
  path: string
  found: string
}

const plainProtos = new Set<unknown>([Object.prototype, null])

/**
 * Keys superjson refuses to write anywhere in an object (a guard against prototype pollution):
 * a state or message holding one could be kept in memory but never stored or sent on AWS.
 */
const REFUSED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** Whether superjson refuses to write an object key named `key`. */
export function isRefusedKey(key: string): boolean {
  return REFUSED_KEYS.has(key)
}

/** Nesting the quick check follows before it hands over to the full walk. */
const QUICK_DEPTH = 8

/**
 * Walks `value` without recursion (hostile bodies may nest 10,000 deep) and returns
 * the first part that superjson would not round-trip, or `undefined`.
 */
export function findUnserializable(value: unknown, root = 'body'): Unserializable | undefined {
  // Most messages are small trees of plain data: clear them without building paths.
  if (quickOk(value, 0)) return undefined
  return walk(value, root)
}

/** True when `value` is shallow plain data of JSON kinds, Dates and bigints; false means "look closer". */
function quickOk(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return true
  // An Invalid Date is looked at closer: superjson would write it as null.
  if (value instanceof Date) return !Number.isNaN(value.getTime())
  if (depth >= QUICK_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !quickOk(value[i], depth + 1)) return false
    return true
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  for (const k in value) {
    if (!Object.hasOwn(value, k) || REFUSED_KEYS.has(k)) return false
    if (!quickOk((value as Record<string, unknown>)[k], depth + 1)) return false
  }
  return Object.getOwnPropertySymbols(value).length === 0
}

function walk(value: unknown, root: string): Unserializable | undefined {
  const seen = new Set<object>()
  const stack: [unknown, string][] = [[value, root]]
  while (stack.length > 0) {
    const [v, path] = stack.pop()!
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'undefined':
        continue
      case 'function':
        return { path, found: 'a function' }
      case 'symbol':
        return { path, found: 'a symbol' }
    }
    if (v === null || seen.has(v as object)) continue
    seen.add(v as object)
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) return { path, found: 'an invalid Date (superjson would write it as null)' }
      continue
    }
    if (v instanceof RegExp || v instanceof URL || v instanceof Error) continue
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        // superjson turns a hole into null, or drops a trailing one: the array would change.
        if (!(i in v)) return { path: `${path}[${i}]`, found: 'a hole (a sparse array)' }
        stack.push([v[i], `${path}[${i}]`])
      }
      continue
    }
    if (v instanceof Map) {
      let i = 0
      for (const [k, item] of v) {
        stack.push([k, `${path}.<key ${i}>`], [item, `${path}.get(${i})`])
        i++
      }
      continue
    }
    if (v instanceof Set) {
      let i = 0
      for (const item of v) stack.push([item, `${path}.<item ${i++}>`])
      continue
    }
    const proto = Object.getPrototypeOf(v)
    if (!plainProtos.has(proto)) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name ?? 'unknown'
      return { path, found: `an instance of class ${name}` }
    }
    if (Object.getOwnPropertySymbols(v).length > 0) return { path, found: 'a symbol-keyed property' }
    const keys = Object.keys(v as object)
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!
      if (REFUSED_KEYS.has(k)) return { path: `${path}.${k}`, found: `a key named "${k}", which superjson refuses to write` }
      stack.push([(v as Record<string, unknown>)[k], `${path}.${k}`])
    }
  }
  return undefined
}
