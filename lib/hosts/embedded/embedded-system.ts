import { FORK_RESULT, ForkResult, serveForkResult } from '../../../actors/fork-result.js'
import { Joiner, JOINER, serveJoiner, type JoinerHost } from '../../../actors/joiner.js'
import type { ActorClass } from '../../core/actor.js'
import { systemClock, type Clock } from '../../core/clock.js'
import * as d from '../../core/defaults.js'
import type { Envelope } from '../../core/envelope.js'
import { ConfigError, NoDeadLetterError, OnceResultLostError, SystemStoppedError } from '../../core/errors.js'
import type { ForkChildren, ForkMembership, Joined, JoinOptions } from '../../core/fork.js'
import { RootIds, type MessageId } from '../../core/ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot } from '../../core/inspection.js'
import { Listeners } from '../../core/listeners.js'
import { createLogger, messageLogFields, type Logger } from '../../core/logger.js'
import type { MessageStatus, Receipt } from '../../core/receipt.js'
import { checkTimerName, type ScheduleOptions } from '../../core/schedule.js'
import type { AskOptions, AwaitReceiptOptions, Pause, StopOptions, StopReport, System, TellOptions } from '../../core/system.js'
import type { SystemOptions } from './system-options.js'
import { assertSerializable } from '../../core/validate.js'
import { copyState } from '../../core/state-copy.js'
import type { TimerRecord } from '../../store/index.js'
import { MemoryStateStore, MemoryTimerStore } from '../../store/memory.js'
import type { DeadLetter } from '../../core/dead-letter.js'
import { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import { Deadlines } from '../../turn/deadlines.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { ActorRegistry } from '../../turn/registry.js'
import type { OnceSemantics, OnceSubject } from '../../turn/once.js'
import type { TurnHost } from '../../turn/turn-context.js'
import { runTurn, startState, turnJournal, TurnRules, type Outcome } from '../../turn/turn.js'
import { ActorRuntime } from './actor-runtime.js'
import { Dispatcher, type DispatchHooks } from './dispatcher.js'
import { EmbeddedForks } from './embedded-fork.js'
import { EmbeddedOutcomes } from './embedded-outcomes.js'
import { EmbeddedTimers } from './embedded-timers.js'
import { instanceSnapshots, systemSnapshot } from './embedded-views.js'
import { ENVELOPE, type Instance } from './instance.js'
import { InstanceStates } from './instance-states.js'
import { Intake } from './intake.js'
import { SystemLife } from './system-life.js'
import { MailboxTurn } from './mailbox-turn.js'
import { MessageBook } from './message-book.js'
import { PauseBook } from './pause-book.js'
import { PendingAsks } from './pending-asks.js'
import { ReceiptBook } from './receipt-book.js'
import { RetryWaits } from './retry-waits.js'
import { StopBurial } from './stop-burial.js'

/**
 * The embedded host: every actor in this process, mailboxes in memory, turns on the
 * event loop. The default system, for development, tests and jobs that fit one process.
 */
export class EmbeddedSystem implements System, TurnHost, JoinerHost, DispatchHooks {
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
  private readonly book: MessageBook
  private readonly retries: RetryWaits
  /** Forks: planning them, and those made from outside a turn. */
  private readonly forks: EmbeddedForks
  private readonly states: InstanceStates
  private readonly pausing: PauseBook
  /** Whether the caller gave a state store: then stop() writes every instance to it. */
  private readonly keepsState: boolean
  private readonly scheduled: EmbeddedTimers
  private readonly events: Listeners
  private readonly outcomes: EmbeddedOutcomes
  private readonly intake: Intake
  private readonly burial: StopBurial
  private readonly life = new SystemLife()

  private get stopping(): boolean {
    return this.life.stopping
  }

  constructor(options: SystemOptions) {
    if (!options || !Array.isArray(options.actors)) throw new ConfigError('createSystem({ actors }) needs an array of actor classes')
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger(options.logLevel ?? 'info')
    this.events = new Listeners(this.logger)
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.receiptsForAll = options.receiptsForAll ?? false
    this.registry = new ActorRegistry(options.actors, [Joiner, ForkResult], (cls) => new ActorRuntime(cls, this.clock))
    serveJoiner(this.registry.get(JOINER).actor, this)
    this.runtimes = [...this.registry.values()]
    this.pausing = new PauseBook(this.runtimes)
    const maxRunning = options.concurrency ?? d.DEFAULT_SYSTEM_CONCURRENCY
    if (!(maxRunning >= 1)) throw new ConfigError(`createSystem: concurrency must be a number from 1 up, got ${String(options.concurrency)}`)
    // The parts this system hands its own pieces are objects with methods (this system, its
    // outcomes), not closures made here: code that called one system's closure is dropped by V8
    // when the next system's comes, so a second system in a process would run its turns cold.
    this.dispatch = new Dispatcher(this.clock, maxRunning, this.runtimes, this)
    this.deadlines = new Deadlines(this.clock)
    this.rules = new TurnRules({ filters: options.filters ?? [], checkSerializable: this.checkSerializable, random: options.random ?? Math.random, clock: this.clock, deadlines: this.deadlines })
    this.receipts = new ReceiptBook(this.clock, options.receiptLimit ?? d.DEFAULT_RECEIPT_LIMIT)
    this.asks = new PendingAsks(this.deadlines, this.receipts)
    this.book = new MessageBook(this.receipts, this.asks, this.pausing)
    this.retries = new RetryWaits(this.clock, this.dispatch)
    this.dead = new DeadLetterBox(options.deadLetterLimit ?? d.DEFAULT_DEAD_LETTER_LIMIT, (letter) => {
      this.book.onceResults.forget(letter.envelope.id)
      this.logger.warn('dead letter evicted past deadLetterLimit', messageLogFields(letter.envelope))
    })
    this.burial = new StopBurial(this.clock, this.book, this.dead)
    this.states = new InstanceStates(options.stores?.state ?? new MemoryStateStore(), this.clock)
    this.keepsState = options.stores?.state !== undefined
    const { clock, logger, events, registry, book, asks, dead, retries, receipts, ids, dispatch, states, burial, checkSerializable, receiptsForAll } = this
    this.intake = new Intake({ life: this.life, clock, registry, ids, dispatch, states, book, receipts, asks, events, burial, checkSerializable, receiptsForAll })
    this.scheduled = new EmbeddedTimers(clock, options.stores?.timers ?? new MemoryTimerStore(), registry, dead, logger, (rt, envelope) => this.intake.enqueue(rt, envelope, receiptsForAll))
    this.outcomes = new EmbeddedOutcomes({ clock, logger, events, registry, book, asks, dead, retries, timers: this.scheduled, states, sink: this.intake })
    this.forks = new EmbeddedForks(this, registry, this.checkSerializable, this.outcomes, clock.now())
    serveForkResult(this.registry.get(FORK_RESULT).actor, this.forks)
    this.scheduled.runner.start()
    this.life.phase = 'running'
  }

  // ── sending ──────────────────────────────────────────────────────────────

  tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    return this.intake.tell(target, body, options)
  }

  ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    return this.intake.ask(target, body, options)
  }

  private runtime(target: ActorClass | string): ActorRuntime {
    return this.registry.get(target)
  }

  // ── turns ────────────────────────────────────────────────────────────────

  /** Runs one attempt of the message just shifted from `inst` (DispatchHooks). Returns a promise only if `receive` did. */
  turn(inst: Instance, now: number): Promise<void> | undefined {
    const rt = inst.rt
    const mailbox = inst.mailbox
    // Set when it changes (turns in a row share a reading): a new number stored in an old object goes through the collector's write barrier.
    if (rt.lastActivityAt !== now) rt.lastActivityAt = now
    const seq = mailbox.seq
    if (seq === ENVELOPE) (mailbox.item as Envelope).attempt++
    const state = startState(rt, inst.state)
    // The turn changes the state (in place, or a copy of a flat one); its journal undoes that if the turn fails.
    const journal = turnJournal(rt, state, inst.state !== undefined ? 'trusted' : 'new')
    const ctx = new MailboxTurn(this, inst, mailbox.item, seq, mailbox.sentAt, state, now, journal)
    mailbox.item = undefined
    if (seq === ENVELOPE) this.book.track(ctx.message, 'running', undefined, now)
    if (this.events.active) this.events.emit({ type: '@troupe.delivered', at: now, envelope: ctx.message })
    const outcome = runTurn(this.rules, rt, ctx)
    if (outcome instanceof Promise) return this.carryOutLater(ctx, outcome)
    this.outcomes.carryOut(ctx, outcome, now)
    return undefined
  }

  /** An async turn's outcome, once it comes. Not a closure in turn(): its scope would be allocated for every turn. */
  private carryOutLater(ctx: MailboxTurn, outcome: Promise<Outcome>): Promise<void> {
    return outcome.then((ended) => this.outcomes.carryOut(ctx, ended, this.clock.now()))
  }

  /** A turn waits for a token of its key's or its type's bucket (DispatchHooks). */
  throttled(inst: Instance, waitMs: number, scope: 'key' | 'type', now: number): void {
    inst.rt.counts.throttled++
    if (this.events.active) this.events.emit({ type: '@troupe.throttled', at: now, actor: inst.rt.type, key: inst.key, waitMs, scope })
  }

  /** The envelope of a mailbox slot (MailboxTurn's SlotEnvelopes). */
  slotEnvelope(inst: Instance, item: unknown, seq: number, sentAt: number, attempt: number): Envelope {
    return this.intake.slotEnvelope(inst, item, seq, sentAt, attempt)
  }

  schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    return settle(() => {
      if (this.stopping) throw new SystemStoppedError()
      const rt = this.runtime(actor)
      const checked = this.checkOutgoing(actor, body)
      return this.scheduled.schedule(rt.type, checked, options, options.name ?? this.ids.id(this.ids.next()))
    })
  }

  async cancelSchedule(id: string): Promise<void> {
    checkTimerName('system.cancelSchedule', id)
    await this.scheduled.store.delete(id)
  }

  async timers(): Promise<TimerRecord[]> {
    return this.scheduled.store.list()
  }

  evict(actor: ActorClass | string, key = ''): Promise<boolean> {
    // A stopping system evicts nothing: stop() keeps every instance (and writes it to a store it
    // shares with the next system), and an eviction now would write it again over that system's.
    if (this.stopping) return Promise.resolve(false)
    return settle(() => this.states.evict(this.runtime(actor), key))
  }

  /**
   * Resolves once nothing is queued, running, or waiting for a retry's backoff or a throttle's
   * token, and no timer is due now: timers due are fired here, and what they tell is waited for
   * too. Timers due later are not waited for, nor messages held by a pause. On a simulated clock
   * a backoff passes only as the clock is advanced.
   */
  idle(): Promise<void> {
    return this.scheduled.idle(this.book, () => this.stopping)
  }

  // ── fork/join ────────────────────────────────────────────────────────────

  planFork(plan: ForkPlan): Effect[] {
    return this.forks.plan(plan, this.clock.now())
  }

  /** Forks from outside a turn (an API handler) and resolves to what the join got. */
  fork<const T extends readonly ActorClass[], Value = undefined>(
    children: ForkChildren<T>,
    options: JoinOptions<Value>,
  ): Promise<Joined<T, Value>> {
    // Not through settle(): a closure per fork costs here what a child's turn does.
    try {
      if (this.stopping) throw new SystemStoppedError()
      return this.forks.fork(this.ids.id(this.ids.next()), children, options, this.clock.now())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Nothing is redelivered in one process: a fork is deleted at its join. */
  readonly keepJoinedRecords = false

  lastStatus(messageId: string, member: ForkMembership): MessageStatus | undefined {
    return this.book.lastStatus(messageId, member)
  }

  // ── TurnHost ─────────────────────────────────────────────────────────────

  now(): number {
    return this.clock.now()
  }

  checkOutgoing(target: ActorClass | string, body: unknown): unknown {
    return this.runtime(target).checkOutgoing(body, this.checkSerializable)
  }

  once<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>, semantics: OnceSemantics): Promise<T> {
    // Kept in memory, as the messages are; checked as AWS would record it, so a result that
    // could not be recorded there fails here too. The first call gets `fn`'s own result; a later
    // attempt gets a copy of it as it was when `fn` returned (a record's copy on AWS), whatever an
    // attempt before it did to the object it got.
    const check = this.checkSerializable
    const run = () =>
      Promise.resolve(fn()).then((result) => {
        if (check) {
          try {
            assertSerializable(message.type, 'once result', result)
          } catch (error) {
            // `fn` ran and its result cannot be kept: this call fails with why, and every later one
            // (a retry, the replayed letter) is told that it ran, as a record on AWS tells it.
            const ranAt = this.clock.now()
            const lost = () => new OnceResultLostError(message.type, message.id, name, ranAt, (error as Error).message)
            return {
              get value(): T {
                throw error
              },
              again(): T {
                throw lost()
              },
            }
          }
        }
        const kept = copyState(result)
        return { value: result, again: () => copyState(kept) }
      })
    return this.book.onceResults.run(message.id, name, run, semantics)
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
    return settle(() => this.states.read(this.runtime(actor), key) as Promise<never>)
  }

  instances(actor: ActorClass | string): InstanceSnapshot<never>[] {
    return instanceSnapshots(this.runtime(actor), (seq) => this.ids.id(seq))
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
    if (this.events.active) this.events.emit({ type: '@troupe.replayed', at: this.clock.now(), envelope })
    this.intake.enqueue(rt, envelope, this.receipts.has(envelope.id))
    return Promise.resolve(envelope.id)
  }

  // ── pausing ──────────────────────────────────────────────────────────────

  pause(actor: ActorClass | string, key?: string): Promise<void> {
    return settle(() => {
      const held = this.pausing.pause(this.runtime(actor), key)
      // What waits may now wait only behind the pause.
      this.book.wakeSettled()
      // What already waits says so in its receipt; a turn running now finishes.
      this.book.paused(held, this.clock.now())
    })
  }

  resume(actor: ActorClass | string, key?: string): Promise<void> {
    return settle(() => {
      for (const inst of this.pausing.resume(this.runtime(actor), key)) this.dispatch.wake(inst)
    })
  }

  pauses(): Promise<Pause[]> {
    return Promise.resolve(this.pausing.list())
  }

  inspect(): SystemSnapshot {
    return systemSnapshot(this.runtimes, this.clock.now(), this.dead.size)
  }

  on(listener: Listener): () => void {
    return this.events.add(listener)
  }

  // ── stopping ─────────────────────────────────────────────────────────────

  async stop(options?: StopOptions): Promise<StopReport> {
    if (this.stopping) throw new SystemStoppedError('stop() was already called')
    this.life.phase = 'stopping'
    // Timers stay in the store, for the next system over it.
    const timersStopped = this.scheduled.runner.stop()
    const endedBefore = this.book.ended
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_STOP_TIMEOUT_MS
    await this.book.settledWithin(this.clock, timeoutMs)
    this.life.phase = 'stopped'
    // Asks end first: their messages' receipts then say how the stop left them.
    this.asks.failAll(new SystemStoppedError('the system stopped before the reply came'))
    this.burial.buryWaiting(this.registry, this.retries, (inst, item, seq, sentAt) => this.intake.slotEnvelope(inst, item, seq, sentAt, 0))
    try {
      await timersStopped
      if (this.keepsState) await this.states.saveAll(this.runtimes)
    } finally {
      // Also when the save failed: the stop is over either way (a second one is refused).
      MailboxTurn.release(this)
    }
    // What is still outstanding now is in turns that outlived the timeout.
    // Messages sent by turns during the stop count too: each message once, by how it ended.
    return { drained: this.book.ended - endedBefore - this.burial.count, deadLettered: this.burial.count, stillRunning: this.book.outstanding, leftInStream: 0 }
  }
}

/** Runs `fn`, turning what it throws into a rejection: a `System` method fails by its promise. */
function settle<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (error) {
    return Promise.reject(error)
  }
}
