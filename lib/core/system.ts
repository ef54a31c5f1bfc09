import type { ActorClass, InOf, ReplyOf, StateOf } from './actor.js'
import type { Clock } from './clock.js'
import type { CorrelationId, MessageId } from './ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot } from './inspection.js'
import type { MessageStatus, Receipt } from './receipt.js'
import type { DeadLetter } from './dead-letter.js'
import type { ScheduleOptions, TimerRecord } from './schedule.js'
import type { ForkChildren, Joined, JoinOptions } from './fork.js'

export interface TellOptions {
  /** Keep a receipt for this message (`system.receipt(id)`). Off by default so the common path stays cheap. */
  receipt?: boolean
  /** Join this message to an existing request's correlation id (the root message's id by default). */
  correlationId?: string
}

export interface AskOptions extends TellOptions {
  /** @default 30_000 */
  timeoutMs?: number
}

export interface AwaitReceiptOptions {
  /** Resolve when the message reaches one of these. @default the final statuses */
  status?: readonly MessageStatus[]
  /** Reject after this long (on the system's clock). @default 30_000 */
  timeoutMs?: number
}

export interface StopOptions {
  /**
   * Wait this long for what this process holds to finish; then `stop()` resolves, and what is
   * left is dead-lettered (embedded) or left to the stream (AWS). See `StopReport`. @default 30_000
   */
  timeoutMs?: number
}

/**
 * What `stop()` did with the messages this process held while it stopped: those it held when
 * `stop()` was called, and those its turns sent meanwhile that it took in. Each is counted in at
 * most one field (see `leftInStream` for the few in none).
 *
 * What a process holds depends on where messages wait. The embedded system holds every message
 * accepted and not yet final, and takes in what its turns send. On AWS a message waits in the
 * stream: the process holds only the messages of the batches its host is running, and what its
 * turns send goes to the stream (a record it has not read is not its own). Where a Lambda is
 * the host, this process holds nothing and every field is 0.
 */
export interface StopReport {
  /** Messages held that reached a final status (done, filtered, or dead of their own failure) before `stop()` resolved. */
  drained: number
  /**
   * Messages held that `stop()` dead-lettered (`SystemStoppedError`) because they could not
   * finish by `timeoutMs`: waiting in a mailbox, for a retry's backoff or a throttle's token, or
   * behind a pause. Always 0 on AWS, which dead-letters nothing at stop: such a message stays in
   * the stream (`leftInStream`) or runs on in its batch (`stillRunning`).
   */
  deadLettered: number
  /**
   * Messages held whose outcome was still open when `stop()` resolved, past `timeoutMs`: those in
   * a turn still under way, which ends on its own (what it sends then is dead-lettered; on AWS it
   * is left for redelivery). On AWS also those behind it in the batch the host is still running,
   * or waiting there for a retry's backoff: the host runs the batch on, and what it does not
   * finish stays in the stream. (The embedded system dead-letters those instead.)
   */
  stillRunning: number
  /**
   * Messages held that a batch read from the stream ended without finishing: they stay there,
   * and whoever reads the shard next runs them. Always 0 for the embedded system, which has no
   * stream. (A message the batch set aside in its instance's item, held by a pause or parked by
   * a throttle, is no longer this process's but the table's, and is in none of the four; nor is a
   * copy of a message applied already.)
   */
  leftInStream: number
}

/** A paused actor type (`key` undefined) or one paused key of it. */
export interface Pause {
  type: string
  key?: string
}

/** A running set of actors. The embedded system runs them in this process. */
export interface System {
  readonly clock: Clock
  /** Sends a message to an actor named by its type, the body checked at run time only; resolves to its id once accepted. */
  tell(type: string, body: unknown, options?: TellOptions): Promise<MessageId>
  /**
   * Sends a message; resolves to its id once accepted. Rejects at once on an invalid body. (The
   * class overloads come last: TypeScript explains a call that fits none by the last one, which
   * names the body's wrong field.)
   */
  tell<C extends ActorClass>(actor: C, body: InOf<C>, options?: TellOptions): Promise<MessageId>
  /** Asks an actor named by its type, the body checked at run time only. */
  ask(type: string, body: unknown, options?: AskOptions): Promise<unknown>
  /** Sends a message and resolves to the actor's reply. */
  ask<C extends ActorClass>(actor: C, body: InOf<C>, options?: AskOptions): Promise<ReplyOf<C>>
  /** The message's receipt, if one was kept. */
  receipt(id: string): Promise<Receipt | undefined>
  /** Resolves when the message reaches a status (a final one by default). */
  awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt>
  /** One instance's state (a copy); `key` is omitted for singletons. */
  state<C extends ActorClass>(actor: C, key?: string): Promise<StateOf<C> | undefined>
  /** Every instance of a type, with a copy of its state. */
  instances<C extends ActorClass>(actor: C): InstanceSnapshot<StateOf<C>>[]
  instances(actor: string): InstanceSnapshot[]
  /** Dead letters, oldest first, each whole (its envelope and body, the error, every attempt). */
  deadLetters(filter?: { type?: string }): Promise<DeadLetter[]>
  /**
   * Puts a dead letter back (same id, attempts from 1); resolves to its id. A record no host
   * could read (AWS mode, error code `TROUPE_BAD_RECORD`) is no message: its bytes go back on the
   * stream they came from, as they were, or it is refused with `TROUPE_NOT_REPLAYABLE` when it
   * has none. A letter that could not be put back stays a dead letter.
   */
  replay(id: string): Promise<MessageId>
  /**
   * Counts, queue depths and instances per actor type, as this process sees them.
   * - `running`: turns under way in this process now. A keyed or singleton instance runs one
   *   turn at a time; a stateless type runs several side by side. A turn is under way from its
   *   load to its commit, a retry's backoff excepted.
   * - `queued`: messages this process holds that wait for a turn: behind a turn of their
   *   instance, for a free slot, for a retry's backoff or a throttle's token, or behind a pause.
   * - `instances`: those `instances()` lists.
   *
   * A message waiting anywhere else is not counted. On AWS it waits in the stream, and this
   * process holds only the batches its host is running (both counts are 0 where a Lambda is the
   * host); a message a pause or a throttle set aside in its instance's item waits in the table.
   * A batch runs at most `concurrency` instances at once: on AWS one waiting for a slot counts
   * as running. On AWS, a type with `policy.concurrency` counts as `running` the slots its live
   * leases hold on every host (its turns under way anywhere), as the table said a second before.
   */
  inspect(): SystemSnapshot
  /** Subscribes to the event stream; returns the unsubscribe function. */
  on(listener: Listener): () => void
  /**
   * Forks from outside a turn (an API handler): sends every child its message and
   * resolves to the joined replies, complete or as they stood at `timeoutMs`.
   */
  fork<const T extends readonly ActorClass[], Value = undefined>(children: ForkChildren<T>, options: JoinOptions<Value>): Promise<Joined<T, Value>>
  /** Tells a message later, durably (the timer is kept in the timer store). Resolves to the timer id. */
  schedule<C extends ActorClass>(actor: C, body: InOf<C>, options: ScheduleOptions): Promise<string>
  /** Removes a timer by id (the `name` given to `system.schedule`, or the id it returned). */
  cancelSchedule(id: string): Promise<void>
  /** Timers waiting, earliest first. */
  timers(): Promise<TimerRecord[]>
  /**
   * Drops an instance this process holds in memory, once its state is in the state store; its
   * next message loads it again, and `state()` reads it from the store meanwhile. True when the
   * instance was dropped; false when this process does not hold it, or it is busy (a turn under
   * way, or a message of it held here and waiting), or it ran again while its write was on its way
   * (it stays; a write that fails rejects, and leaves it in memory). On AWS every commit is in the
   * table already: what the process holds is the copy `instances()` lists, from a turn its host
   * ran, and where a Lambda is the host it holds none (always false).
   */
  evict(actor: ActorClass | string, key?: string): Promise<boolean>
  /**
   * Stops delivering to an actor type, or to one key of it. Its messages wait (their receipts
   * say `paused`); they are not retried, not dead-lettered, and other types and keys flow.
   * On AWS the pause is kept in the table, so every host respects it; it resolves a second
   * after it is written, once a warm Lambda environment asked directly has seen it (a batch
   * already running finishes).
   * @example await system.pause(PageStats, '/checkout')
   */
  pause(actor: ActorClass | string, key?: string): Promise<void>
  /** Delivers again to a paused type or key: what waited goes first, in the order it came. */
  resume(actor: ActorClass | string, key?: string): Promise<void>
  /** What is paused now: whole types (no `key`) and single keys. */
  pauses(): Promise<Pause[]>
  /**
   * Resolves once everything sent so far, and everything it caused, has reached its final
   * outcome: nothing is queued, running or waiting for a retry, and no timer is due now (those
   * due are fired, and what they tell is waited for). Timers due later are not waited for, nor
   * messages held by a pause. For tests and scripts: `tell`, then `await system.idle()`. On AWS
   * it needs to know where the turns run: the system consumes its streams, or was given an
   * `idleHost` (rejects with `TROUPE_CONFIG` otherwise).
   */
  idle(): Promise<void>
  /**
   * Takes no new messages, lets what this process holds finish for up to `timeoutMs`, then
   * stops; resolves to what became of each message it held (`StopReport`). Timers stay in the
   * timer store for the next system. A system stops once: a second call rejects with
   * `SystemStoppedError` (the first call's report is the one to read).
   */
  stop(options?: StopOptions): Promise<StopReport>
}

export type { CorrelationId, MessageId }
