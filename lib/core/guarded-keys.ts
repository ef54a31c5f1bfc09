// Keys superjson refuses to write (`__proto__`, `constructor`, `prototype`), which JSON.parse
// makes from plain data and the embedded mode accepts in a message: a dead letter must keep such a
// body whole, so where it is written with superjson (a letter's item, an outbox) those keys go with
// a `~` in front (and keys already of the form `~…__proto__` etc. with one more), and are restored
// as own properties on read, never as prototypes.

/** Keys superjson refuses, with any `~` already in front of them (those are escaped too, so escaping can be undone). */
const GUARDED_KEY = /^~*(?:__proto__|constructor|prototype)$/
const ESCAPED_KEY = /^~+(?:__proto__|constructor|prototype)$/

const escapeKey = (k: string): string => (GUARDED_KEY.test(k) ? `~${k}` : k)
const unescapeKey = (k: string): string => (ESCAPED_KEY.test(k) ? k.slice(1) : k)

/** A body escaped by `escapeBody`, as it was. */
export function unescapeBody(body: unknown): unknown {
  return renameKeys(body, unescapeKey)
}

/** The body as superjson will take it: itself, or a copy with its guarded keys escaped. */
export function escapeBody(body: unknown): { value: unknown; escaped: boolean } {
  const escaped = hasGuardedKey(body)
  return { value: escaped ? renameKeys(body, escapeKey) : body, escaped }
}

/** The containers superjson walks into: arrays, Maps, Sets and plain objects. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function hasGuardedKey(root: unknown): boolean {
  const seen = new Set<object>()
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null || seen.has(v)) continue
    seen.add(v)
    if (Array.isArray(v)) for (const x of v) stack.push(x)
    else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x)
    else if (v instanceof Set) for (const x of v) stack.push(x)
    else if (isPlain(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (GUARDED_KEY.test(k)) return true
        stack.push(x)
      }
    }
  }
  return false
}

/**
 * A copy of `root` with every plain object's keys passed through `rename`. Keys are defined, not
 * assigned, so `__proto__` stays a key. Shared and circular references stay shared; no recursion,
 * so depth is no limit.
 */
function renameKeys(root: unknown, rename: (key: string) => string): unknown {
  const copies = new Map<object, object>()
  const pending: [object, object][] = []
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v
    const known = copies.get(v)
    if (known) return known
    let out: object
    if (Array.isArray(v)) out = new Array(v.length)
    else if (v instanceof Map) out = new Map()
    else if (v instanceof Set) out = new Set()
    else if (isPlain(v)) out = Object.getPrototypeOf(v) === null ? Object.create(null) : {}
    else return v
    copies.set(v, out)
    pending.push([v, out])
    return out
  }
  const top = copy(root)
  while (pending.length > 0) {
    const [from, to] = pending.pop()!
    if (Array.isArray(from)) for (let i = 0; i < from.length; i++) (to as unknown[])[i] = copy(from[i])
    else if (from instanceof Map) for (const [k, x] of from) (to as Map<unknown, unknown>).set(copy(k), copy(x))
    else if (from instanceof Set) for (const x of from) (to as Set<unknown>).add(copy(x))
    else {
      for (const [k, x] of Object.entries(from)) {
        Object.defineProperty(to, rename(k), { value: copy(x), enumerable: true, writable: true, configurable: true })
      }
    }
  }
  return top
}
