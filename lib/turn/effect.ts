// What a turn leaves behind, host-neutral: the embedded host carries it out in memory,
// the AWS host will write it with the commit (the outbox) and send it after.
import type { ActorClass } from '../core/actor.js'
import type { ForkMembership, JoinOptions } from '../core/fork.js'
import type { TraceContext } from '../core/envelope.js'
import type { CorrelationId, MessageId } from '../core/ids.js'
import type { TimerRecord } from '../store/index.js'

/** A message told during a turn, held until the turn succeeds (nothing leaves from a failed turn). */
export interface Outgoing {
  kind: 'tell'
  target: ActorClass | string
  id: MessageId
  body: unknown
  replyTo: string | undefined
  receipt: boolean
  fork?: ForkMembership
  /** The sending turn's span (or the caller's outside a turn), for the message's envelope. */
  trace?: TraceContext | undefined
}

/**
 * What a turn leaves behind once it succeeds: messages, and timers set or removed. `named`: a
 * timer named in its turn, its id scoped to the turn's instance (`scopedTimerId`), whose writes
 * that instance's commits order on AWS (TimerOrder).
 */
export type Effect = Outgoing | { kind: 'schedule'; timer: TimerRecord; named?: true } | { kind: 'cancel'; timerId: string; named?: true }

export interface ForkPlan {
  forkId: MessageId
  childId: (index: number) => MessageId
  children: readonly (readonly [ActorClass, unknown])[]
  join: ActorClass
  options: JoinOptions<unknown>
  cause: { id: MessageId; correlationId: CorrelationId }
  /** The outer fork the join's reply goes to (`forward`). */
  forward: ForkMembership | undefined
  /** Carried by every message and timer of the fork: the forking turn's span, or the caller's. */
  trace?: TraceContext | undefined
  /** How an error names the call that made the fork; undefined: `fork(…).join(<join's type>)`. */
  call: string | undefined
}

/** The id of a timer named inside a turn: scoped to the instance that set it. */
export function scopedTimerId(type: string, key: string, name: string): string {
  return `${type}#${key}#${name}`
}
