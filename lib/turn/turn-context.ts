import { NO_READING } from '../core/clock.js'
import type { ActorClass } from '../core/actor.js'
import type { Context, OnceOptions, TurnTellOptions } from '../core/context.js'
import type { Envelope, TraceContext } from '../core/envelope.js'
import { ConfigError, TroupeError } from '../core/errors.js'
import type { ForkMembership, JoinOptions } from '../core/fork.js'
import { derivedId, type CorrelationId, type MessageId } from '../core/ids.js'
import { messageLogFields, type Logger } from '../core/logger.js'
import { checkTimerName, timerRecord, type ScheduleOptions } from '../core/schedule.js'
import type { TurnJournal } from '../core/turn-journal.js'
import { assertSerializable, isWellFormed, quoted } from '../core/validate.js'
import { scopedTimerId, type Effect, type ForkPlan } from './effect.js'
import { checkedChildren } from './fork-plan.js'
import type { OnceSemantics, OnceSubject } from './once.js'

/** The longest `ctx.once` name: it is part of the record's key, checked before `fn` runs. */
const MAX_ONCE_NAME = 512

/** Where a turn runs: the host's instance record. The context needs only its key. */
export interface TurnSlot {
  readonly key: string
}

/** What the turn context needs from its host. */
export interface TurnHost {
  logger: Logger
  /** Checks a body told from a turn as far as can be done synchronously. */
  checkOutgoing(target: ActorClass | string, body: unknown): unknown
  /** Runs a turn's side effect once per message and name (lib/turn/once.ts, lib/hosts/durable/side-effects.ts). */
  once<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>, semantics: OnceSemantics): Promise<T>
  now(): number
  /** The effects of a fork and its join: the joiner's open, the deadline timer, the children. */
  planFork(plan: ForkPlan): Effect[]
  /**
   * The trace a message from outside a turn runs under when it carries none (a Lambda
   * invocation's X-Ray trace); set by the host for the work at hand.
   */
  readonly outsideTrace?: TraceContext | undefined
}

/**
 * The `ctx` of one attempt of one message, in any host. What the turn sends waits in `outbox`
 * until the host has kept the turn's state (nothing leaves from a failed turn). How the message
 * is held is the host's: a full envelope (`EnvelopeTurn`), or the embedded mailbox's bare body.
 */
export abstract class TurnContext<State = unknown, Slot extends TurnSlot = TurnSlot> implements Context<State> {
  // Fields are declared and set in the constructor, in one order, rather than initialized where
  // declared: that way a context is made by the constructor alone, with no initializer function
  // run first and no field written twice, which kept the constructor small enough for V8 to
  // inline it where a host makes a context for every turn.
  protected declare readonly host: TurnHost
  declare readonly instance: Slot
  declare readonly startedAt: number
  declare state: State
  private declare journal: TurnJournal | undefined
  declare outbox: Effect[] | undefined
  /** Set once the turn has succeeded, failed or timed out; a late tell is then an error. */
  declare closed: boolean
  /** A fork of this turn forwards its join's reply as this message's reply (nested forks). */
  declare forwarded: boolean
  /** The trace context of this turn's span, carried by what it sends; undefined when it is not traced. */
  declare trace: TraceContext | undefined
  private declare sent: number
  private declare logger: Logger | undefined

  /**
   * `journal`: the turn's hold on its state, which a failed turn leaves as it was; without one the
   * turn runs on the state itself (see NO_STATE_COPY). The state is then the journal's own.
   */
  constructor(host: TurnHost, instance: Slot, state: State, startedAt: number, journal?: TurnJournal) {
    this.host = host
    this.instance = instance
    this.startedAt = NO_READING // first, so that the field stays tagged (clock.ts)
    this.startedAt = startedAt
    this.state = journal === undefined ? state : (journal.view as State)
    this.journal = journal
    this.outbox = undefined
    this.closed = false
    this.forwarded = false
    this.trace = undefined
    this.sent = 0
    this.logger = undefined
  }

  /** The message's envelope (made on first use where the host keeps bare bodies). */
  abstract get message(): Envelope
  /** The envelope if one exists already; a bare-body message that never needed one has none. */
  abstract materialized(): Envelope | undefined
  abstract get body(): unknown

  /**
   * Ends a successful turn: `state` becomes the state to keep, as plain data, and the reply is
   * returned released from it (a copy where it holds parts of the state).
   */
  keep(reply: unknown): unknown {
    const journal = this.journal
    if (journal === undefined) return reply
    this.journal = undefined
    const released = journal.release(reply)
    this.state = journal.keep(this.state) as State
    return released
  }

  /** Why the state this turn leaves cannot be kept (the turn fails with it), or undefined. */
  refusal(): Error | undefined {
    return this.journal?.refusal(this.state)
  }

  /** Ends a failed turn: the state is left as it was before the turn. */
  rollback(): void {
    this.journal?.rollback()
    this.journal = undefined
  }

  /**
   * Throws when the state the turn leaves would not survive superjson. Checks only what the
   * turn wrote when its journal can vouch for the rest.
   */
  assertStateSerializable(actor: string): void {
    if (this.journal?.writesSerializable(this.state) !== true) assertSerializable(actor, 'state', this.state)
  }

  get key(): string {
    return this.instance.key
  }

  get outsideTrace(): TraceContext | undefined {
    return this.host.outsideTrace
  }

  get correlationId(): CorrelationId {
    return this.message.correlationId
  }

  get attempt(): number {
    return this.message.attempt
  }

  get log(): Logger {
    this.logger ??= this.host.logger.child(messageLogFields(this.message))
    return this.logger
  }

  tell(target: ActorClass | string, body: unknown, options?: TurnTellOptions): MessageId {
    this.assertOpen(`told ${typeof target === 'string' ? target : target.type}`)
    const checked = this.host.checkOutgoing(target, this.released(body))
    const id = this.nextId()
    ;(this.outbox ??= []).push({ kind: 'tell', target, id, body: checked, replyTo: options?.replyTo?.type, receipt: options?.receipt === true, trace: this.trace })
    return id
  }

  fork(children: readonly (readonly [ActorClass, unknown])[]): { join(actor: ActorClass, options: JoinOptions<unknown>): string } {
    this.assertOpen('forked')
    const checked = checkedChildren(children, (actor, body) => this.host.checkOutgoing(actor, this.released(body)))
    // The children are fixed here: a list changed between fork() and join() changes nothing.
    const fixed = checked === children ? children.slice() : checked
    return {
      join: (actor, options) => {
        this.assertOpen(`joined into ${actor.type}`)
        let forward: ForkMembership | undefined
        if (options.forward) {
          forward = this.message.fork
          if (forward === undefined) {
            throw new ConfigError(`${this.message.type}: fork(…).join(${actor.type}, { forward: true }) needs a message that is itself a fork's child; message ${this.message.id} is not`)
          }
          this.forwarded = true
        }
        const forkId = this.nextId()
        const ids = fixed.map(() => this.nextId())
        if (options.value !== undefined) options = { ...options, value: this.released(options.value) }
        const effects = this.host.planFork({ forkId, childId: (i) => ids[i]!, children: fixed, join: actor, options, cause: this.message, forward, trace: this.trace, call: undefined })
        if (this.outbox === undefined) this.outbox = effects
        else this.outbox.push(...effects)
        return forkId
      },
    }
  }

  schedule(target: ActorClass, body: unknown, options: ScheduleOptions): string {
    this.assertOpen(`scheduled ${target.type}`)
    const checked = this.host.checkOutgoing(target, this.released(body))
    const id = options.name === undefined ? this.nextId() : scopedTimerId(this.message.type, this.key, options.name)
    const where = `${this.message.type}: ctx.schedule(${target.type})`
    // A named timer is set again by each message that schedules it; every copy of that message sets the same one.
    const origin = { id, correlationId: this.message.correlationId, causationId: this.message.id, trace: this.trace, ...(options.name === undefined ? {} : { set: this.message.id }) }
    const timer = timerRecord(where, target.type, checked, options, this.host.now(), origin)
    ;(this.outbox ??= []).push(options.name === undefined ? { kind: 'schedule', timer } : { kind: 'schedule', timer, named: true })
    return id
  }

  cancelSchedule(name: string): void {
    this.assertOpen(`cancelled timer ${name}`)
    checkTimerName(`${this.message.type}: ctx.cancelSchedule`, name)
    ;(this.outbox ??= []).push({ kind: 'cancel', timerId: scopedTimerId(this.message.type, this.key, name), named: true })
  }

  /** A body leaving the turn, as it is now and sharing nothing with the state. */
  private released(body: unknown): unknown {
    return this.journal === undefined ? body : this.journal.release(body)
  }

  private assertOpen(what: string): void {
    if (this.closed) {
      throw new TroupeError('TROUPE_TURN_OVER', `${this.message.type} ${what} after its turn on message ${this.message.id} had ended; do it before receive returns (await your work)`)
    }
  }

  once<T>(name: string, fn: () => T | Promise<T>, options?: OnceOptions): Promise<T> {
    const semantics = options?.semantics ?? 'at-least-once'
    const where = `ctx.once in ${this.message.type}'s turn on message ${this.message.id}`
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ONCE_NAME) {
      return Promise.reject(new ConfigError(`${where}: the name must be a string of 1 to ${MAX_ONCE_NAME} characters, got ${typeof name === 'string' ? `${name.length} characters` : JSON.stringify(name)}`))
    }
    // Kept in a DynamoDB key (UTF-8): a lone surrogate would become U+FFFD there, and two names meet.
    if (!isWellFormed(name)) {
      return Promise.reject(new ConfigError(`${where}: the name must be well-formed UTF-16 (no lone surrogate, which the record's key could not keep apart from another name), got ${quoted(name)}`))
    }
    if (typeof fn !== 'function') return Promise.reject(new ConfigError(`${where} ('${name}'): fn must be a function`))
    if (semantics !== 'at-least-once' && semantics !== 'at-most-once') {
      return Promise.reject(new ConfigError(`${where} ('${name}'): options.semantics must be 'at-least-once' or 'at-most-once', got ${JSON.stringify(semantics)}`))
    }
    return this.host.once(this.message, name, fn, semantics)
  }

  /** The next deterministic id for a message of this turn. */
  nextId(): MessageId {
    return derivedId(this.message.id, this.sent++)
  }

  /** A message of troupe's own actors that carries a fork membership (a join's message, a group's report). */
  tellInFork(target: string, body: unknown, fork: ForkMembership | undefined): void {
    const checked = this.host.checkOutgoing(target, body)
    ;(this.outbox ??= []).push({ kind: 'tell', target, id: this.nextId(), body: checked, replyTo: undefined, receipt: false, fork, trace: this.trace })
  }
}

/** A turn on a message the host holds as a full envelope. */
export class EnvelopeTurn<State = unknown, Slot extends TurnSlot = TurnSlot> extends TurnContext<State, Slot> {
  private declare readonly envelope: Envelope

  constructor(host: TurnHost, instance: Slot, envelope: Envelope, state: State, startedAt: number, journal?: TurnJournal) {
    super(host, instance, state, startedAt, journal)
    this.envelope = envelope
  }

  get message(): Envelope {
    return this.envelope
  }

  materialized(): Envelope {
    return this.envelope
  }

  get body(): unknown {
    return this.envelope.body
  }
}

/**
 * From a turn of troupe's own actors: a message that carries a fork membership (a join's message
 * that forwards into an outer fork, a group joiner's report), which `ctx.tell` cannot say.
 */
export function tellInFork(ctx: Context<unknown>, target: string, body: unknown, fork: ForkMembership | undefined): void {
  ;(ctx as TurnContext).tellInFork(target, body, fork)
}
