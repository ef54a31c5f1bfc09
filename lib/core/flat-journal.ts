// A turn's hold on a flat state: a plain object of a few keys, each holding a primitive (a
// counter, a status, a few totals; most actors' state). Instead of StateJournal's drafts, the turn
// runs on a copy of the state's one level: a failed turn drops the copy, a successful one keeps
// what the copy holds apart from it (so a `ctx.state` the turn held on to never reaches the
// state), with what the turn wrote into it from elsewhere copied, as StateJournal keeps it. The
// state the turn began from is not written while the turn runs: it reads as kept meanwhile. When
// the journal may (`inPlace`: no host can refuse the turn after it ended) and that state is one
// this module made, the turn's values are written back into it when the turn is kept, as drafts
// write theirs; otherwise, and always for a host that may still refuse the turn (StateJournal's
// `apart`), a new copy is kept and the state it began from stays as it was.
import { TroupeError } from './errors.js'
import { findUnserializable, isRefusedKey } from './serializable.js'
import { copyState, copyStateWith, setKey } from './state-copy.js'
import { holdsWhere } from './state-draft.js'

/** Keys a flat state has at most: a copy of a larger one costs more than the drafts of what a turn touches. */
const FLAT_KEYS = 8

/**
 * The last state a flat turn kept: the next turn of a busy instance begins on it. Made by a copy
 * (or written back into, by keep) as a plain, extensible object of data keys, it needs no look at
 * its prototype, its extensibility or its descriptors: each of those looks costs a call into the
 * engine's runtime, and only code holding the state itself past its turn (a ctx held, a store)
 * could change them, with setPrototypeOf, freeze or defineProperty; a keep that then cannot write
 * into it keeps a copy. Its values are looked at as any state's: the turn may have written an
 * object there, or something else (a migration) since. A set of every state kept would cost the
 * collector more than the look.
 */
let lastKept: object | undefined

/**
 * Whether `state` is flat: a plain, extensible object whose own properties are at most FLAT_KEYS
 * enumerable string-keyed values, none of them an object or a function.
 */
export function isFlatState(state: unknown): state is Record<string, unknown> {
  if (typeof state !== 'object' || state === null) return false
  const known = state === lastKept
  if (!known && (Object.getPrototypeOf(state) !== Object.prototype || !Object.isExtensible(state))) return false
  let keys = 0
  for (const k in state) {
    if (++keys > FLAT_KEYS) return false
    let v: unknown
    if (known) v = (state as Record<string, unknown>)[k]
    else {
      const descriptor = Object.getOwnPropertyDescriptor(state, k)
      // An accessor is no value to copy; a key found by `for … in` but not owned is an inherited one.
      if (descriptor === undefined || !('value' in descriptor)) return false
      v = descriptor.value
    }
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') return false
  }
  // Hidden and symbol keys would be left behind by the copy.
  return known || Reflect.ownKeys(state).length === keys
}

/** What an ended journal's view is: it holds on to no turn's state. */
const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>

/** The keys of a state kept in place, in order (reused: a list per turn would cost more than the copy it spares). */
const keyOrder: string[] = []

/**
 * A journal whose turn has ended, for the next flat turn to take (`openFlatJournal`): turns run
 * one after another, and a journal made per turn cost more than resetting one. Nothing uses a
 * journal once it has ended (TurnJournal: keep and rollback end it).
 */
let spare: FlatJournal | undefined

/** A flat state's hold: the spare one, reset for `start`, or a new one. */
export function openFlatJournal(start: Record<string, unknown>, trusted: boolean, inPlace: boolean): FlatJournal {
  const journal = spare
  if (journal === undefined) return new FlatJournal(start, trusted, inPlace)
  spare = undefined
  journal.open(start, trusted, inPlace)
  return journal
}

/** A flat state's hold (turn-journal.ts's TurnJournal). */
export class FlatJournal {
  view: Record<string, unknown> = EMPTY
  private trusted = false
  /** The state the turn began from, when its keep may write the turn's values back into it. */
  private start: Record<string, unknown> | undefined = undefined

  /**
   * `inPlace`: keep may write into `start` (a host that cannot refuse a turn it has kept). It does
   * only for the last state kept here: a copy this module made, of plain writable data keys that
   * nothing but its instance (and a ctx of the turn that kept it, as with drafts) holds.
   */
  constructor(start: Record<string, unknown>, trusted: boolean, inPlace = false) {
    this.open(start, trusted, inPlace)
  }

  /** Begins the hold of a turn on `start`. */
  open(start: Record<string, unknown>, trusted: boolean, inPlace: boolean): void {
    this.view = { ...start }
    this.trusted = trusted
    this.start = inPlace && start === lastKept ? start : undefined
  }

  keep(final: unknown): unknown {
    let kept: unknown
    if (final !== this.view) kept = copyState(final)
    else {
      const start = this.start
      kept = start !== undefined && writtenBack(start, this.view) ? start : copyState(final)
      // Made by the copy of plain data keys alone: the next turn's look at it needs no descriptors.
      lastKept = kept as object
    }
    this.end()
    return kept
  }

  rollback(): void {
    // The state was never written.
    this.end()
  }

  /** Lets go of the turn's objects and leaves this journal for the next turn. */
  private end(): void {
    this.view = EMPTY
    this.start = undefined
    spare = this
  }

  /** A frozen `ctx.state` fails the turn, as it does on drafts: the same actor code behaves the same whatever its state holds. */
  refusal(final: unknown): Error | undefined {
    if (final !== this.view || Object.isExtensible(this.view)) return undefined
    return new TroupeError('TROUPE_STATE_FROZEN', 'ctx.state was frozen during a turn, which a failed turn could not undo; freeze a value before it enters the state')
  }

  /** `value` leaving the turn: a copy where it holds the turn's state or what the turn put in it, which the turn may still change. */
  release(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value
    const live = this.liveParts()
    if (!holdsWhere(value, (v) => live.has(v))) return value
    return copyStateWith(value, (v) => (live.has(v) ? copyState(v) : undefined))
  }

  writesSerializable(final: unknown): boolean {
    if (!this.trusted || final !== this.view) return false
    for (const k in this.view) {
      const v = this.view[k]
      if (typeof v === 'function' || typeof v === 'symbol' || isRefusedKey(k)) return false
      if (typeof v === 'object' && v !== null && findUnserializable(v) !== undefined) return false
    }
    return true
  }

  /** The view and the objects the turn put in it. */
  private liveParts(): Set<object> {
    const live = new Set<object>([this.view])
    for (const k in this.view) {
      const v = this.view[k]
      if (typeof v === 'object' && v !== null) live.add(v)
    }
    return live
  }
}

/**
 * Writes the values of `view` into `start` when both have the same keys in the same order (the
 * turn added, deleted or moved none): what the turn wrote from elsewhere is copied, as copyState
 * would. False when the keys differ (a new copy keeps the view's order), `start` untouched, or
 * when `start` refuses a write.
 */
function writtenBack(start: Record<string, unknown>, view: Record<string, unknown>): boolean {
  let n = 0
  for (const k in start) keyOrder[n++] = k
  let i = 0
  for (const k in view) if (i === n || keyOrder[i++] !== k) return false
  if (i !== n) return false
  try {
    for (let j = 0; j < n; j++) {
      const k = keyOrder[j]!
      const v = view[k]
      setKey(start, k, typeof v === 'object' && v !== null ? copyState(v) : v)
    }
  } catch {
    // Frozen (or a key made read-only) by code that held it past its turn: the view is kept as a copy.
    return false
  }
  return true
}
