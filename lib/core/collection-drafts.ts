// Map and Set drafts. A Map or Set keeps its entries in internal slots no proxy reaches: its
// draft answers with methods of its own, which reach the container and the journal through the
// draft's record, and read and write through the journal (see StateJournal).
import { TroupeError } from './errors.js'
import { DRAFT, draftOf, type Collection } from './state-draft.js'
import type { StateJournal } from './state-journal.js'

/** The proxy handler of a journal's Map and Set drafts. */
export class CollectionTraps implements ProxyHandler<Collection> {
  constructor(private readonly journal: StateJournal) {}

  get(target: Collection, key: PropertyKey): unknown {
    if (key === DRAFT) return this.journal.record(target)
    if (key === 'size') return this.journal.sizeOf(target)
    const method = (target instanceof Map ? mapMethods : setMethods).get(key)
    if (method !== undefined) return method
    // Anything else (newer read-only methods such as Set's union) runs on the container as the turn sees it.
    const value = Reflect.get(target, key, target)
    return typeof value === 'function' ? value.bind(this.journal.current(target)) : value
  }

  /** Freezing a Map or Set draft would freeze the container itself for every turn after; it has no use in state. */
  preventExtensions(): boolean {
    throw new TroupeError('TROUPE_STATE_FROZEN', 'a Map or Set of ctx.state was frozen during a turn, which a failed turn could not undo; freeze a value before it enters the state')
  }
}

function recordOf(draft: unknown): { raw: Collection & Map<unknown, unknown>; journal: StateJournal } {
  const record = draftOf(draft)
  if (record === undefined) throw new TypeError('a Map or Set method of ctx.state was called on something else')
  return record as { raw: Collection & Map<unknown, unknown>; journal: StateJournal }
}

/** A draft used as a Map key or Set member means the container it stands for. */
function keyOf(key: unknown): unknown {
  return draftOf(key)?.raw ?? key
}

const shared = {
  has(this: unknown, key: unknown): boolean {
    const { raw, journal } = recordOf(this)
    return journal.holds(raw, keyOf(key))
  },
  delete(this: unknown, key: unknown): boolean {
    const { raw, journal } = recordOf(this)
    return journal.drop(raw, keyOf(key))
  },
  clear(this: unknown): void {
    const { raw, journal } = recordOf(this)
    journal.empty(raw)
  },
  forEach(this: unknown, fn: (value: unknown, key: unknown, collection: unknown) => void, thisArg?: unknown): void {
    const { raw, journal } = recordOf(this)
    for (const [k, v] of journal.entriesOf(raw)) fn.call(thisArg, v, raw instanceof Map ? k : v, this)
  },
  *entries(this: unknown): Generator<[unknown, unknown]> {
    const { raw, journal } = recordOf(this)
    for (const [k, v] of journal.entriesOf(raw)) yield raw instanceof Map ? [k, v] : [v, v]
  },
  *values(this: unknown): Generator<unknown> {
    const { raw, journal } = recordOf(this)
    for (const [, v] of journal.entriesOf(raw)) yield v
  },
}

const mapMethods = new Map<PropertyKey, unknown>([
  ...Object.entries(shared),
  [
    'get',
    function (this: unknown, key: unknown) {
      const { raw, journal } = recordOf(this)
      return journal.valueAt(raw, keyOf(key))
    },
  ],
  [
    'set',
    function (this: unknown, key: unknown, value: unknown) {
      const { raw, journal } = recordOf(this)
      journal.store(raw, keyOf(key), value)
      return this
    },
  ],
  [
    'keys',
    function* (this: unknown) {
      const { raw, journal } = recordOf(this)
      for (const [k] of journal.entriesOf(raw)) yield k
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
      journal.store(raw, keyOf(value))
      return this
    },
  ],
  ['keys', shared.values],
  [Symbol.iterator, shared.values],
])
