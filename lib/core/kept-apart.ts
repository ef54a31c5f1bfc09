// A successful turn kept apart (StateJournalOptions.apart): the state the turn began from stays
// as it was, and the state to keep is a new value sharing the parts the turn did not change.
// Every container the turn changed, and those above it, is copied as the turn left it; the
// journal then undoes the changes in place.
import { setKey } from './state-copy.js'
import { visible, type Overlay } from './state-draft.js'
import type { Note } from './state-notes.js'

/** The copies of one turn kept apart: which containers to copy, and the copies made so far. */
export class KeptApart {
  /** Every container the turn changed, and those above it. */
  private readonly touched = new Set<object>()
  private readonly copies = new Map<object, object>()

  constructor(
    private readonly notes: readonly Note[],
    private readonly overlays: ReadonlyMap<object, Overlay> | undefined,
    /** The container a container of the state was read from (undefined for the root). */
    parentOf: (raw: object) => object | undefined,
    /** What the turn wrote, as the state's own plain data (the journal's, which resolves drafts here). */
    private readonly adopt: (value: unknown) => unknown,
  ) {
    const touched = this.touched
    for (const changed of [notes.map((n) => n.target), overlays?.keys() ?? []]) {
      for (const target of changed) {
        for (let t: object | undefined = target; t !== undefined && !touched.has(t); t = parentOf(t)) touched.add(t)
      }
    }
  }

  /** A container of the state as the kept state holds it: a copy when the turn touched it, else itself. */
  resolve(raw: object): object {
    return this.touched.has(raw) ? this.copyOf(raw) : raw
  }

  /** A container as the turn left it, for a state kept apart: what the turn wrote adopted, changed children copied. */
  private copyOf(raw: object): object {
    let out = this.copies.get(raw)
    if (out !== undefined) return out
    const keys = new Set(this.notes.filter((n) => n.target === raw).map((n) => n.key))
    const overlay = this.overlays?.get(raw)
    const take = (key: unknown, v: unknown): unknown =>
      keys.has(key) ? this.adopt(v) : typeof v === 'object' && v !== null && this.touched.has(v) ? this.copyOf(v) : v
    if (raw instanceof Map || raw instanceof Set) {
      const collection = raw instanceof Map ? new Map() : new Set()
      this.copies.set(raw, collection)
      for (const [k, v] of overlay === undefined ? raw.entries() : visible(raw.entries(), overlay.hidden)) {
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
      this.copies.set(raw, array)
      for (let i = 0; i < raw.length; i++) array[i] = take(String(i), raw[i])
      return array
    }
    out = Object.getPrototypeOf(raw) === null ? Object.create(null) : {}
    this.copies.set(raw, out!)
    for (const k in raw) if (overlay?.hidden.has(k) !== true) setKey(out!, k, take(k, (raw as Record<string, unknown>)[k]))
    for (const [k, v] of overlay?.tail ?? []) setKey(out!, k as PropertyKey, this.adopt(v))
    return out!
  }
}
