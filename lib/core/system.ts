import type { ActorClass, InOf, ReplyOf, StateOf } from './actor.js'
import type { Clock } from './clock.js'
import type { Filter } from './filter.js'
import type { CorrelationId, MessageId } from './ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot } from './inspection.js'
import type { Logger, LogLevel } from './logger.js'
import type { MessageStatus, Receipt } from './receipt.js'
import type { DeadLetter } from '../supervisor/dead-letter.js'
import type { Stores, TimerRecord } from '../store/index.js'
import type { ScheduleOptions } from './schedule.js'
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
  /** Wait this long for queued and retrying messages; what is left becomes dead letters. @default 30_000 */
  timeoutMs?: number
}

/**
 * What `stop()` did with the messages this process held. Nothing disappears: the embedded
 * system dead-letters what it could not run; the AWS mode leaves it in the stream.
 */
export interface StopReport {
  /** Messages that reached a final status while stopping. */
  drained: number
  /** Messages dead-lettered because the system stopped before they could finish (never on AWS: they stay in the stream). */
  deadLettered: number
  /** Turns still running when the timeout passed; they end on their own, and what they send is dead-lettered (on AWS: left for redelivery). */
  stillRunning: number
  /**
   * Messages this process had read from the stream and did not finish: they stay there, and
   * whoever reads the shard next runs them. Always 0 for the embedded system, which has no stream.
   */
  leftInStream: number
}

export interface SystemOptions {
  actors: readonly ActorClass[]
  /** Filters run before every actor's own filter, in order. */
  filters?: readonly Filter[]
  /** Turns running at once across all types. @default 1024 */
  concurrency?: number
  /** @default the wall clock */
  clock?: Clock
  /** For retry jitter. @default Math.random */
  random?: () => number
  /**
   * Check every message, state and reply for what would not survive the AWS mode.
   * @default true unless NODE_ENV is "production"
   */
  checkSerializable?: boolean
  /** Keep receipts for every message, not only those asked for. @default false */
  receiptsForAll?: boolean
  /** @default "info" */
  logLevel?: LogLevel
  logger?: Logger
  /** @default 10_000 */
  deadLetterLimit?: number
  /** @default 100_000 */
  receiptLimit?: number
  /**
   * Where state and timers are kept while not in memory. Pass the same stores to a new
   * system to carry on where another stopped: timers fire, evicted and stopped instances
   * come back. @default in-memory stores of this system alone
   */
  stores?: Partial<Stores>
}

/** A paused actor type (`key` undefined) or one paused key of it. */
export interface Pause {
  type: string
  key?: string
}

/** A running set of actors. The embedded system runs them in this process. */
export interface System {
  readonly clock: Clock
  /** Sends a message; resolves to its id once accepted. Rejects at once on an invalid body. */
  tell<C extends ActorClass>(actor: C, body: InOf<C>, options?: TellOptions): Promise<MessageId>
  tell(type: string, body: unknown, options?: TellOptions): Promise<MessageId>
  /** Sends a message and resolves to the actor's reply. */
  ask<C extends ActorClass>(actor: C, body: InOf<C>, options?: AskOptions): Promise<ReplyOf<C>>
  ask(type: string, body: unknown, options?: AskOptions): Promise<unknown>
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
   * Counts, queue depths and instances per actor type, as this process sees them. On AWS a
   * message waits in the stream: `queued` and `running` count only the batches this process's
   * host is running (none where a Lambda is the host).
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
   * Writes an idle instance's state to the state store and drops it from memory; its next
   * message loads it again. False when the instance is busy or not in memory. (On AWS every
   * commit is in the table already: this drops the copy this process keeps for `instances()`.)
   */
  evict(actor: ActorClass | string, key?: string): Promise<boolean>
  /**
   * Stops delivering to an actor type, or to one key of it. Its messages wait (their receipts
   * say `paused`); they are not retried, not dead-lettered, and other types and keys flow.
   * On AWS the pause is kept in the table, so every host respects it.
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
   * messages held by a pause. For tests and scripts: `tell`, then `await system.idle()`.
   */
  idle(): Promise<void>
  /** Takes no new messages, drains what was accepted, then stops. */
  stop(options?: StopOptions): Promise<StopReport>
}

export type { CorrelationId, MessageId }
