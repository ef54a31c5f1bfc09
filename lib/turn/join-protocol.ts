// What hosts and the joiner say to each other: the joiner's type name, the record a fork opens
// with, and how each child ended. The joiner (actors/joiner.ts) is the actor that keeps it;
// the hosts and the fork plan only send it messages.
import type { ForkMembership } from '../core/fork.js'
import type { ErrorRecord } from '../core/dead-letter.js'

/** The joiner's type: one instance per fork, keyed by the fork id. */
export const JOINER = 'troupe.joiner'
/** How one child of a fork ended, as its host reports it to the fork's joiner. */
export type ChildOutcome = { ok: true; reply: unknown } | { ok: false; status: 'dead' | 'filtered'; error: ErrorRecord }

export interface OpenFork {
  total: number
  /** The join actor's type. */
  join: string
  value: unknown
  children: { actor: string; messageId: string }[]
  /** Where the join actor's reply goes, when the fork was made with `forward`. */
  forward?: ForkMembership
  /** The fork's own joiner in a tree: `children` are its groups' joiners, each of `size` children. */
  groups?: { size: number; children: number }
  /** A group's joiner: its replies go to the fork's joiner, as the reply of its group `index`. */
  report?: ForkMembership
}

export type JoinerMessage =
  | { op: 'open'; forkId: string; fork: OpenFork }
  | { op: 'reply'; forkId: string; index: number; outcome: ChildOutcome }
  | { op: 'deadline'; forkId: string }
  | { op: 'expire'; forkId: string }
