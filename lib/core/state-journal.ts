// One turn's changes to an actor's state, kept so that a failed turn leaves the state as it
// was without copying the state first: a turn costs what it touches, not what the state holds.
//
// The turn sees its state through drafts: proxies of the state's containers (plain and
// null-prototype objects, arrays, Maps, Sets) that write straight into them and note, on a
// key's first change in the turn, what the key held before. A failed turn puts those back; a
// successful one keeps the changes, and what it wrote is made plain data of the state's own
// (drafts resolved, values from elsewhere copied), so no proxy outlives the turn in the state,
// a store or the next turn. What leaves the turn (replies, bodies told) is released the same way.
//
// A key the container had before the turn is not deleted from it while the turn runs: it is
// hidden (see Overlay), so that a rollback finds it in its place; JS objects and Maps cannot
// put a key back in the middle of their order.
import { CollectionTraps } from './collection-drafts.js'
import { TroupeError } from './errors.js'
import { findUnserializable } from './serializable.js'
import { copyState, copyStateWith, setKey } from './state-copy.js'
import { DRAFT, draftOf, MAP, OBJECT, SET, type Collection, type Draft, type Kind } from './state-draft.js'

/** The first change a turn made to one key of one container: what the key held before. */
interface Note {
  target: object
  key: unknown
  kind: Kind
  had: boolean
  old: unknown
}

/**
 * The keys a container hides (it had them before the turn, which deleted them; they go when the
 * turn is kept) and those it holds at its end instead (set after a hidden one, so after it in JS
 * order). Objects hide only string keys that are not array indices: indices keep number order.
 */
interface Overlay {
  hidden: Set<unknown>
  tail: Map<unknown, unknown>
}

/** Notes a turn looks through one by one before it indexes them: most turns change a few keys. */
const SCAN_LIMIT = 16

/** The journal of the turn running on a state, by the state's root, for reads of the kept state. */
const running = new WeakMap<object, StateJournal>()

/** What a journal's host asks of it. */
export interface StateJournalOptions {
  /**
   * The state was serialisable when the turn began (a checked turn kept it, or it was read
   * from a store), so only what the turn writes needs checking. @default false
   */
  trusted?: boolean
  /**
   * A successful turn leaves the state it began from as it was and returns the new state as a
   * new value sharing the parts the turn did not change: for a host that may still refuse the
   * turn after it ended (the durable host's size check). @default false: the changes stay in
   * the state itself
   */
  apart?: boolean
}

/**
 * One turn's hold on an actor's state. The host hands `view` to the turn as `ctx.state` and
 * then ends the hold exactly once: `keep` after a successful turn, `rollback` after a failed one.
 * Frozen parts are shared and stay frozen; RegExp, URL and Error values are shared (treat them as
 * immutable, as `copyState` does); a Date is copied the first time the turn reads it, since a Date
 * changes through methods no proxy sees. The journal is the proxy handler of its object drafts.
 *
 * @example
 * const journal = new StateJournal(state)
 * const draft = journal.view as { views: number }
 * draft.views++
 * journal.rollback() // state.views is as it was
 */
export class StateJournal implements ProxyHandler<Record<PropertyKey, unknown>> {
  /** What the turn sees as its state: a draft of it, or the state itself when it is no container. */
  readonly view: unknown
  private readonly drafts = new Map<object, Draft>()
  /** Every key changed, once each, in the order of their first change. */
  private readonly notes: Note[] = []
  /** The notes by container and key, once there are more than SCAN_LIMIT. */
  private index: Map<object, Map<unknown, Note>> | undefined
  private overlays: Map<object, Overlay> | undefined
  private collectionTraps: CollectionTraps | undefined
  private closed = false
  /** While a successful `apart` turn is kept: the containers to copy, and their copies. */
  private touched: Set<object> | undefined
  private copies: Map<object, object> | undefined

  constructor(
    private readonly start: unknown,
    private readonly options: StateJournalOptions = {},
  ) {
    if (typeof start === 'object' && start !== null) {
      running.set(start, this)
      this.view = start instanceof Date ? new Date(start.getTime()) : this.draft(start, undefined)
    } else {
      this.view = start
    }
  }

  /**
   * Ends a successful turn whose state is now `final` (what `ctx.state` holds at its end) and
   * returns the state to keep, as plain data.
   */
  keep(final: unknown): unknown {
    this.close()
    if (this.options.apart) {
      // Copy every container the turn changed and those above it, then undo the changes in place.
      const touched = new Set<object>()
      for (const changed of [this.notes.map((n) => n.target), this.overlays?.keys() ?? []]) {
        for (const target of changed) {
          for (let t: object | undefined = target; t !== undefined && !touched.has(t); t = this.drafts.get(t)!.parent) touched.add(t)
        }
      }
      this.touched = touched
      this.copies = new Map()
      const kept = this.adopt(final)
      this.undo()
      this.touched = this.copies = undefined
      return kept
    }
    for (const note of this.notes) {
      if (note.kind === SET || (note.kind === OBJECT && !Object.hasOwn(note.target, note.key as PropertyKey))) continue
      const value = valueOf(note)
      if (typeof value !== 'object' || value === null) continue
      const adopted = this.adopt(value)
      if (adopted !== value) put(note, true, adopted)
    }
    // What was hidden goes now, and the tail comes after what stays.
    for (const [raw, overlay] of this.overlays ?? []) {
      for (const k of overlay.hidden) {
        if (raw instanceof Map || raw instanceof Set) raw.delete(k)
        else delete (raw as Record<PropertyKey, unknown>)[k as PropertyKey]
      }
      for (const [k, v] of overlay.tail) {
        if (raw instanceof Map) raw.set(k, this.adopt(v))
        else if (raw instanceof Set) raw.add(k)
        else setKey(raw, k as PropertyKey, this.adopt(v))
      }
    }
    return final === this.view ? this.start : this.adopt(final)
  }

  /** Ends a failed turn: every key it changed holds what it held before, in its place. */
  rollback(): void {
    if (this.closed) return
    this.close()
    this.undo()
  }

  /**
   * `value` leaving the turn (a reply, a body told): when it holds drafts, a plain copy of it,
   * so that it shares nothing with the state, whose next turns change it in place.
   */
  release(value: unknown): unknown {
    if (typeof value !== 'object' || value === null || !holdsDraft(value)) return value
    // A draft is copied through itself, so the copy is what the turn sees.
    return copyStateWith(value, (v) => (draftOf(v) !== undefined ? copyState(v) : undefined))
  }

  /**
   * True when everything the turn wrote survives superjson, so the state as a whole does: the
   * turn began from a serialisable state (`trusted`) and kept its root. False means: check all
   * of it (which also finds the path of the fault).
   */
  writesSerializable(final: unknown): boolean {
    if (!this.options.trusted || final !== this.view) return false
    for (const note of this.notes) {
      if (typeof note.key === 'symbol') return false
      const [has, value] = read(note)
      if (!has) continue
      if (note.kind !== OBJECT && unserializable(note.key)) return false
      if (note.kind === SET) continue
      if (Array.isArray(note.target) && !whole(note.target, note)) return false
      if (unserializable(value)) return false
    }
    for (const overlay of this.overlays?.values() ?? []) {
      for (const [k, v] of overlay.tail) if (unserializable(k) || unserializable(v)) return false
    }
    return true
  }

  /** Runs `read` on the state as it was before this turn, then puts the turn's changes back. */
  aside<T>(read_: (state: unknown) => T): T {
    const now = this.notes.map(read)
    this.undo()
    try {
      return read_(this.start)
    } finally {
      for (let i = 0; i < this.notes.length; i++) put(this.notes[i]!, now[i]![0], now[i]![1])
    }
  }

  // ── object drafts: the journal is their proxy handler ──────────────────

  get(target: Record<PropertyKey, unknown>, key: PropertyKey): unknown {
    if (key === DRAFT) return this.drafts.get(target)
    const overlay = this.overlays?.get(target)
    if (overlay !== undefined) {
      if (overlay.tail.has(key)) return this.written(overlay.tail.get(key))
      if (overlay.hidden.has(key)) return inherited(target, key)
    }
    const value = target[key]
    if (typeof value !== 'object' || value === null) return value
    // An inherited __proto__ is the prototype, not state.
    return key === '__proto__' && !Object.hasOwn(target, key) ? value : this.child(value, target, key, OBJECT)
  }

  has(target: Record<PropertyKey, unknown>, key: PropertyKey): boolean {
    const overlay = this.overlays?.get(target)
    if (overlay?.tail.has(key)) return true
    if (overlay?.hidden.has(key)) {
      const proto = Object.getPrototypeOf(target) as object | null
      return proto !== null && key in proto
    }
    return Reflect.has(target, key)
  }

  ownKeys(target: Record<PropertyKey, unknown>): ArrayLike<string | symbol> {
    const keys = Reflect.ownKeys(target)
    const overlay = this.overlays?.get(target)
    if (overlay === undefined) return keys
    // Strings in order (the hidden ones gone, then the tail), then symbols: an object's own order.
    return [...keys.filter((k) => typeof k === 'string' && !overlay.hidden.has(k)), ...(overlay.tail.keys() as Iterable<string>), ...keys.filter((k) => typeof k === 'symbol')]
  }

  getOwnPropertyDescriptor(target: Record<PropertyKey, unknown>, key: PropertyKey): PropertyDescriptor | undefined {
    const overlay = this.overlays?.get(target)
    if (overlay?.tail.has(key)) return { value: this.written(overlay.tail.get(key)), writable: true, enumerable: true, configurable: true }
    return overlay?.hidden.has(key) ? undefined : Reflect.getOwnPropertyDescriptor(target, key)
  }

  set(target: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): boolean {
    if (this.closed) return true
    if (Array.isArray(target)) this.noteLength(target, key, value)
    else if (this.overlaid(target, key, value)) return true
    this.note(target, key, OBJECT)
    return Reflect.set(target, key, value)
  }

  deleteProperty(target: Record<PropertyKey, unknown>, key: PropertyKey): boolean {
    if (this.closed) return true
    if (!Array.isArray(target) && typeof key === 'string' && !isIndex(key)) {
      // A key the object had before the turn stays in place, hidden, until the turn is kept.
      const overlay = this.overlays?.get(target)
      if (overlay?.tail.delete(key)) return true
      if (overlay?.hidden.has(key) || !Object.hasOwn(target, key)) return true
      if (this.noteOf(target, key)?.had !== false) {
        this.overlayOf(target).hidden.add(key)
        return true
      }
    }
    this.note(target, key, OBJECT)
    return Reflect.deleteProperty(target, key)
  }

  defineProperty(target: Record<PropertyKey, unknown>, key: PropertyKey, descriptor: PropertyDescriptor): boolean {
    if (this.closed) return true
    if (Array.isArray(target)) this.noteLength(target, key, descriptor.value ?? target.length)
    else if ('value' in descriptor && this.overlaid(target, key, descriptor.value)) return true
    this.note(target, key, OBJECT)
    return Reflect.defineProperty(target, key, descriptor)
  }

  preventExtensions(): boolean {
    throw new TroupeError('TROUPE_STATE_FROZEN', 'a part of ctx.state was frozen during a turn, which a failed turn could not undo; freeze a value before it enters the state')
  }

  // ── drafts ───────────────────────────────────────────────────────────────

  /** The draft of `raw`, a container of the state, made on first sight; shared values as they are. */
  private draft(raw: object, parent: object | undefined): unknown {
    const known = this.drafts.get(raw)
    if (known !== undefined) return known.proxy
    const proto = Object.getPrototypeOf(raw)
    let handler: ProxyHandler<object>
    if (proto === Object.prototype || proto === null || Array.isArray(raw)) {
      // Frozen parts are shared, and changing one throws as it always did.
      if (Object.isFrozen(raw)) return raw
      handler = this as ProxyHandler<object>
    } else if (raw instanceof Map || raw instanceof Set) {
      // A frozen Map or Set still changes through its methods: it gets a draft like any other.
      handler = this.collectionTraps ??= new CollectionTraps(this)
    } else {
      return raw
    }
    const proxy = new Proxy(raw, handler)
    this.drafts.set(raw, { raw, proxy, journal: this, parent })
    return proxy
  }

  /** The record of a draft of this journal's state. */
  record(raw: object): Draft | undefined {
    return this.drafts.get(raw)
  }

  /** What the turn reads at `key` of `container`: a draft of a container it had not written there. */
  child(value: unknown, container: object, key: unknown, kind: Kind): unknown {
    if (typeof value !== 'object' || value === null) return value
    // Written in this turn: the turn's own value (or a draft it put there).
    if (this.notes.length !== 0 && this.noteOf(container, key) !== undefined) return this.written(value)
    if (value instanceof Date) {
      if (kind === SET || this.closed || Object.isFrozen(value)) return value
      const copy = new Date(value.getTime())
      this.note(container, key, kind)
      if (kind === MAP) (container as Map<unknown, unknown>).set(key, copy)
      else setKey(container, key as PropertyKey, copy)
      return copy
    }
    return this.draft(value, container)
  }

  /** A value the turn wrote, as the turn reads it back. */
  private written(value: unknown): unknown {
    return typeof value === 'object' && value !== null ? (this.drafts.get(value)?.proxy ?? value) : value
  }

  // ── Map and Set drafts ───────────────────────────────────────────────────

  /** The entries of a Map, or the members of a Set as [member, member], as the turn sees them. */
  *entriesOf(raw: Collection): Generator<[unknown, unknown]> {
    const overlay = this.overlays?.get(raw)
    const visible = overlay === undefined ? raw.entries() : filter(raw.entries(), overlay.hidden)
    const kind = raw instanceof Map ? MAP : SET
    for (const [k, v] of visible) yield [k, this.child(v, raw, k, kind)]
    if (overlay !== undefined) for (const [k, v] of overlay.tail) yield [k, this.written(v)]
  }

  sizeOf(raw: Collection): number {
    const overlay = this.overlays?.get(raw)
    return overlay === undefined ? raw.size : raw.size - overlay.hidden.size + overlay.tail.size
  }

  holds(raw: Collection, key: unknown): boolean {
    const overlay = this.overlays?.get(raw)
    return overlay === undefined ? raw.has(key) : overlay.tail.has(key) || (!overlay.hidden.has(key) && raw.has(key))
  }

  valueAt(raw: Map<unknown, unknown>, key: unknown): unknown {
    const overlay = this.overlays?.get(raw)
    if (overlay !== undefined) {
      if (overlay.tail.has(key)) return this.written(overlay.tail.get(key))
      if (overlay.hidden.has(key)) return undefined
    }
    return this.child(raw.get(key), raw, key, MAP)
  }

  /** Map.set (with a value) or Set.add (without). */
  store(raw: Collection, key: unknown, value?: unknown): void {
    if (this.closed) return
    const overlay = this.overlays?.get(raw)
    const present = overlay === undefined ? raw.has(key) : !overlay.hidden.has(key) && raw.has(key)
    if (overlay !== undefined && (overlay.tail.has(key) || (!present && (overlay.hidden.has(key) || overlay.tail.size !== 0)))) {
      // Once a key is hidden, a key set after it goes at the end, after it (JS order).
      if (raw instanceof Map || !overlay.tail.has(key)) overlay.tail.set(key, raw instanceof Map ? value : key)
      return
    }
    if (raw instanceof Set && present) return
    this.note(raw, key, raw instanceof Map ? MAP : SET)
    if (raw instanceof Map) raw.set(key, value)
    else raw.add(key)
  }

  drop(raw: Collection, key: unknown): boolean {
    if (this.closed) return false
    const overlay = this.overlays?.get(raw)
    if (overlay?.tail.delete(key)) return true
    if (overlay?.hidden.has(key) || !raw.has(key)) return false
    if (this.noteOf(raw, key)?.had === false) return raw.delete(key) // set in this turn: nothing to keep in place
    this.overlayOf(raw).hidden.add(key)
    return true
  }

  empty(raw: Collection): void {
    if (this.closed) return
    for (const key of [...raw.keys()]) this.drop(raw, key)
    this.overlays?.get(raw)?.tail.clear()
  }

  /** What `raw` holds as the turn sees it, as a container of its own. */
  current(raw: Collection): Collection {
    if (this.overlays?.has(raw) !== true) return raw
    const out = raw instanceof Map ? new Map() : new Set()
    for (const [k, v] of this.entriesOf(raw)) {
      if (out instanceof Map) out.set(k, v)
      else out.add(k)
    }
    return out
  }

  // ── notes ────────────────────────────────────────────────────────────────

  /** Notes what `key` of `target` holds before the turn first changes it. */
  private note(target: object, key: unknown, kind: Kind): void {
    if (this.noteOf(target, key) !== undefined) return
    const had = kind === OBJECT ? Object.hasOwn(target, key as PropertyKey) : (target as Collection).has(key)
    const note: Note = { target, key, kind, had, old: undefined }
    if (had && kind !== SET) note.old = valueOf(note)
    this.notes.push(note)
    if (this.index !== undefined) indexNote(this.index, note)
    else if (this.notes.length > SCAN_LIMIT) {
      this.index = new Map()
      for (const n of this.notes) indexNote(this.index, n)
    }
  }

  /** The note of `key` of `target`, when the turn changed it. Keys compare as a Map's do. */
  private noteOf(target: object, key: unknown): Note | undefined {
    if (this.index !== undefined) return this.index.get(target)?.get(key)
    for (const note of this.notes) if (note.target === target && (note.key === key || (note.key !== note.key && key !== key))) return note
    return undefined
  }

  /**
   * An array's length and elements change each other without a trap: an element written past
   * the end moves the length, and a shorter length drops the elements past it. Note those first.
   */
  private noteLength(target: unknown[], key: PropertyKey, value: unknown): void {
    if (key === 'length') {
      const to = Number(value)
      for (let i = target.length - 1; i >= to; i--) if (i in target) this.note(target, String(i), OBJECT)
    } else if (typeof key === 'string' && isIndex(key) && Number(key) >= target.length) {
      this.note(target, 'length', OBJECT)
    }
  }

  /**
   * A write to an object that hides keys goes to its tail when the key is hidden or in the tail,
   * or is new while the tail is not empty (so the keys keep JS order). True when it went there.
   */
  private overlaid(target: object, key: PropertyKey, value: unknown): boolean {
    const overlay = this.overlays?.get(target)
    if (overlay === undefined) return false
    if (overlay.tail.has(key) || overlay.hidden.has(key) || (overlay.tail.size !== 0 && typeof key === 'string' && !isIndex(key) && !Object.hasOwn(target, key))) {
      overlay.tail.set(key, value)
      return true
    }
    return false
  }

  private overlayOf(raw: object): Overlay {
    this.overlays ??= new Map()
    let overlay = this.overlays.get(raw)
    if (overlay === undefined) this.overlays.set(raw, (overlay = { hidden: new Set(), tail: new Map() }))
    return overlay
  }

  private close(): void {
    this.closed = true
    if (running.get(this.start as object) === this) running.delete(this.start as object)
  }

  private undo(): void {
    for (let i = this.notes.length - 1; i >= 0; i--) {
      const note = this.notes[i]!
      put(note, note.had, note.old)
    }
  }

  // ── keeping ──────────────────────────────────────────────────────────────

  /**
   * What the turn wrote, as the state's own plain data: a draft becomes its container (a copy
   * of it, when kept apart), anything else (made in the turn, or from a message) is copied.
   */
  private adopt(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value
    const draft = draftOf(value)
    if (draft !== undefined && draft.journal === this) return this.resolve(draft.raw)
    return copyStateWith(value, (v) => {
      const draft = draftOf(v)
      if (draft === undefined) return undefined
      return draft.journal === this ? this.resolve(draft.raw) : copyState(v)
    })
  }

  private resolve(raw: object): object {
    return this.touched?.has(raw) ? this.copyOf(raw) : raw
  }

  /** A container as the turn left it, for a state kept apart: what the turn wrote adopted, changed children copied. */
  private copyOf(raw: object): object {
    let out = this.copies!.get(raw)
    if (out !== undefined) return out
    const keys = new Set(this.notes.filter((n) => n.target === raw).map((n) => n.key))
    const overlay = this.overlays?.get(raw)
    const take = (key: unknown, v: unknown): unknown =>
      keys.has(key) ? this.adopt(v) : typeof v === 'object' && v !== null && this.touched!.has(v) ? this.copyOf(v) : v
    if (raw instanceof Map || raw instanceof Set) {
      const collection = raw instanceof Map ? new Map() : new Set()
      this.copies!.set(raw, collection)
      for (const [k, v] of overlay === undefined ? raw.entries() : filter(raw.entries(), overlay.hidden)) {
        if (collection instanceof Map) collection.set(k, take(k, v))
        else collection.add(take(k, v))
      }
      for (const [k, v] of overlay?.tail ?? []) {
        if (collection instanceof Map) collection.set(k, this.adopt(v))
        else collection.add(this.adopt(k))
      }
      return collection
    }
    if (Array.isArray(raw)) {
      const array: unknown[] = new Array(raw.length)
      this.copies!.set(raw, array)
      for (let i = 0; i < raw.length; i++) array[i] = take(String(i), raw[i])
      return array
    }
    out = Object.getPrototypeOf(raw) === null ? Object.create(null) : {}
    this.copies!.set(raw, out!)
    for (const k in raw) if (overlay?.hidden.has(k) !== true) setKey(out!, k, take(k, (raw as Record<string, unknown>)[k]))
    for (const [k, v] of overlay?.tail ?? []) setKey(out!, k as PropertyKey, this.adopt(v))
    return out!
  }
}

/**
 * Runs `read` on `state` as its last successful turn left it: a turn still running on it
 * (awaiting, in the embedded host) has its changes set aside for the read. For inspection and
 * for saving the state while a turn runs.
 */
export function readKept<T>(state: unknown, read_: (state: unknown) => T): T {
  const journal = typeof state === 'object' && state !== null ? running.get(state) : undefined
  return journal === undefined ? read_(state) : journal.aside(read_)
}

/** Whether `value` is a draft of some turn's state. */
export function isDraft(value: unknown): boolean {
  return draftOf(value) !== undefined
}

// ── containers ─────────────────────────────────────────────────────────────

/** What `note.key` of `note.target` holds now: whether it is there, and its value. */
function read(note: Note): [boolean, unknown] {
  const { target, key } = note
  switch (note.kind) {
    case OBJECT: {
      const had = Object.hasOwn(target, key as PropertyKey)
      return [had, had ? (target as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined]
    }
    case MAP: {
      const map = target as Map<unknown, unknown>
      return map.has(key) ? [true, map.get(key)] : [false, undefined]
    }
    default:
      return [(target as Set<unknown>).has(key), undefined]
  }
}

function indexNote(index: Map<object, Map<unknown, Note>>, note: Note): void {
  let keys = index.get(note.target)
  if (keys === undefined) index.set(note.target, (keys = new Map()))
  keys.set(note.key, note)
}

/** What `note.key` of `note.target` holds now, when it is there (an object's or a Map's). */
function valueOf(note: Note): unknown {
  return note.kind === MAP ? (note.target as Map<unknown, unknown>).get(note.key) : (note.target as Record<PropertyKey, unknown>)[note.key as PropertyKey]
}

/** Makes `note.key` of `note.target` hold `value`, or not be there. */
function put(note: Note, had: boolean, value: unknown): void {
  const { target, key } = note
  switch (note.kind) {
    case OBJECT:
      if (had) setKey(target, key as PropertyKey, value)
      else delete (target as Record<PropertyKey, unknown>)[key as PropertyKey]
      return
    case MAP:
      if (had) (target as Map<unknown, unknown>).set(key, value)
      else (target as Map<unknown, unknown>).delete(key)
      return
    default:
      if (had) (target as Set<unknown>).add(key)
      else (target as Set<unknown>).delete(key)
  }
}

/** Whether `key` is an array index ("0", "1", …), which objects keep in number order, not insertion order. */
function isIndex(key: string): boolean {
  return String(Number(key) >>> 0) === key && key !== '4294967295'
}

/** What an object gives for a key it does not have: its prototype's. */
function inherited(target: object, key: PropertyKey): unknown {
  const proto = Object.getPrototypeOf(target) as object | null
  return proto === null ? undefined : Reflect.get(proto, key)
}

/** False when a write left a hole in the array (superjson would change it). */
function whole(array: unknown[], note: Note): boolean {
  if (note.key === 'length') {
    for (let i = note.old as number; i < array.length; i++) if (!(i in array)) return false
    return true
  }
  const i = Number(note.key)
  return !(Number.isInteger(i) && i >= 0 && i < array.length && !(i in array))
}

function unserializable(value: unknown): boolean {
  return draftOf(value) === undefined && findUnserializable(value) !== undefined
}

/** Whether a value made in a turn holds a draft anywhere. */
function holdsDraft(value: object): boolean {
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null || seen.has(v)) continue
    if (draftOf(v) !== undefined) return true
    seen.add(v)
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i])
    } else if (v instanceof Map) {
      for (const [k, item] of v) stack.push(k, item)
    } else if (v instanceof Set) {
      for (const item of v) stack.push(item)
    } else {
      const proto = Object.getPrototypeOf(v)
      if (proto === Object.prototype || proto === null) for (const k in v) stack.push((v as Record<string, unknown>)[k])
    }
  }
  return false
}

function* filter(entries: Iterable<[unknown, unknown]>, hidden: Set<unknown>): Generator<[unknown, unknown]> {
  for (const entry of entries) if (!hidden.has(entry[0])) yield entry
}
