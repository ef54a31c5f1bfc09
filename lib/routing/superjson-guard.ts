// Checks a parsed superjson document before superjson applies it, so that a hostile record is
// refused with a reason instead of polluting prototypes, overflowing the stack or running for
// minutes. Everything here is iterative and linear in the size of the record.
//
// superjson 2.x writes `{ json, meta: { values, referentialEqualities, v: 1 } }`. `values` is a
// tree of type annotations keyed by dotted paths; `referentialEqualities` says which paths hold
// the same object. What can go wrong when a stranger writes them:
// - a path through `__proto__`, `constructor` or `prototype` (superjson refuses these too; we
//   refuse first, with our own reason), or one of those as a plain key anywhere: superjson reads
//   it but refuses to write it, so the message could never be kept or sent on;
// - type names troupe never sends (`class`, `custom`, `symbol`, typed arrays) or at the root;
// - quadratic work: superjson finds the n-th entry of a Map or Set by walking n entries. Its own
//   output never walks through a Map or Set it has already built (annotations are nested, children
//   first), but a crafted tree or reference list can, once per annotation. We accept the tree only
//   in the shape superjson writes (each path once, flattened paths only through unannotated
//   values) and bound the reference list by an upper bound of that walking;
// - super-linear parsing: BigInt and RegExp literals are bounded in length.

import { isRefusedKey } from '../core/serializable.js'
import { quoted } from '../core/validate.js'

/** The superjson types troupe messages carry (see `Serializable`): no classes, symbols, custom or typed arrays. */
const CARRIED_TYPES = new Set(['undefined', 'bigint', 'Date', 'Error', 'regexp', 'set', 'map', 'number', 'URL'])

/** Map/Set entries superjson may walk to apply a reference list; about 10 to 50 ms of work. */
export const REFERENCE_WORK_BUDGET = 10_000_000

export interface GuardLimits {
  /** Nesting of arrays and objects allowed in the body. */
  maxDepth: number
  /** Longest BigInt (in digits) or RegExp (in characters) a record may carry. */
  maxLiteralLength: number
}

/**
 * True when `text`, read as JSON, nests arrays and objects deeper than `limit`. One pass over the
 * characters, before anything is parsed.
 */
export function nestingExceeds(text: string, limit: number): boolean {
  return scanJson(text, limit) === undefined
}

/**
 * One pass over `text`, read as JSON, before anything is parsed: undefined when it nests arrays and
 * objects deeper than `limit`; otherwise how many entries it writes in its top-level object (`top`)
 * and in each object that is an item of an array in it (`members`: an aggregate's messages).
 * JSON.parse keeps the last of a key written twice, so a parsed object with fewer keys than its
 * text has entries names one twice, however it is spelled (`"json"` or `"\u006ason"`).
 */
export function scanJson(text: string, limit: number): { top: number; members: number[] } | undefined {
  let depth = 0
  let inString = false
  // Per depth, down to an aggregate's members (3): an array (true) or an object, its commas, and whether it holds anything.
  const isArray: boolean[] = []
  const commas: number[] = []
  const filled: boolean[] = []
  let top = 0
  const members: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
      continue
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue
    if (c === 0x2c /* , */) {
      if (depth <= 3) commas[depth]!++
      continue
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth <= 3) {
        const entries = filled[depth] ? commas[depth]! + 1 : 0
        if (depth === 1) top = entries
        else if (depth === 3 && !isArray[3] && isArray[2]) members.push(entries)
      }
      depth--
      continue
    }
    if (depth <= 3) filled[depth] = true
    if (c === 0x22) inString = true
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return undefined
      if (depth <= 3) {
        isArray[depth] = c === 0x5b
        commas[depth] = 0
        filled[depth] = false
      }
    }
  }
  return { top, members }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether parsed JSON `doc` is a superjson document, `{ json, meta }`, as troupe writes records and states. */
export function isSuperjsonDocument(doc: unknown): doc is Record<string, unknown> & { json: unknown } {
  return isPlainObject(doc) && Object.hasOwn(doc, 'json')
}

/**
 * Checks a parsed `{ json, meta }` document: no `__proto__` key anywhere, a body no deeper than
 * `maxDepth`, and metadata superjson can apply safely. Returns the reason to refuse it, or undefined.
 */
export function checkSuperjsonDocument(json: Record<string, unknown>, meta: unknown, limits: GuardLimits): string | undefined {
  const inRecord = refusedKey(json)
  if (inRecord !== undefined) return `the record has a key named "${inRecord}", which superjson refuses to write`
  const inMeta = meta === undefined ? undefined : refusedKey(meta)
  if (inMeta !== undefined) return `the superjson metadata has a key named "${inMeta}"`
  if (Object.hasOwn(json, 'body') && depthExceeds(json.body, limits.maxDepth)) {
    return `the body nests deeper than ${limits.maxDepth} levels`
  }
  return checkMeta(json, meta, limits.maxLiteralLength)
}

/**
 * The first key superjson refuses to write (`__proto__`, `constructor`, `prototype`) that an
 * object anywhere in `root` has (JSON.parse makes them as plain data), or undefined. superjson
 * reads such a key but cannot write it back: a message holding one could never be stored, sent
 * on or dead-lettered whole, so it is refused here, on the way in.
 */
function refusedKey(root: unknown): string | undefined {
  if (root === null || typeof root !== 'object') return undefined
  // Every record is walked: no list of keys or values is made per object.
  const stack: object[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (isObject(v[i])) stack.push(v[i] as object)
      continue
    }
    if (Object.hasOwn(v, '__proto__')) return '__proto__'
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue
      if (isRefusedKey(k)) return k
      const child = (v as Record<string, unknown>)[k]
      if (isObject(child)) stack.push(child as object)
    }
  }
  return undefined
}

/** True when `value` nests arrays and objects deeper than `limit` (the value itself is level 1). */
export function depthExceeds(value: unknown, limit: number): boolean {
  if (!isObject(value)) return false
  // Objects and their depths side by side; no closure is made per call (a bundle that keeps
  // function names names each one as it is made, and this runs for every record).
  const values: object[] = [value as object]
  const depths: number[] = [1]
  while (values.length > 0) {
    const v = values.pop()!
    const depth = depths.pop()!
    if (depth > limit) return true
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (isObject(v[i])) {
          values.push(v[i] as object)
          depths.push(depth + 1)
        }
      }
      continue
    }
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue
      const child = (v as Record<string, unknown>)[k]
      if (isObject(child)) {
        values.push(child as object)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object'
}

interface Annotation {
  path: string[]
  type: string
}

function checkMeta(json: Record<string, unknown>, meta: unknown, maxLiteralLength: number): string | undefined {
  if (meta === undefined || meta === null) return undefined
  if (!isPlainObject(meta)) return 'the superjson metadata is not an object'
  const { values, referentialEqualities, v } = meta
  if (values === undefined && referentialEqualities === undefined) return undefined
  if (v !== 1) return `superjson metadata version ${JSON.stringify(v) ?? 'undefined'} is not supported (troupe writes 1)`

  // 1. The annotation tree, in the shape superjson writes.
  const annotated = new Map<string, Annotation>()
  const nodes = new Set<string>()
  const flattened: string[] = []
  if (values !== undefined) {
    if (Array.isArray(values)) return 'the superjson metadata annotates the envelope itself, which is always a plain object'
    if (!isPlainObject(values)) return 'the superjson metadata `values` is not an object'
    const stack: [Record<string, unknown>, string[]][] = [[values, []]]
    while (stack.length > 0) {
      const [tree, base] = stack.pop()!
      for (const k of Object.keys(tree)) {
        const segments = parsePath(k)
        if (typeof segments === 'string') return segments
        const full = base.concat(segments)
        const bad = forbidden(full)
        if (bad) return bad
        for (let i = 1; i < segments.length; i++) flattened.push(pathKey(base.concat(segments.slice(0, i))))
        const key = pathKey(full)
        if (nodes.has(key)) return `the superjson metadata names ${display(full)} twice`
        nodes.add(key)
        const node = tree[k]
        if (Array.isArray(node)) {
          const [type, children] = node
          if (node.length < 1 || node.length > 2) return `the superjson annotation at ${display(full)} is malformed`
          if (typeof type !== 'string' || !CARRIED_TYPES.has(type)) {
            return `the superjson type ${JSON.stringify(type) ?? String(type)} at ${display(full)} is not one troupe messages carry`
          }
          annotated.set(key, { path: full, type })
          if (children !== undefined) {
            if (!isPlainObject(children)) return `the superjson annotation at ${display(full)} has malformed children`
            stack.push([children, full])
          }
        } else if (isPlainObject(node)) {
          stack.push([node, full])
        } else {
          return `the superjson metadata at ${display(full)} is neither an annotation nor a subtree`
        }
      }
    }
  }
  for (const key of flattened) {
    if (annotated.has(key)) return `the superjson metadata is not in the shape superjson writes (a path runs through the annotated ${display(JSON.parse(key) as string[])})`
  }

  // 2. What the annotations point at: Maps and Sets (their sizes bound step 3), bounded literals,
  // and dates that are times (an Invalid Date would be written again as null: its text lost).
  let largestCollection = 0
  for (const { path, type } of annotated.values()) {
    if (type !== 'map' && type !== 'set' && type !== 'bigint' && type !== 'regexp' && type !== 'Date') continue
    const value = resolve(json, path)
    if (value === MISSING) return `the superjson metadata names ${display(path)}, which is not in the record`
    if (type === 'Date') {
      if (typeof value !== 'string' || !Number.isFinite(new Date(value).getTime())) return `the Date at ${display(path)} is ${JSON.stringify(value)?.slice(0, 80)}, not a time`
    } else if (type === 'map' || type === 'set') {
      if (!Array.isArray(value)) return `the ${type === 'map' ? 'Map' : 'Set'} at ${display(path)} is not an array in the record`
      largestCollection = Math.max(largestCollection, value.length)
    } else {
      if (typeof value !== 'string') return `the ${type === 'bigint' ? 'BigInt' : 'RegExp'} at ${display(path)} is not a string in the record`
      if (value.length > maxLiteralLength) {
        return `the ${type === 'bigint' ? 'BigInt' : 'RegExp'} at ${display(path)} is ${value.length} characters long, over the limit of ${maxLiteralLength}`
      }
    }
  }

  // 3. The reference list: paths, and an upper bound of the Map/Set walking it costs.
  if (referentialEqualities !== undefined) {
    if (Array.isArray(referentialEqualities)) return 'the superjson metadata makes the envelope refer to itself'
    if (!isPlainObject(referentialEqualities)) return 'the superjson metadata `referentialEqualities` is not an object'
    let work = 0
    const cost = (path: string[]) => {
      if (largestCollection === 0) return 0 // no Map or Set: every step is a property read
      let c = 0
      for (const s of path) {
        const n = +s
        if (Number.isFinite(n) && n > 0) c += Math.min(n, largestCollection)
      }
      return c
    }
    for (const [k, targets] of Object.entries(referentialEqualities)) {
      const source = parsePath(k)
      if (typeof source === 'string') return source
      const bad = forbidden(source)
      if (bad) return bad
      if (!Array.isArray(targets)) return `the superjson references of ${display(source)} are not a list`
      work += cost(source)
      for (const t of targets) {
        if (typeof t !== 'string') return `a superjson reference of ${display(source)} is not a path`
        const target = parsePath(t)
        if (typeof target === 'string') return target
        const badTarget = forbidden(target)
        if (badTarget) return badTarget
        work += cost(target)
      }
      if (work > REFERENCE_WORK_BUDGET) {
        return `the superjson references would walk more than ${REFERENCE_WORK_BUDGET} Map/Set entries to apply`
      }
    }
  }
  return undefined
}

/** superjson's path syntax (metadata version 1): `.` separates, `\.` and `\\` escape. Returns a reason when malformed. */
function parsePath(text: string): string[] | string {
  const out: string[] = []
  let segment = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') {
      const next = text[i + 1]
      if (next !== '\\' && next !== '.') return `the superjson path ${JSON.stringify(text.slice(0, 200))} has a bad escape`
      segment += next
      i++
    } else if (c === '.') {
      out.push(segment)
      segment = ''
    } else segment += c
  }
  out.push(segment)
  return out
}

function forbidden(path: string[]): string | undefined {
  for (const s of path) if (isRefusedKey(s)) return `the superjson metadata names a path through "${s}"`
  return undefined
}

const MISSING = Symbol('missing')

/** The value at `path` in plain JSON (a Map is an array of [key, value] pairs, a Set an array). */
function resolve(root: unknown, path: string[]): unknown {
  let v = root
  for (const s of path) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9]\d{0,9})$/.test(s) || +s >= v.length) return MISSING
      v = v[+s]
    } else if (isPlainObject(v)) {
      if (!Object.hasOwn(v, s)) return MISSING
      v = v[s]
    } else return MISSING
  }
  return v
}

function pathKey(path: string[]): string {
  return JSON.stringify(path)
}

function display(path: string[]): string {
  return quoted(path.map((s) => s.replace(/\\/g, '\\\\').replace(/\./g, '\\.')).join('.'))
}
