// What an outcome leaves for a host to carry out, the same in every host: the messages a done
// turn sends (its own, the reply to `replyTo`, the report to its fork's joiner), the report of a
// filtered or dead fork child, the envelopes of told messages and of timers' firings, and dead
// letters. The embedded system enqueues them; the durable host keeps them in its outbox first.
import type { CorrelationId, MessageId } from '../core/ids.js'
import { derivedId } from '../core/ids.js'
import { firingId } from '../core/schedule.js'
import { makeEnvelope, type Envelope, type TraceContext } from '../core/envelope.js'
import { messageLogFields, type Logger } from '../core/logger.js'
import { errorRecord, type AttemptRecord, type DeadLetter, type ErrorRecord } from '../core/dead-letter.js'
import { JOINER, type ChildOutcome, type JoinerMessage } from './join-protocol.js'
import type { ActorType } from './actor-type.js'
import type { Effect, Outgoing } from './effect.js'
import type { TurnContext } from './turn-context.js'

/** What caused a message: its id and correlation carry over. */
export type Cause = Pick<Envelope, 'id' | 'correlationId'>

/**
 * What a done turn sends once its state is kept, in this order: what it told, scheduled and
 * cancelled; the reply to `replyTo`; the report to its fork's joiner (unless a nested fork of
 * the turn forwards its join's reply instead). Undefined when nothing.
 */
export function doneEffects(ctx: TurnContext, reply: unknown): Effect[] | undefined {
  let effects = ctx.outbox
  // A bare body (the embedded fast path) has no reply address and no fork.
  const envelope = ctx.materialized()
  if (envelope === undefined) return effects
  if (envelope.replyTo !== undefined) {
    effects = added(effects, { kind: 'tell', target: envelope.replyTo, id: ctx.nextId(), body: reply, replyTo: undefined, receipt: false, trace: ctx.trace })
  }
  if (envelope.fork !== undefined && !ctx.forwarded) effects = added(effects, forkReport(envelope, { ok: true, reply }, ctx.trace))
  return effects
}

/**
 * The child's envelope when all a done turn sends is its fork report (a fork's child that tells
 * nothing, as most do): `doneEffects` would list that report alone, and a host that sends it at
 * once may keep it without an envelope (`childReport`). Undefined otherwise.
 */
export function soleForkReport(ctx: TurnContext): Envelope | undefined {
  if (ctx.outbox !== undefined || ctx.forwarded) return undefined
  const envelope = ctx.materialized()
  if (envelope === undefined || envelope.fork === undefined || envelope.replyTo !== undefined) return undefined
  return envelope
}

/**
 * `effects` with `effect` pushed, or a list of it alone. Not `(effects ??= []).push(…)`: a push on
 * an empty array allocates room for 17, and a fork child's turn makes one such list per child.
 */
function added(effects: Effect[] | undefined, effect: Effect): Effect[] {
  if (effects === undefined) return [effect]
  effects.push(effect)
  return effects
}

/** How a message that did not succeed ended, as its fork report and receipt say it. */
export function filteredError(reason: string): ErrorRecord {
  return { name: 'Filtered', message: reason }
}

/**
 * Tells a fork's joiner how one of its children ended. The id is fixed by the child's, so a repeat
 * is a duplicate. `trace`: the child's turn's span; a child that was filtered or dead-lettered
 * reports under the span that forked it.
 */
export function forkReport(child: Envelope, outcome: ChildOutcome, trace: TraceContext | undefined = child.trace): Outgoing {
  return { kind: 'tell', target: JOINER, id: reportId(child), body: reportBody(child, outcome), replyTo: undefined, receipt: false, trace }
}

/**
 * A done child's report to its joiner, as `forkReport(child, outcome, trace)` would tell it, before
 * any envelope is made of it: a host that sends a done child's report at once (the embedded one,
 * ten per fork of ten) keeps it so, and makes its envelope (`reportEnvelope`) only where the
 * joiner's turn needs one.
 */
export interface ChildReport {
  readonly child: Envelope
  readonly body: JoinerMessage
  readonly trace: TraceContext | undefined
}

export function childReport(child: Envelope, outcome: ChildOutcome, trace: TraceContext | undefined = child.trace): ChildReport {
  return { child, body: reportBody(child, outcome), trace }
}

/** The envelope `toldEnvelope` makes of the report's `forkReport`, at `attempt` (0 before its first). */
export function reportEnvelope(report: ChildReport, joiner: ActorType, sentAt: number, attempt: number): Envelope {
  const { child, body, trace } = report
  const envelope = makeEnvelope({ id: reportId(child), type: joiner.type, key: joiner.keyOf(body), body, correlationId: child.correlationId, parentId: child.id, causationId: child.id, sentAt, attempt })
  if (trace !== undefined) envelope.trace = trace
  return envelope
}

/** A fork report's id, fixed by the child's. */
export function reportId(child: Envelope): MessageId {
  return derivedId(child.id, 'joined')
}

function reportBody(child: Envelope, outcome: ChildOutcome): JoinerMessage {
  const { forkId, index } = child.fork!
  return { op: 'reply', forkId, index, outcome }
}

/** The envelope of a message told by a turn (or by a caller outside one) caused by `cause`. */
export function toldEnvelope(effect: Outgoing, target: ActorType, cause: Cause, sentAt: number): Envelope {
  const envelope = makeEnvelope({
    id: effect.id,
    type: target.type,
    key: target.keyOf(effect.body),
    body: effect.body,
    correlationId: cause.correlationId,
    parentId: cause.id,
    causationId: cause.id,
    sentAt,
    replyTo: effect.replyTo,
    fork: effect.fork,
  })
  // Set only when traced: an untraced envelope keeps the one shape makeEnvelope gives.
  if (effect.trace !== undefined) envelope.trace = effect.trace
  return envelope
}

/** What a timer's firing needs to make its message. */
export interface Firing {
  timerId: string
  /** A named timer's scheduling (TimerRecord.set). */
  set?: string | undefined
  dueAt: number
  target: string
  body: unknown
  correlationId: string
  causationId?: string
  trace?: TraceContext | undefined
}

/**
 * The message a timer sends when it fires: its id fixed by the timer and the due time, so a
 * timer fired twice sends one message, and its `sentAt` the due time, so the message says which
 * slot it is for however late it fired. `target` undefined: no such actor here (its key is then '').
 */
export function firedEnvelope(firing: Firing, target: ActorType | undefined): Envelope {
  const causationId = firing.causationId as MessageId | undefined
  const envelope = makeEnvelope({
    id: firingId({ id: firing.timerId, set: firing.set }, firing.dueAt),
    type: firing.target,
    key: target === undefined ? '' : target.keyOf(firing.body),
    body: firing.body,
    correlationId: firing.correlationId as CorrelationId,
    parentId: causationId,
    causationId,
    sentAt: firing.dueAt,
  })
  if (firing.trace !== undefined) envelope.trace = firing.trace
  return envelope
}

/** A message's dead letter, with every attempt it had; a replay's death is later than the letter it came from. */
export function deadLetter(envelope: Envelope, error: unknown, attempts: readonly AttemptRecord[], deadAt: number): DeadLetter {
  return { envelope, error: errorRecord(error), attempts: [...attempts], deadAt: laterDeath(envelope, deadAt) }
}

/**
 * How far past the death it is dated by (its host's clock, or its record's arrival) a message's
 * earlier death may be taken to lie: room for clocks that disagree, and a bound for a record that
 * claims any `diedAt` (a death dated at the end of time would be a letter no later death could
 * replace, nor any replay send: its `diedAt` would pass what a Date holds).
 */
export const DEATH_AHEAD_MS = 86_400_000

/**
 * `deadAt`, or just after the death a replayed message came from when that is later (a clock
 * behind), by at most DEATH_AHEAD_MS past `reading`: the host's clock, which a death dated by
 * something older (a message dead on arrival is dated by its sentAt, which a replay keeps) must give.
 */
export function laterDeath(envelope: Envelope, deadAt: number, reading = deadAt): number {
  const before = envelope.diedAt
  return before !== undefined && before >= deadAt ? Math.min(before, Math.max(deadAt, reading) + DEATH_AHEAD_MS) + 1 : deadAt
}

/** The one log line of a dead-lettered message. */
export function logDead(logger: Logger, envelope: Envelope, error: ErrorRecord): void {
  logger.warn('message dead-lettered', { ...messageLogFields(envelope), attempts: envelope.attempt, error: error.message })
}
