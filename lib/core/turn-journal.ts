// A turn's hold on its actor's state: what the turn sees as `ctx.state`, and how the turn ends,
// kept or rolled back, so that a failed turn leaves the state as it was. A flat state is held by a
// copy of its one level (flat-journal.ts), any other by drafts of what the turn touches
// (state-journal.ts): the same rules, each at its best cost.
import { isFlatState, openFlatJournal } from './flat-journal.js'
import { StateJournal, type StateJournalOptions } from './state-journal.js'

export interface TurnJournal {
  /** What the turn sees as its state. */
  readonly view: unknown
  /**
   * Ends a successful turn whose state is now `final` (`ctx.state` at its end): the state to keep,
   * as plain data. Keep and rollback end the hold: the journal is not used again (a flat state's
   * is handed to a later turn).
   */
  keep(final: unknown): unknown
  /** Ends a failed turn: the state is as it was before it. */
  rollback(): void
  /** `value` leaving the turn (a reply, a body told), sharing nothing the turn or its state may still change. */
  release(value: unknown): unknown
  /** True when the state the turn leaves survives superjson as a whole, from what the turn wrote alone; false: check it all. */
  writesSerializable(final: unknown): boolean
  /** Why a turn that ended well cannot be kept as it left its state (the turn fails with it), or undefined. */
  refusal(final: unknown): Error | undefined
}

/** The hold of a turn that begins on `state`. */
export function openJournal(state: unknown, options: StateJournalOptions): TurnJournal {
  return isFlatState(state) ? openFlatJournal(state, options.trusted === true, options.apart !== true) : new StateJournal(state, options)
}
