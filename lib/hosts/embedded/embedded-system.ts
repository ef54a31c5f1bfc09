import { joinerActor, type JoinerHost } from '../../../actors/joiner.js'
import { FORK_RESULT, forkResultActor } from '../../../actors/fork-result.js'
import type { ActorClass } from '../../core/actor.js'
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js'
import * as d from '../../core/defaults.js'
import { makeEnvelope, type Envelope } from '../../core/envelope.js'
import {
  AskFailedError,
  ConfigError,
  NoDeadLetterError,
  SystemStoppedError,
  TroupeError,
} from '../../core/errors.js'
import type { ForkChildren, Joined, JoinOptions } from '../../core/fork.js'
import { derivedId, parseMessageId, RootIds, type CorrelationId, type MessageId } from '../../core/ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot, TroupeEvent } from '../../core/inspection.js'
import { createLogger, type Logger } from '../../core/logger.js'
import type { MessageStatus, Receipt } from '../../core/receipt.js'
import { timerRecord, type ScheduleOptions } from '../../core/schedule.js'
import { decode, encode } from '../../core/serialization.js'
import { copyState } from '../../core/state-copy.js'
import { readKept } from '../../core/state-journal.js'
import type { AskOptions, AwaitReceiptOptions, Pause, StopOptions, StopReport, System, SystemOptions, TellOptions } from '../../core/system.js'
import { assertSerializable, validateBody } from '../../core/validate.js'
import type { Stores, StoredInstance, TimerRecord } from '../../store/index.js'
import { MemoryStateStore, MemoryTimerStore } from '../../store/memory.js'
import type { AttemptRecord, DeadLetter } from '../../supervisor/dead-letter.js'
import { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { planFork } from '../../turn/fork-plan.js'
import { ActorRuntime } from './actor-runtime.js'
import { Deadlines } from '../../turn/deadlines.js'
import { OnceResults } from '../../turn/once.js'
import { ActorRegistry } from '../../turn/registry.js'
import { runTurn, startState, turnJournal, type Outcome, type TurnRules } from '../../turn/turn.js'
import { deadLetter, doneEffects, filteredError, forkReport, logDead, toldEnvelope, type Cause } from '../../turn/turn-effects.js'
import { MailboxTurn } from './mailbox-turn.js'
import { PendingAsks } from './pending-asks.js'
import { EmbeddedTimers } from './embedded-timers.js'
import { PauseBook } from './pause-book.js'
import { Dispatcher } from './dispatcher.js'
import { ENVELOPE, type Instance } from './instance.js'
import { ReceiptBook } from './receipt-book.js'
import type { TurnHost } from '../../turn/turn-context.js'

/** Tries in a row of `idle()` to fire a due timer that fire nothing, before it says the timer store is failing. */
const MAX_FIRE_TRIES = 3

/**
 * The embedded host: every actor in this process, mailboxes in memory, turns on the
 * event loop. The default system, for development, tests and jobs that fit one process.
 */
export class EmbeddedSystem implements System, TurnHost, JoinerHost {
  readonly clock: Clock
  readonly logger: Logger
  private readonly registry: ActorRegistry<ActorRuntime>
  private readonly runtimes: ActorRuntime[]
  private readonly rules: TurnRules
  private readonly checkSerializable: boolean
  private readonly receiptsForAll: boolean
  private readonly dispatch: Dispatcher
  private readonly ids = new RootIds()
  private readonly receipts: ReceiptBook
  private readonly dead: DeadLetterBox
  private readonly asks: PendingAsks
  /** Ask and turn timeouts, on one timer. */
  private readonly deadlines: Deadlines
  /** Failed attempts of messages still in play, for their dead letter. */
  private readonly failures = new Map<string, AttemptRecord[]>()
  private readonly onceResults = new OnceResults()
  /** Timers of unkeyed messages waiting for a retry. */
  private readonly retryTimers = new Map<TimerHandle, Envelope>()
  /** Where each fork child in play is, for the missing children of a join past its deadline. */
  private readonly childStatus = new Map<string, MessageStatus>()
  /** Callers of system.fork waiting for their join. */
  private readonly forks = new Map<string, (joined: unknown) => void>()
  private readonly stores: Stores
  private readonly pausing: PauseBook
  /** Whether the caller gave a state store: then stop() writes every instance to it. */
  private readonly keepsState: boolean
  private readonly scheduled: EmbeddedTimers
  private listeners: Listener[] = []
  /** Accepted and not yet final, across all types: 0 means idle. */
  private outstanding = 0
  /** Messages that reached a final status, and those of them dead-lettered by the stop: stop()'s report. */
  private ended = 0
  private buriedAtStop = 0
  private stopping = false
  /** Past `stop()`: anything sent now (by a turn that outlived the stop) is dead-lettered at once. */
  private stopped = false
  /** Waiting for `settled()`. */
  private settledWaiters: (() => void)[] = []

  constructor(options: SystemOptions) {
    if (!options || !Array.isArray(options.actors)) throw new ConfigError('createSystem({ actors }) needs an array of actor classes')
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger(options.logLevel ?? 'info')
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.receiptsForAll = options.receiptsForAll ?? false
    const builtins = [joinerActor(this), forkResultActor((forkId, joined) => this.forkJoined(forkId, joined))]
    this.registry = new ActorRegistry(options.actors, builtins, (cls) => new ActorRuntime(cls, this.clock))
    this.runtimes = [...this.registry.values()]
    this.pausing = new PauseBook(this.runtimes)
    const maxRunning = options.concurrency ?? d.DEFAULT_SYSTEM_CONCURRENCY
    if (!(maxRunning >= 1)) throw new ConfigError(`createSystem: concurrency must be a number from 1 up, got ${String(options.concurrency)}`)
    this.dispatch = new Dispatcher(this.clock, maxRunning, this.runtimes, {
      turn: (inst, now) => this.turn(inst, now),
      throttled: (inst, waitMs, scope, now) => {
        inst.rt.counts.throttled++
        if (this.listeners.length !== 0) this.emit({ type: '@troupe.throttled', at: now, actor: inst.rt.type, key: inst.key, waitMs, scope })
      },
    })
    this.deadlines = new Deadlines(this.clock)
    this.rules = { filters: options.filters ?? [], checkSerializable: this.checkSerializable, random: options.random ?? Math.random, clock: this.clock, deadlines: this.deadlines }
    this.receipts = new ReceiptBook(this.clock, options.receiptLimit ?? d.DEFAULT_RECEIPT_LIMIT)
    this.asks = new PendingAsks(this.clock, this.deadlines, this.receipts)
    this.dead = new DeadLetterBox(options.deadLetterLimit ?? d.DEFAULT_DEAD_LETTER_LIMIT, (letter) =>
      this.logger.warn('dead letter evicted past deadLetterLimit', { messageId: letter.envelope.id, actor: letter.envelope.type }),
    )
    this.stores = { state: options.stores?.state ?? new MemoryStateStore(), timers: options.stores?.timers ?? new MemoryTimerStore() }
    this.keepsState = options.stores?.state !== undefined
    this.scheduled = new EmbeddedTimers(this.clock, this.stores.timers, this.registry, this.dead, this.logger, (rt, envelope) => this.enqueue(rt, envelope, this.receiptsForAll))
    this.scheduled.runner.start()
  }

  /** Makes the instance for `key`, with its state from the store or its initial state. */
  private load(rt: ActorRuntime, key: string): Instance {
    const inst = rt.newInstance(key)
    if (!rt.stateful) return inst
    const stored = this.stores.state.get(rt.type, key)
    if (stored instanceof Promise) {
      inst.loading = stored.then((s) => restore(inst, s)).finally(() => (inst.loading = undefined))
    } else {
      // No closure on this path: W2 makes thousands of instances in a burst.
      restore(inst, stored)
    }
    return inst
  }

  // ── sending ──────────────────────────────────────────────────────────────

  tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    try {
      const rt = this.runtime(target)
      if (options === undefined && rt.schema === undefined && !this.receiptsForAll) {
        // The common path: a bare body in the mailbox, no envelope object (see Instance).
        if (this.stopping) throw new SystemStoppedError()
        if (this.checkSerializable) assertSerializable(rt.type, 'message', body)
        const seq = this.ids.next()
        this.enqueueBody(rt, body, seq)
        return Promise.resolve(this.ids.id(seq))
      }
      const id = this.ids.id(this.ids.next())
      const accepted = this.accept(rt, id, body, options, undefined)
      return accepted === undefined ? Promise.resolve(id) : accepted.then(() => id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    let rt: ActorRuntime
    try {
      rt = this.runtime(target)
    } catch (error) {
      return Promise.reject(error)
    }
    const id = this.ids.id(this.ids.next())
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    return new Promise<never>((resolve, reject) => {
      this.asks.wait(id, rt.type, timeoutMs, resolve as (reply: unknown) => void, reject)
      try {
        this.accept(rt, id, body, options, undefined, true)?.catch((error: unknown) => this.asks.refuse(id, error))
      } catch (error) {
        this.asks.refuse(id, error)
      }
    })
  }

  /**
   * Validates and enqueues a message from outside a turn. Returns a promise only when
   * the schema validates asynchronously, so the common path allocates none.
   */
  private accept(rt: ActorRuntime, id: MessageId, body: unknown, options: TellOptions | undefined, replyTo: string | undefined, asked = false): Promise<void> | undefined {
    if (this.stopping) throw new SystemStoppedError()
    const checked = validateBody(rt.type, rt.schema, body)
    const correlationId = (options?.correlationId === undefined ? id : parseMessageId(options.correlationId, 'correlationId')) as string as CorrelationId
    const make = (valid: unknown) => {
      if (this.checkSerializable) assertSerializable(rt.type, 'message', valid)
      const envelope = makeEnvelope({ id, type: rt.type, key: rt.keyOf(valid), body: valid, correlationId, sentAt: this.clock.now(), replyTo })
      // An ask that timed out while its message was validated: the message keeps a receipt to follow.
      const receipt = options?.receipt === true || (asked && !this.asks.accepted(envelope))
      this.enqueue(rt, envelope, receipt)
    }
    if (checked instanceof Promise) return checked.then(make)
    make(checked)
    return undefined
  }

  private enqueueBody(rt: ActorRuntime, body: unknown, seq: number): void {
    const key = rt.keyOf(body)
    const sentAt = this.clock.now()
    rt.counts.accepted++
    rt.queued++
    this.outstanding++
    const inst = rt.instances.get(key) ?? this.load(rt, key)
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.accepted', at: sentAt, envelope: this.rootEnvelope(inst, body, seq, sentAt) })
    inst.pushBody(body, seq, sentAt)
    this.dispatch.wake(inst)
  }

  private enqueue(rt: ActorRuntime, envelope: Envelope, receipt: boolean): void {
    if (this.stopped) {
      rt.counts.accepted++
      this.outstanding++
      this.bury(rt, envelope, new SystemStoppedError(`${rt.type} message ${envelope.id} was sent after the system stopped`))
      return
    }
    rt.counts.accepted++
    rt.queued++
    this.outstanding++
    if (receipt || this.receiptsForAll) this.receipts.open(envelope)
    if (envelope.fork !== undefined) this.childStatus.set(envelope.id, 'accepted')
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.accepted', at: this.clock.now(), envelope })
    const inst = rt.instances.get(envelope.key) ?? this.load(rt, envelope.key)
    if (rt.isPaused(envelope.key)) this.note(envelope, 'paused')
    inst.push(envelope)
    this.dispatch.wake(inst)
  }

  private runtime(target: ActorClass | string): ActorRuntime {
    return this.registry.get(target)
  }

  // ── turns ────────────────────────────────────────────────────────────────

  /** Runs one attempt of the message just shifted from `inst`. Returns a promise only if `receive` did. */
  private turn(inst: Instance, now: number): Promise<void> | undefined {
    const rt = inst.rt
    const mailbox = inst.mailbox
    rt.lastActivityAt = now
    const seq = mailbox.seq
    if (seq === ENVELOPE) (mailbox.item as Envelope).attempt++
    const state = startState(rt, inst.state)
    // The turn changes the state in place; its journal undoes that if the turn fails.
    const journal = turnJournal(rt, state, inst.state !== undefined ? 'trusted' : 'new')
    const ctx = new MailboxTurn(this, this, inst, mailbox.item, seq, mailbox.sentAt, state, now, journal)
    mailbox.item = undefined
    if (seq === ENVELOPE) this.track(ctx.message, 'running')
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.delivered', at: now, envelope: ctx.message })
    const outcome = runTurn(this.rules, rt, ctx)
    if (outcome instanceof Promise) return outcome.then((ended) => this.carryOut(ctx, ended, this.clock.now()))
    this.carryOut(ctx, outcome, now)
    return undefined
  }

  rootEnvelope(inst: Instance, body: unknown, seq: number, sentAt: number): Envelope {
    const id = this.ids.id(seq)
    return makeEnvelope({ id, type: inst.rt.type, key: inst.key, body, correlationId: id as string as CorrelationId, sentAt, attempt: 1 })
  }

  /** Keeps what an attempt ended with: the state and what it sent, a retry, or the message's end. */
  private carryOut(ctx: MailboxTurn, outcome: Outcome, now: number): void {
    if (outcome.end === 'done') this.succeeded(ctx, outcome.reply, now)
    else if (outcome.end === 'failed') this.failed(ctx, outcome.error, outcome.attempt, outcome.retryInMs)
    else this.filtered(ctx, outcome.reason)
  }

  private filtered(ctx: MailboxTurn, reason: string): void {
    const envelope = ctx.message
    const rt = ctx.instance.rt
    rt.counts.filtered++
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.filtered', at: this.clock.now(), envelope, reason })
    this.finish(envelope, 'filtered', reason)
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'filtered', error: filteredError(reason) })], envelope)
    if (this.asks.size !== 0) this.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.id, 'filtered', new Error(reason)))
  }

  private succeeded(ctx: MailboxTurn, reply: unknown, now: number): void {
    const inst = ctx.instance
    const rt = inst.rt
    // Commit, then send: nothing leaves from state that was not kept.
    if (rt.kind !== 'stateless') inst.state = ctx.state
    const envelope = ctx.materialized()
    inst.lastEnvelope = envelope
    inst.lastSeq = envelope === undefined ? ctx.seq : -1
    inst.updatedAt = now
    if (rt.stateful && ctx.state === undefined) this.forget(inst)
    const effects = doneEffects(ctx, reply)
    if (effects !== undefined) this.send(effects, ctx.message)
    rt.counts.done++
    if (this.listeners.length !== 0) {
      this.emit({ type: '@troupe.done', at: now, envelope: ctx.message, durationMs: now - ctx.startedAt })
    }
    this.finish(envelope, 'done')
    if (envelope !== undefined && this.asks.size !== 0) this.asks.answer(envelope.id, reply)
  }

  private failed(ctx: MailboxTurn, error: unknown, attempt: AttemptRecord, retryInMs: number | undefined): void {
    const inst = ctx.instance
    const rt = inst.rt
    const envelope = ctx.message
    const now = attempt.endedAt
    let attempts = this.failures.get(envelope.id)
    if (!attempts) this.failures.set(envelope.id, (attempts = []))
    attempts.push(attempt)
    if (retryInMs !== undefined) {
      rt.counts.retried++
      this.track(envelope, 'retrying', message(error))
      if (this.listeners.length !== 0) this.emit({ type: '@troupe.retried', at: now, envelope, error, delayMs: retryInMs })
      this.retryLater(inst, envelope, retryInMs)
      return
    }
    const letter = deadLetter(envelope, error, attempts, now)
    this.failures.delete(envelope.id)
    this.dead.add(letter)
    rt.counts.dead++
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.dead', at: now, envelope, error })
    logDead(this.logger, envelope, letter.error)
    this.finish(envelope, 'dead', message(error))
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'dead', error: letter.error })], envelope)
    if (this.asks.size !== 0) this.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.id, 'dead', error))
  }

  /** A stateful instance whose turn set its state to undefined is deleted, here and in the store. */
  private forget(inst: Instance): void {
    inst.state = undefined
    if (inst.size !== 0) return // more messages: they start from the initial state
    inst.rt.instances.delete(inst.key)
    this.settleStore(this.stores.state.delete(inst.rt.type, inst.key), `deleting ${inst.rt.type}#${inst.key}`)
  }

  /** A keyed or singleton instance waits with the message at its head (FIFO per key); unkeyed messages wait alone. */
  private retryLater(inst: Instance, envelope: Envelope, delayMs: number): void {
    inst.rt.queued++
    if (inst.maxActive === 1) {
      inst.unshift(envelope)
      this.dispatch.park(inst, delayMs)
      return
    }
    const timer = this.clock.setTimeout(() => {
      this.retryTimers.delete(timer)
      inst.push(envelope)
      this.dispatch.wake(inst)
    }, delayMs)
    this.retryTimers.set(timer, envelope)
  }

  /** Carries out what a committed turn left: messages, timers set and removed. Bodies were checked when told. */
  private send(effects: readonly Effect[], cause: Cause): void {
    // The effects of one turn leave together: one clock reading for all of them.
    const sentAt = this.clock.now()
    for (const effect of effects) {
      if (effect.kind === 'schedule') {
        this.settleStore(this.scheduled.put(effect.timer), `keeping timer ${effect.timer.id}`)
        continue
      }
      if (effect.kind === 'cancel') {
        this.settleStore(this.scheduled.store.delete(effect.timerId), `removing timer ${effect.timerId}`)
        continue
      }
      const rt = this.runtime(effect.target)
      this.enqueue(rt, toldEnvelope(effect, rt, cause, sentAt), effect.receipt)
    }
  }

  /** Store calls from synchronous paths: a failure is logged with what was being done, never dropped unseen. */
  private settleStore(result: void | Promise<void>, what: string): void {
    if (result instanceof Promise) result.catch((error: unknown) => this.logger.error(`store failed ${what}`, { error: message(error) }))
  }

  schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    try {
      if (this.stopping) throw new SystemStoppedError()
      const rt = this.runtime(actor)
      const checked = this.checkOutgoing(actor, body)
      const id = options.name ?? this.ids.id(this.ids.next())
      const timer = timerRecord(`system.schedule(${rt.type})`, rt.type, checked, options, this.clock.now(), { id, correlationId: id })
      const put = this.scheduled.put(timer)
      return put instanceof Promise ? put.then(() => id) : Promise.resolve(id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async cancelSchedule(id: string): Promise<void> {
    await this.scheduled.store.delete(id)
  }

  async timers(): Promise<TimerRecord[]> {
    return this.scheduled.store.list()
  }

  async evict(actor: ActorClass | string, key = ''): Promise<boolean> {
    const rt = this.runtime(actor)
    const inst = rt.instances.get(key)
    if (!inst || inst.active !== 0 || inst.size !== 0 || inst.parked || inst.waiting || inst.loading) return false
    rt.instances.delete(key)
    if (rt.stateful) await this.save(inst)
    return true
  }

  /** Writes an instance to the state store, conditional on the version it was loaded at. */
  private save(inst: Instance): void | Promise<void> {
    const expected = inst.version === 0 ? undefined : inst.version
    inst.version++
    return this.stores.state.put(inst.rt.type, inst.key, { state: readKept(inst.state, encode), version: inst.version, updatedAt: this.clock.now() }, expected)
  }

  /** A status that is not final: kept in the receipt, if any, and for a fork child. */
  private track(envelope: Envelope, status: 'running' | 'retrying', reason?: string): void {
    this.note(envelope, status, reason)
    if (envelope.fork !== undefined) this.childStatus.set(envelope.id, status)
  }

  /** A status on the way: in the message's receipt, or with its ask while it has none. */
  private note(envelope: Envelope, status: 'paused' | 'running' | 'retrying', reason?: string): void {
    if (this.receipts.size !== 0) this.receipts.record(envelope, status, reason)
    if (this.asks.size !== 0) this.asks.moved(envelope.id, status, reason)
  }

  /**
   * Every message ends here, exactly once per acceptance. `envelope` is undefined for a
   * message that never needed one (a bare body: no receipt, no failures, no once-results).
   */
  private finish(envelope: Envelope | undefined, status: 'done' | 'filtered' | 'dead', reason?: string): void {
    if (envelope !== undefined) {
      // An ask that ends without its reply leaves a receipt to follow.
      if (status !== 'done' && this.asks.size !== 0) this.asks.keepReceipt(envelope.id)
      if (this.receipts.size !== 0) this.receipts.record(envelope, status, reason)
      if (envelope.fork !== undefined) this.childStatus.delete(envelope.id)
      if (this.failures.size !== 0 && status !== 'dead') this.failures.delete(envelope.id)
      this.onceResults.forget(envelope.id)
    }
    this.outstanding--
    this.ended++
    if (this.settledWaiters.length !== 0) this.wakeSettled()
  }

  /** Resolves once every accepted message is final or held by a pause. */
  private settled(): Promise<void> {
    if (this.outstanding <= this.pausing.waiting()) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  private wakeSettled(): void {
    if (this.outstanding > this.pausing.waiting()) return
    const waiters = this.settledWaiters
    this.settledWaiters = []
    for (const resolve of waiters) resolve()
  }

  /**
   * Resolves once nothing is queued, running, or waiting for a retry's backoff or a throttle's
   * token, and no timer is due now: timers due are fired here, and what they tell is waited for
   * too. Timers due later are not waited for, nor messages held by a pause. On a simulated clock
   * a backoff passes only as the clock is advanced.
   */
  async idle(): Promise<void> {
    let idleTries = 0
    for (;;) {
      await this.settled()
      // Stopped, the system fires no timer: they stay in the store for the next one.
      if (this.stopping) return
      const [due] = await this.scheduled.store.due(this.clock.now(), 1)
      if (due === undefined) {
        if (this.outstanding <= this.pausing.waiting()) return
        continue
      }
      const fired = this.scheduled.fired
      await this.scheduled.runner.fireDue()
      // Nothing fires only when the timer store fails (the runner logs it): say so, never spin.
      idleTries = this.scheduled.fired === fired ? idleTries + 1 : 0
      if (idleTries === MAX_FIRE_TRIES) throw new TroupeError('TROUPE_TIMERS_STUCK', `timer ${due.id} is due and ${MAX_FIRE_TRIES} tries fired nothing; the timer store is failing (see the log)`)
    }
  }

  // ── fork/join ────────────────────────────────────────────────────────────

  planFork(plan: ForkPlan): Effect[] {
    return planFork(plan, { typeOf: (actor) => this.runtime(actor).type, checkSerializable: this.checkSerializable, now: this.clock.now() })
  }

  /** Forks from outside a turn (an API handler) and resolves to what the join got. */
  fork<const T extends readonly ActorClass[], Value = undefined>(
    children: ForkChildren<T>,
    options: JoinOptions<Value>,
  ): Promise<Joined<T, Value>> {
    try {
      if (this.stopping) throw new SystemStoppedError()
      const forkId = this.ids.id(this.ids.next())
      const checked = (children as readonly (readonly [ActorClass, unknown])[]).map(([actor, body]) => [actor, this.checkOutgoing(actor, body)] as const)
      const effects = this.planFork({
        forkId,
        childId: (i) => derivedId(forkId, i),
        children: checked,
        join: this.registry.find(FORK_RESULT)!.cls,
        options: options as JoinOptions<unknown>,
        cause: { id: forkId, correlationId: forkId as string as CorrelationId },
        forward: undefined,
      })
      const joined = new Promise<Joined<T, Value>>((resolve) => this.forks.set(forkId, resolve as (j: unknown) => void))
      this.send(effects, { id: forkId, correlationId: forkId as string as CorrelationId })
      return joined
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Nothing is redelivered in one process: a fork is deleted at its join. */
  readonly keepJoinedRecords = false

  lastStatus(messageId: string): MessageStatus | undefined {
    return this.childStatus.get(messageId) ?? this.receipts.status(messageId)
  }

  private forkJoined(forkId: string, joined: unknown): void {
    const resolve = this.forks.get(forkId)
    this.forks.delete(forkId)
    resolve?.(joined)
  }

  // ── TurnHost ─────────────────────────────────────────────────────────────

  now(): number {
    return this.clock.now()
  }

  checkOutgoing(target: ActorClass | string, body: unknown): unknown {
    return this.runtime(target).checkOutgoing(body, this.checkSerializable)
  }


  once<T>(messageId: MessageId, name: string, fn: () => T | Promise<T>): Promise<T> {
    return this.onceResults.run(messageId, name, fn)
  }

  // ── reading ──────────────────────────────────────────────────────────────

  receipt(id: string): Promise<Receipt | undefined> {
    if (this.asks.size !== 0) this.asks.keepReceipt(id)
    return Promise.resolve(this.receipts.get(id))
  }

  awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt> {
    if (this.asks.size !== 0) this.asks.keepReceipt(id)
    return this.receipts.wait(id, options)
  }

  state(actor: ActorClass, key = ''): Promise<never> {
    const rt = this.runtime(actor)
    const inst = rt.instances.get(key)
    if (inst || !rt.stateful) return Promise.resolve((inst ? readKept(inst.state, copyState) : undefined) as never)
    // Not in memory: evicted, or kept by a system that stopped before this one.
    return Promise.resolve(this.stores.state.get(rt.type, key)).then((stored) => (stored === undefined ? undefined : decode(stored.state)) as never)
  }

  instances(actor: ActorClass | string): InstanceSnapshot<never>[] {
    const rt = this.runtime(actor)
    return [...rt.instances.values()].map((inst) => ({
      type: rt.type,
      key: inst.key,
      state: readKept(inst.state, copyState) as never,
      queued: inst.size,
      running: inst.active !== 0,
      lastMessageId: inst.lastEnvelope?.id ?? (inst.lastSeq >= 0 ? this.ids.id(inst.lastSeq) : undefined),
      updatedAt: inst.updatedAt,
    }))
  }

  deadLetters(filter?: { type?: string }): Promise<DeadLetter[]> {
    return Promise.resolve(this.dead.list(filter?.type))
  }

  replay(id: string): Promise<MessageId> {
    const letter = this.dead.take(id)
    if (!letter) return Promise.reject(new NoDeadLetterError(id))
    if (this.stopping) {
      this.dead.add(letter)
      return Promise.reject(new SystemStoppedError())
    }
    const rt = this.runtime(letter.envelope.type)
    const envelope: Envelope = { ...letter.envelope, attempt: 0 }
    if (this.listeners.length !== 0) this.emit({ type: '@troupe.replayed', at: this.clock.now(), envelope })
    this.enqueue(rt, envelope, this.receipts.has(envelope.id))
    return Promise.resolve(envelope.id)
  }

  // ── pausing ──────────────────────────────────────────────────────────────

  pause(actor: ActorClass | string, key?: string): Promise<void> {
    try {
      const held = this.pausing.pause(this.runtime(actor), key)
      // What waits may now wait only behind the pause.
      if (this.settledWaiters.length !== 0) this.wakeSettled()
      // What already waits says so in its receipt; a turn running now finishes.
      if (this.receipts.size !== 0 || this.asks.size !== 0) {
        for (const inst of held) {
          inst.mailbox.forEach((item, seq) => {
            if (seq === ENVELOPE) this.note(item as Envelope, 'paused')
          })
        }
      }
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  resume(actor: ActorClass | string, key?: string): Promise<void> {
    try {
      for (const inst of this.pausing.resume(this.runtime(actor), key)) this.dispatch.wake(inst)
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  pauses(): Promise<Pause[]> {
    return Promise.resolve(this.pausing.list())
  }

  inspect(): SystemSnapshot {
    return {
      at: this.clock.now(),
      actors: this.runtimes.map((rt) => ({
        type: rt.type,
        kind: rt.kind,
        instances: rt.kind === 'stateless' ? 0 : rt.instances.size,
        queued: rt.queued,
        running: rt.running,
        counts: { ...rt.counts },
        lastActivityAt: rt.lastActivityAt,
        paused: rt.pausedAll,
        pausedKeys: [...rt.pausedKeys],
      })),
      deadLetters: this.dead.size,
    }
  }

  on(listener: Listener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  private emit(event: TroupeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch (error) {
        this.logger.error('inspection listener threw', { event: event.type, error: message(error) })
      }
    }
  }

  // ── stopping ─────────────────────────────────────────────────────────────

  async stop(options?: StopOptions): Promise<StopReport> {
    if (this.stopping) throw new SystemStoppedError('stop() was already called')
    this.stopping = true
    // Timers stay in the store, for the next system over it.
    const timersStopped = this.scheduled.runner.stop()
    const endedBefore = this.ended
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_STOP_TIMEOUT_MS
    if (this.outstanding > this.pausing.waiting()) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, timeoutMs)
        void this.settled().then(() => {
          this.clock.clearTimeout(timer)
          resolve()
        })
      })
    }
    this.stopped = true
    // Asks end first: their messages' receipts then say how the stop left them.
    this.asks.failAll(new SystemStoppedError('the system stopped before the reply came'))
    this.abandon()
    await timersStopped
    if (this.keepsState) {
      for (const rt of this.runtimes) if (rt.stateful) for (const inst of rt.instances.values()) await this.save(inst)
    }
    // What is still outstanding now is in turns that outlived the timeout.
    // Messages sent by turns during the stop count too: each message once, by how it ended.
    return { drained: this.ended - endedBefore - this.buriedAtStop, deadLettered: this.buriedAtStop, stillRunning: this.outstanding, leftInStream: 0 }
  }

  /** Dead-letters every message that is still waiting, so none disappears. */
  private abandon(): void {
    const waiting: [ActorRuntime, Envelope][] = []
    for (const [timer, envelope] of this.retryTimers) {
      this.clock.clearTimeout(timer)
      waiting.push([this.runtime(envelope.type), envelope])
    }
    this.retryTimers.clear()
    this.dispatch.cancelParks()
    for (const rt of this.runtimes) {
      for (const inst of rt.instances.values()) {
        inst.parked = true
        for (const slot of inst.mailbox.drain()) {
          const envelope = slot.seq === ENVELOPE ? (slot.item as Envelope) : this.rootEnvelope(inst, slot.item, slot.seq, slot.sentAt)
          waiting.push([rt, envelope])
        }
      }
    }
    for (const [rt, envelope] of waiting) {
      rt.queued--
      this.bury(rt, envelope, new SystemStoppedError(`the system stopped before ${rt.type} message ${envelope.id} could finish`))
    }
  }

  private bury(rt: ActorRuntime, envelope: Envelope, error: Error): void {
    this.buriedAtStop++
    rt.counts.dead++
    this.dead.add(deadLetter(envelope, error, this.failures.get(envelope.id) ?? [], this.clock.now()))
    this.failures.delete(envelope.id)
    this.finish(envelope, 'dead', error.message)
  }
}

/** Sets a new instance's state: what the store kept, or the type's initial state. */
function restore(inst: Instance, stored: StoredInstance | undefined): void {
  inst.state = stored === undefined ? inst.rt.initialState() : decode(stored.state)
  inst.version = stored?.version ?? 0
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
