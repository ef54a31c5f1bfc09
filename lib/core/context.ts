import type { AcceptsReplyOf, ActorClass, InOf } from './actor.js'
import type { Envelope } from './envelope.js'
import type { CorrelationId, MessageId } from './ids.js'
import type { Fork, ForkChildren } from './fork.js'
import type { Logger } from './logger.js'
import type { ScheduleOptions } from './schedule.js'

/** Options of a tell made inside a turn. */
export interface TurnTellOptions<R extends ActorClass = ActorClass> {
  /** The actor that receives this message's reply as its own message (request/reply without blocking the turn). */
  replyTo?: R
  /** Keep a receipt for the message (see `system.receipt`). */
  receipt?: boolean
}

/**
 * What a turn sees. Messages told here leave only after the turn succeeds, and
 * their ids derive from the incoming message's id and their position, so a retried
 * or replayed turn sends the same ids.
 */
export interface Context<State = undefined> {
  /**
   * The instance's state; mutate it or assign a new value. Kept only if the turn succeeds: a
   * failed turn's changes are undone, so a turn costs what it changes, not the size of the
   * state. Its objects, arrays, Maps and Sets are drafts (proxies) during the turn: a part of it
   * told or returned is sent as it is at that moment, a part kept past the turn changes nothing
   * when written, and `structuredClone` cannot clone a draft.
   */
  state: State
  /** The envelope of the message being handled. */
  readonly message: Envelope
  /** The instance's key (`''` for unkeyed actors). */
  readonly key: string
  readonly correlationId: CorrelationId
  /** 1 on the first attempt. */
  readonly attempt: number
  /** Logs with the actor, key, message id and correlation id attached. */
  readonly log: Logger
  /** By name, for callers that only have one; the body is checked at run time only. */
  tell(type: string, body: unknown, options?: TurnTellOptions): MessageId
  /** Sends a message once this turn succeeds. Returns its id at once. (Last: a call that fits no overload is explained by it.) */
  tell<C extends ActorClass, R extends ActorClass = never>(
    actor: C,
    body: InOf<C>,
    options?: TurnTellOptions<R> & { replyTo?: R & AcceptsReplyOf<C, R> },
  ): MessageId
  /**
   * Sends every child its message at once; their replies are gathered against this
   * message and handed, as a tuple in fork order, to the actor named by `.join(…)`.
   *
   * @example
   * ctx.fork([[GeoIpLookup, { ip }], [ResolveUserAgent, { ua }]] as const).join(Enriched, { timeoutMs: 5_000, value: msg })
   */
  fork<const T extends readonly ActorClass[]>(children: ForkChildren<T>): Fork<T>
  /**
   * Tells a message later, durably: the timer lives in the store, so it fires even if this
   * host is gone by then. Kept only if the turn succeeds. Returns the timer id.
   */
  schedule<C extends ActorClass>(actor: C, body: InOf<C>, options: ScheduleOptions): string
  /** Removes a timer this instance scheduled under `name`, once the turn succeeds. */
  cancelSchedule(name: string): void
  /**
   * Runs a side effect once per message and name, across retries of the turn and, on AWS,
   * across hosts: a turn that runs again gets the recorded result instead of running `fn`
   * again. At least once by default: a crash between `fn` and the record of its result runs it
   * again. The result must be serialisable (it is recorded with superjson); the name is at most
   * 512 characters. See {@link OnceOptions} and docs/guarantees.md ("Side effects").
   */
  once<T>(name: string, fn: () => T | Promise<T>, options?: OnceOptions): Promise<T>
}

/** How `ctx.once` records a side effect. */
export interface OnceOptions {
  /**
   * `at-least-once`: the result is recorded after `fn`; a crash in between runs `fn` again on
   * the next run of the turn. `at-most-once`: the call is claimed before `fn` and its result
   * recorded after; a run that finds a claim without a result throws `OnceInterruptedError`
   * instead of running `fn`, and a failed `fn` is not run again (its error is thrown to every
   * later attempt in this host). On AWS, at least once costs a read and a write per call, at most
   * once two writes.
   * @default 'at-least-once'
   */
  semantics?: 'at-least-once' | 'at-most-once'
}
