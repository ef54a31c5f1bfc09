/** Beyond this depth the copy goes on with an explicit stack instead of the JS call stack. */
const MAX_RECURSIVE_DEPTH = 100

/**
 * Copies actor state: a new instance's initial state, the state inspection hands out, what
 * a turn writes into its state or sends from it (see StateJournal, which spares turns a copy).
 * State is plain data (see `Serializable`), which makes a hand-written copy several
 * times faster than structuredClone for the small states most actors keep.
 * RegExp, URL and Error values are shared, not copied: treat them as immutable. So are
 * frozen objects (every level of them).
 */
export function copyState<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  // Plain objects first: most states are one, and need none of the kind checks below.
  if (Object.getPrototypeOf(value) === Object.prototype && depth <= MAX_RECURSIVE_DEPTH) {
    const out = {}
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k]
      setKey(out, k, typeof v === 'object' && v !== null ? copyState(v, depth + 1) : v)
    }
    return out as T
  }
  if (depth > MAX_RECURSIVE_DEPTH) return copyDeep(value)
  const out = shell(value)
  if (out !== value) fill(value, out, copyState, depth + 1)
  return out as T
}

/** Sets `to[k]`; an own "__proto__" key (JSON.parse makes them) stays a key, not the prototype. */
export function setKey(to: object, k: PropertyKey, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(to, k, { value: v, enumerable: true, writable: true, configurable: true })
  else (to as Record<PropertyKey, unknown>)[k] = v
}

/** An empty container of the same kind, a copied Date, or `value` itself for shared values. */
function shell(value: object): object {
  if (Array.isArray(value)) return new Array(value.length)
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Map) return new Map()
  if (value instanceof Set) return new Set()
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  return proto === null ? Object.create(null) : {}
}

/**
 * Copies the children of `from` into `to`, each through `copy` at `depth`: copyState itself
 * (no closure per call on the common path), or copyDeep's stack pusher.
 */
function fill(from: object, to: object, copy: (v: unknown, depth: number) => unknown, depth: number): void {
  if (Array.isArray(from)) {
    for (let i = 0; i < from.length; i++) (to as unknown[])[i] = copy(from[i], depth)
  } else if (from instanceof Map) {
    for (const [k, v] of from) (to as Map<unknown, unknown>).set(k, copy(v, depth))
  } else if (from instanceof Set) {
    for (const v of from) (to as Set<unknown>).add(copy(v, depth))
  } else if (!(from instanceof Date)) {
    for (const k in from) setKey(to, k, copy((from as Record<string, unknown>)[k], depth))
  }
}

/** The same copy without recursion, for states nested deeper than the call stack allows. */
function copyDeep<T>(root: T): T {
  return copyStateWith(root, () => undefined)
}

/**
 * copyState without recursion, with a say over every object first: `own(value)` returns
 * what to put in its place, or `undefined` to copy it as copyState would. Map keys are kept,
 * not copied. The state journal copies what a turn wrote with it, its drafts resolved.
 */
export function copyStateWith<T>(root: T, own: (value: object) => unknown): T {
  const pending: [object, object][] = []
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v
    const owned = own(v)
    if (owned !== undefined) return owned
    if (Object.isFrozen(v)) return v
    const out = shell(v)
    if (out !== v && !(v instanceof Date)) pending.push([v, out])
    return out
  }
  const top = copy(root)
  while (pending.length > 0) {
    const [from, to] = pending.pop()!
    fill(from, to, copy, 0)
  }
  return top as T
}
