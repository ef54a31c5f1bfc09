import { NO_READING } from './clock.js'
import type { ForkMembership } from './fork.js'
import type { CorrelationId, MessageId } from './ids.js'

/**
 * A message as troupe carries it. Serialised with superjson wherever it leaves the process.
 */
export interface Envelope<Body = unknown> {
  readonly id: MessageId
  /** The receiving actor's `static type`. */
  readonly type: string
  /** The receiving instance's key; `''` for unkeyed actors. */
  readonly key: string
  body: Body
  readonly correlationId: CorrelationId
  /** The message this one answers or was forked from; for plain tells, the message whose turn sent it. */
  readonly parentId: MessageId | undefined
  /** The message whose turn sent this one; `undefined` for messages from outside a turn. */
  readonly causationId: MessageId | undefined
  /** 0 until its first attempt starts; 1 during the first attempt, counting up on each retry. */
  attempt: number
  /**
   * Epoch milliseconds at which the message was accepted; for a timer's message, the time the
   * timer was due (as an EventBridge scheduled event's `time`), so a late firing still names its slot.
   * Messages accepted in one stretch of synchronous code may share one reading of the clock (the
   * embedded mode reads it once for up to 64 of them).
   */
  readonly sentAt: number
  /** Actor type that receives the reply as a message (request/reply inside a turn). */
  readonly replyTo: string | undefined
  /** Epoch milliseconds after which a reply is no longer awaited. */
  readonly deadline: number | undefined
  /** Set on a fork's child (and on a join forwarded to an outer fork): its outcome goes to the fork's joiner. */
  readonly fork?: ForkMembership
  /**
   * Keep a receipt for this message where it runs: `status` for its statuses, `reply` for an
   * `ask` awaited from another process (the reply is kept with the final status). Set by hosts
   * whose sender and receiver do not share memory (AWS); the embedded host keeps receipts itself.
   */
  receipt?: 'status' | 'reply'
  /**
   * Where the message was made, on AWS: the same on every copy of it, so a receiver applies it
   * once however many copies come (docs/guarantees.md). Set by the durable host and `AwsSystem`.
   */
  origin?: Origin
  /**
   * The W3C trace context of the span that sent it (the sending turn's, or the caller's active
   * span outside a turn): its turn's span is that span's child. Absent when nothing was traced.
   */
  trace?: TraceContext
  /**
   * A record that carries no message: `flush` makes the instance's host run what waits in its
   * item (messages a direct turn made, held or parked messages) and applies nothing itself.
   */
  control?: 'flush'
  /**
   * On a message replayed from a dead letter: that letter's `deadAt`. A death of the replay is
   * later than it, whatever the clocks of the hosts say, so its letter is never taken for a copy
   * of the first one's write (docs/guarantees.md, "A letter replayed stays replayed").
   */
  diedAt?: number
}

/**
 * A message's place in the lane that made it. A lane is a shard of a stream (`s:<stream>/<shard>`:
 * the turns of its records) or a process that puts messages outside any turn (`p:<id>`: tells,
 * asks, forks, replays, timers). Positions are decimal numbers, a record's as `seq` or
 * `seq:member` for a message in an aggregate record; they compare as numbers, member after seq.
 */
export interface Origin {
  lane: string
  /** The position of the turn (the record) or of the tell that made the message. */
  pos: string
  /** The message's place among those made at `pos` (0 first). */
  i: number
  /**
   * Set by whoever puts this copy: every message of the lane at a position below the fence has
   * had all of its copies put, before this one was. A receiver that reads this copy in order has
   * therefore read every copy of those messages already.
   */
  fence: string
}

/**
 * W3C trace context (https://www.w3.org/TR/trace-context/): `parent` is a `traceparent`
 * (`00-<trace id>-<span id>-<flags>`), `state` its `tracestate` when it has one. On the wire: the
 * traceparent string alone, or the list `[traceparent, tracestate]`.
 */
export interface TraceContext {
  readonly parent: string
  readonly state?: string
}

/** The fields a new envelope needs; the rest default to none, attempt 0. */
export type EnvelopeFields<Body> = Pick<Envelope<Body>, 'id' | 'type' | 'key' | 'body' | 'correlationId' | 'sentAt'> &
  Partial<Pick<Envelope<Body>, 'parentId' | 'causationId' | 'attempt' | 'replyTo' | 'deadline' | 'fork'>>

/** Makes an envelope, always with the same fields in the same order (one object shape for the engine). */
export function makeEnvelope<Body>(f: EnvelopeFields<Body>): Envelope<Body> {
  const envelope: Envelope<Body> = {
    id: f.id,
    type: f.type,
    key: f.key,
    body: f.body,
    correlationId: f.correlationId,
    parentId: f.parentId,
    causationId: f.causationId,
    attempt: f.attempt ?? 0,
    sentAt: NO_READING, // set below: first, so that the field stays tagged (clock.ts)
    replyTo: f.replyTo,
    deadline: f.deadline,
    fork: f.fork,
  }
  ;(envelope as { sentAt: number }).sentAt = f.sentAt
  return envelope
}
