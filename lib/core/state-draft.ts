// A draft: the proxy a turn sees in place of one container of its state (see StateJournal),
// and what any value answers when asked whether it is one. What the journal and its object and
// collection drafts share is here, so that none of them imports another in a circle.

/** The kinds of container a draft stands for. */
export const OBJECT = 0
export const MAP = 1
export const SET = 2
export type Kind = typeof OBJECT | typeof MAP | typeof SET

/** Asked of a draft, answers its record; asked of anything else, nothing. */
export const DRAFT = Symbol('troupe.draft')

/** A draft's record: the container it stands for, its proxy, its journal, the container it was read from. */
export interface Draft {
  raw: object
  proxy: object
  journal: DraftJournal
  parent: object | undefined
}

/** The containers whose drafts answer with methods of their own (see collection-drafts.ts). */
export type Collection = Map<unknown, unknown> | Set<unknown>

/**
 * The keys a container hides (it had them before the turn, which deleted them; they go when the
 * turn is kept) and those it holds at its end instead (set after a hidden one, so after it in JS
 * order). Objects hide only string keys that are not array indices: indices keep number order.
 */
export interface Overlay {
  hidden: Set<unknown>
  tail: Map<unknown, unknown>
}

/**
 * What a draft asks of the journal of its turn (a StateJournal): how the turn reads a container
 * (a draft of what it had not written), what the turn changed, and the keys it hides.
 */
export interface DraftJournal {
  /** Once the turn has ended, its drafts change nothing. */
  readonly closed: boolean
  readonly overlays: ReadonlyMap<object, Overlay> | undefined
  /** The record of a draft of this journal's state. */
  record(raw: object): Draft | undefined
  /** What the turn reads at `key` of `container`: a draft of a container it had not written there. */
  child(value: unknown, container: object, key: unknown, kind: Kind): unknown
  /** A value the turn wrote, as the turn reads it back. */
  written(value: unknown): unknown
  /** Notes what `key` of `target` holds before the turn first changes it. */
  note(target: object, key: unknown, kind: Kind): void
  /** The note of `key` of `target` when the turn changed it: whether the key was there before. */
  noteOf(target: object, key: unknown): { readonly had: boolean } | undefined
  /** The overlay of `raw`, made on its first hidden key. */
  overlayOf(raw: object): Overlay
}

/** The record of `value` when it is a draft of some turn's state. */
export function draftOf(value: unknown): Draft | undefined {
  return typeof value === 'object' && value !== null ? (value as { [DRAFT]?: Draft })[DRAFT] : undefined
}

/** The entries of `entries` whose key is not hidden. */
export function* visible(entries: Iterable<[unknown, unknown]>, hidden: Set<unknown>): Generator<[unknown, unknown]> {
  for (const entry of entries) if (!hidden.has(entry[0])) yield entry
}

/** Whether a value made in a turn holds a draft anywhere. */
export function holdsDraft(value: object): boolean {
  return holdsWhere(value, (v) => draftOf(v) !== undefined)
}

/** Whether `value`, or a container anywhere inside it (through arrays, Maps, Sets and plain objects), is one that `is` picks. */
export function holdsWhere(value: object, is: (v: object) => boolean): boolean {
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null || seen.has(v)) continue
    if (is(v)) return true
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
