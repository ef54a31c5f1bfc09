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
//
// Here: the journal's life (keep, rollback, release), its drafts and the proxy traps of object
// drafts, its notes. Map and Set drafts are in collection-drafts.ts, what a draft is and the
// overlays in state-draft.ts, a note in state-notes.ts, a turn kept apart in kept-apart.ts, the
// check of what a turn wrote in written-serializable.ts.
import { CollectionTraps } from './collection-drafts.js'
import { TroupeError } from './errors.js'
import { KeptApart } from './kept-apart.js'
import { copyState, copyStateWith, setKey } from './state-copy.js'
import { DRAFT, draftOf, holdsDraft, MAP, OBJECT, SET, type Collection, type Draft, type DraftJournal, type Kind, type Overlay } from './state-draft.js'
import { indexNote, put, read, SCAN_LIMIT, valueOf, type Note } from './state-notes.js'
import { writtenSerializable } from './written-serializable.js'

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
export class StateJournal implements ProxyHandler<Record<PropertyKey, unknown>>, DraftJournal {
  /** What the turn sees as its state: a draft of it, or the state itself when it is no container. */
  readonly view: unknown
  /** The first draft (the root's), apart: most turns draft nothing else, and a Map per turn cost more than the turn. */
  private rootDraft: Draft | undefined
  /** The drafts of the state's other containers, once there is one. */
  private drafts: Map<object, Draft> | undefined
  /** Every key changed, once each, in the order of their first change. */
  private readonly notes: Note[] = []
  /** The notes by container and key, once there are more than SCAN_LIMIT. */
  private index: Map<object, Map<unknown, Note>> | undefined
  /** The containers that hide keys in this turn (read by the Map and Set drafts). */
  overlays: Map<object, Overlay> | undefined
  private collectionTraps: CollectionTraps | undefined
  closed = false
  /** While a successful `apart` turn is kept: the containers to copy, and their copies. */
  private apart: KeptApart | undefined

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
      this.apart = new KeptApart(this.notes, this.overlays, (t) => this.record(t)!.parent, (v) => this.adopt(v))
      const kept = this.adopt(final)
      this.undo()
      this.apart = undefined
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
    return writtenSerializable(this.notes, this.overlays)
  }

  /** Nothing: a freeze the drafts could not undo is refused when it happens (`preventExtensions`). */
  refusal(): Error | undefined {
    return undefined
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
    if (key === DRAFT) return this.record(target)
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
    const known = this.record(raw)
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
    const record = { raw, proxy, journal: this, parent }
    if (this.rootDraft === undefined) this.rootDraft = record
    else (this.drafts ??= new Map()).set(raw, record)
    return proxy
  }

  /** The record of a draft of this journal's state. */
  record(raw: object): Draft | undefined {
    return this.rootDraft?.raw === raw ? this.rootDraft : this.drafts?.get(raw)
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
  written(value: unknown): unknown {
    return typeof value === 'object' && value !== null ? (this.record(value)?.proxy ?? value) : value
  }

  // ── notes ────────────────────────────────────────────────────────────────

  /** Notes what `key` of `target` holds before the turn first changes it. */
  note(target: object, key: unknown, kind: Kind): void {
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
  noteOf(target: object, key: unknown): Note | undefined {
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

  overlayOf(raw: object): Overlay {
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
    return this.apart === undefined ? raw : this.apart.resolve(raw)
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

/** Whether `key` is an array index ("0", "1", …), which objects keep in number order, not insertion order. */
function isIndex(key: string): boolean {
  return String(Number(key) >>> 0) === key && key !== '4294967295'
}

/** What an object gives for a key it does not have: its prototype's. */
function inherited(target: object, key: PropertyKey): unknown {
  const proto = Object.getPrototypeOf(target) as object | null
  return proto === null ? undefined : Reflect.get(proto, key)
}
