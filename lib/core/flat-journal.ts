// A turn's hold on a flat state: a plain object of a few keys, each holding a primitive (a
// counter, a status, a few totals; most actors' state). Instead of StateJournal's drafts, the turn
// runs on a copy of the state's one level: a failed turn drops the copy, a successful one keeps a
// copy of it again (so a `ctx.state` the turn held on to never reaches the state), with what the
// turn wrote into it from elsewhere copied, as StateJournal keeps it. The state the turn began
// from is never written: it reads as kept while the turn runs, and stays as it was for a host
// that may still refuse the turn (StateJournal's `apart`).
import { TroupeError } from './errors.js'
import { findUnserializable, isRefusedKey } from './serializable.js'
import { copyState, copyStateWith } from './state-copy.js'
import { holdsWhere } from './state-draft.js'

/** Keys a flat state has at most: a copy of a larger one costs more than the drafts of what a turn touches. */
const FLAT_KEYS = 8

/**
 * The last state a flat turn kept: the next turn of a busy instance begins on it, and its keys
 * need no look at their descriptors (the copy made them plain data keys; only a defineProperty
 * could change that). Its values are looked at as any state's: the turn may have written an
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
  if (Object.getPrototypeOf(state) !== Object.prototype || !Object.isExtensible(state)) return false
  const known = state === lastKept
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

/** A flat state's hold (turn-journal.ts's TurnJournal). */
export class FlatJournal {
  readonly view: Record<string, unknown>

  constructor(
    start: Record<string, unknown>,
    private readonly trusted: boolean,
  ) {
    this.view = { ...start }
  }

  keep(final: unknown): unknown {
    const kept = copyState(final)
    // Made by the copy of plain data keys alone: the next turn's look at it needs no descriptors.
    if (final === this.view) lastKept = kept as object
    return kept
  }

  rollback(): void {
    // The state was never written.
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
