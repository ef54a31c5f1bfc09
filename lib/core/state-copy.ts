/** Beyond this depth the copy hands the subtree to structuredClone, which does not recurse on the JS stack. */
const MAX_RECURSIVE_DEPTH = 100

/**
 * Copies actor state before a turn, so a failed turn leaves the state as it was
 * (the AWS mode never commits a failed turn; the embedded mode must not differ).
 * State is plain data (see `Serializable`), which makes a hand-written copy several
 * times faster than structuredClone for the small states most actors keep.
 */
export function copyState<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) return value
  if (depth > MAX_RECURSIVE_DEPTH) return structuredClone(value)
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copyState(value[i], depth + 1)
    return out as T
  }
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (value instanceof Map) {
    const out = new Map()
    for (const [k, v] of value) out.set(k, copyState(v, depth + 1))
    return out as T
  }
  if (value instanceof Set) {
    const out = new Set()
    for (const v of value) out.add(copyState(v, depth + 1))
    return out as T
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value // RegExp, URL, Error: treated as values
  const out: Record<string, unknown> = proto === null ? Object.create(null) : {}
  for (const k in value) {
    const v = copyState((value as Record<string, unknown>)[k], depth + 1)
    // An own "__proto__" key (JSON.parse makes them) must stay a key, not become the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
    else out[k] = v
  }
  return out as T
}
