// Map and Set drafts. A Map or Set keeps its entries in internal slots no proxy reaches: its
// draft answers with methods of its own, which reach the container and the journal through the
// draft's record, and read and write through the journal's notes and overlays (see StateJournal).
import { TroupeError } from './errors.js'
import { DRAFT, draftOf, MAP, SET, visible, type Collection, type DraftJournal } from './state-draft.js'

/** The proxy handler of a journal's Map and Set drafts. */
export class CollectionTraps implements ProxyHandler<Collection> {
  constructor(private readonly journal: DraftJournal) {}

  get(target: Collection, key: PropertyKey): unknown {
    if (key === DRAFT) return this.journal.record(target)
    if (key === 'size') return sizeOf(this.journal, target)
    const method = (target instanceof Map ? mapMethods : setMethods).get(key)
    if (method !== undefined) return method
    // Anything else (newer read-only methods such as Set's union) runs on the container as the turn sees it.
    const value = Reflect.get(target, key, target)
    return typeof value === 'function' ? value.bind(current(this.journal, target)) : value
  }

  /** Freezing a Map or Set draft would freeze the container itself for every turn after; it has no use in state. */
  preventExtensions(): boolean {
    throw new TroupeError('TROUPE_STATE_FROZEN', 'a Map or Set of ctx.state was frozen during a turn, which a failed turn could not undo; freeze a value before it enters the state')
  }
}

function recordOf(draft: unknown): { raw: Collection & Map<unknown, unknown>; journal: DraftJournal } {
  const record = draftOf(draft)
  if (record === undefined) throw new TypeError('a Map or Set method of ctx.state was called on something else')
  return record as { raw: Collection & Map<unknown, unknown>; journal: DraftJournal }
}

/** A draft used as a Map key or Set member means the container it stands for. */
function keyOf(key: unknown): unknown {
  return draftOf(key)?.raw ?? key
}

const shared = {
  has(this: unknown, key: unknown): boolean {
    const { raw, journal } = recordOf(this)
    return holds(journal, raw, keyOf(key))
  },
  delete(this: unknown, key: unknown): boolean {
    const { raw, journal } = recordOf(this)
    return drop(journal, raw, keyOf(key))
  },
  clear(this: unknown): void {
    const { raw, journal } = recordOf(this)
    empty(journal, raw)
  },
  forEach(this: unknown, fn: (value: unknown, key: unknown, collection: unknown) => void, thisArg?: unknown): void {
    const { raw, journal } = recordOf(this)
    for (const [k, v] of entriesOf(journal, raw)) fn.call(thisArg, v, raw instanceof Map ? k : v, this)
  },
  *entries(this: unknown): Generator<[unknown, unknown]> {
    const { raw, journal } = recordOf(this)
    for (const [k, v] of entriesOf(journal, raw)) yield raw instanceof Map ? [k, v] : [v, v]
  },
  *values(this: unknown): Generator<unknown> {
    const { raw, journal } = recordOf(this)
    for (const [, v] of entriesOf(journal, raw)) yield v
  },
}

const mapMethods = new Map<PropertyKey, unknown>([
  ...Object.entries(shared),
  [
    'get',
    function (this: unknown, key: unknown) {
      const { raw, journal } = recordOf(this)
      return valueAt(journal, raw, keyOf(key))
    },
  ],
  [
    'set',
    function (this: unknown, key: unknown, value: unknown) {
      const { raw, journal } = recordOf(this)
      store(journal, raw, keyOf(key), value)
      return this
    },
  ],
  [
    'keys',
    function* (this: unknown) {
      const { raw, journal } = recordOf(this)
      for (const [k] of entriesOf(journal, raw)) yield k
    },
  ],
  [Symbol.iterator, shared.entries],
])

const setMethods = new Map<PropertyKey, unknown>([
  ...Object.entries(shared),
  [
    'add',
    function (this: unknown, value: unknown) {
      const { raw, journal } = recordOf(this)
      store(journal, raw, keyOf(value))
      return this
    },
  ],
  ['keys', shared.values],
  [Symbol.iterator, shared.values],
])

// ── the operations, as the turn sees the container ─────────────────────────

/** The entries of a Map, or the members of a Set as [member, member], as the turn sees them. */
function* entriesOf(journal: DraftJournal, raw: Collection): Generator<[unknown, unknown]> {
  const overlay = journal.overlays?.get(raw)
  const shown = overlay === undefined ? raw.entries() : visible(raw.entries(), overlay.hidden)
  const kind = raw instanceof Map ? MAP : SET
  for (const [k, v] of shown) yield [k, journal.child(v, raw, k, kind)]
  if (overlay !== undefined) for (const [k, v] of overlay.tail) yield [k, journal.written(v)]
}

function sizeOf(journal: DraftJournal, raw: Collection): number {
  const overlay = journal.overlays?.get(raw)
  return overlay === undefined ? raw.size : raw.size - overlay.hidden.size + overlay.tail.size
}

function holds(journal: DraftJournal, raw: Collection, key: unknown): boolean {
  const overlay = journal.overlays?.get(raw)
  return overlay === undefined ? raw.has(key) : overlay.tail.has(key) || (!overlay.hidden.has(key) && raw.has(key))
}

function valueAt(journal: DraftJournal, raw: Map<unknown, unknown>, key: unknown): unknown {
  const overlay = journal.overlays?.get(raw)
  if (overlay !== undefined) {
    if (overlay.tail.has(key)) return journal.written(overlay.tail.get(key))
    if (overlay.hidden.has(key)) return undefined
  }
  return journal.child(raw.get(key), raw, key, MAP)
}

/** Map.set (with a value) or Set.add (without). */
function store(journal: DraftJournal, raw: Collection, key: unknown, value?: unknown): void {
  if (journal.closed) return
  const overlay = journal.overlays?.get(raw)
  const present = overlay === undefined ? raw.has(key) : !overlay.hidden.has(key) && raw.has(key)
  if (overlay !== undefined && (overlay.tail.has(key) || (!present && (overlay.hidden.has(key) || overlay.tail.size !== 0)))) {
    // Once a key is hidden, a key set after it goes at the end, after it (JS order).
    if (raw instanceof Map || !overlay.tail.has(key)) overlay.tail.set(key, raw instanceof Map ? value : key)
    return
  }
  if (raw instanceof Set && present) return
  journal.note(raw, key, raw instanceof Map ? MAP : SET)
  if (raw instanceof Map) raw.set(key, value)
  else raw.add(key)
}

function drop(journal: DraftJournal, raw: Collection, key: unknown): boolean {
  if (journal.closed) return false
  const overlay = journal.overlays?.get(raw)
  if (overlay?.tail.delete(key)) return true
  if (overlay?.hidden.has(key) || !raw.has(key)) return false
  if (journal.noteOf(raw, key)?.had === false) return raw.delete(key) // set in this turn: nothing to keep in place
  journal.overlayOf(raw).hidden.add(key)
  return true
}

function empty(journal: DraftJournal, raw: Collection): void {
  if (journal.closed) return
  for (const key of [...raw.keys()]) drop(journal, raw, key)
  journal.overlays?.get(raw)?.tail.clear()
}

/** What `raw` holds as the turn sees it, as a container of its own. */
function current(journal: DraftJournal, raw: Collection): Collection {
  if (journal.overlays?.has(raw) !== true) return raw
  const out = raw instanceof Map ? new Map() : new Set()
  for (const [k, v] of entriesOf(journal, raw)) {
    if (out instanceof Map) out.set(k, v)
    else out.add(k)
  }
  return out
}
