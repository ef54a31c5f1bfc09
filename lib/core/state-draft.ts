// A draft: the proxy a turn sees in place of one container of its state (see StateJournal),
// and what any value answers when asked whether it is one.
import type { StateJournal } from './state-journal.js'

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
  journal: StateJournal
  parent: object | undefined
}

/** The containers whose drafts answer with methods of their own (see collection-drafts.ts). */
export type Collection = Map<unknown, unknown> | Set<unknown>

/** The record of `value` when it is a draft of some turn's state. */
export function draftOf(value: unknown): Draft | undefined {
  return typeof value === 'object' && value !== null ? (value as { [DRAFT]?: Draft })[DRAFT] : undefined
}
