// Whether superjson would write a value as it is. Most messages and states are plain JSON data,
// and for them superjson's walk (a path and an identity map per container, to find the few values
// it must annotate) is most of the cost of encoding: this check finds them with one cheap walk,
// and leaves everything else to superjson, which decides as before.
import superjson from 'superjson'
import { isRefusedKey } from './serializable.js'

/** Containers `plainJson` looks at before it leaves a body to superjson: larger bodies are rare. */
const PLAIN_CONTAINERS = 64

/**
 * Whether superjson would write `value` as it is, with no meta: strings, booleans, null, finite
 * numbers other than -0, plain arrays without holes or keys of their own, and plain objects of
 * data properties, each container met once, with no key superjson refuses, and no custom
 * transformer registered (one may apply to any value). Its superjson document is then `{ json: value }`.
 */
export function plainJson(value: unknown): boolean {
  if (customTransformers()) return false
  const containers: object[] = []
  const stack: unknown[] = [value]
  while (stack.length !== 0) {
    const v = stack.pop()
    if (plainScalar(v)) continue
    if (typeof v !== 'object' || v === null || containers.length === PLAIN_CONTAINERS || containers.includes(v)) return false
    containers.push(v)
    if (Array.isArray(v)) {
      // A subclass (its own toJSON, or registered with superjson) or an array with keys of its
      // own beside its items (a RegExp match) is superjson's to write.
      if (Object.getPrototypeOf(v) !== Array.prototype || Object.keys(v).length !== v.length) return false
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return false
        stack.push(v[i])
      }
      continue
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false
    for (const k of Object.keys(v)) {
      if (isRefusedKey(k)) return false
      // A getter would be read again by JSON.stringify, and may answer otherwise then.
      const descriptor = Object.getOwnPropertyDescriptor(v, k)!
      if (!('value' in descriptor)) return false
      stack.push(descriptor.value)
    }
  }
  return true
}

/** A value superjson writes as it is and that holds nothing: a string, a boolean, null, or a finite number other than -0 (which superjson annotates). */
export function plainScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0))
}

/** Whether superjson's default instance has a custom transformer (registerCustom); true when that cannot be told. */
function customTransformers(): boolean {
  const registry = (superjson as unknown as { defaultInstance?: { customTransformerRegistry?: { transfomers?: object } } }).defaultInstance?.customTransformerRegistry?.transfomers
  if (typeof registry !== 'object' || registry === null) return true
  for (const _ in registry) return true
  return false
}
