import type { Clock } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import { AskFailedError } from '../../core/errors.js'
import type { Listeners } from '../../core/listeners.js'
import type { Logger } from '../../core/logger.js'
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import type { Effect } from '../../turn/effect.js'
import type { ActorRegistry } from '../../turn/registry.js'
import type { Outcome } from '../../turn/turn.js'
import { JOINER } from '../../turn/join-protocol.js'
import { childReport, deadLetter, doneEffects, filteredError, forkReport, logDead, soleForkReport, toldEnvelope, type Cause, type ChildReport } from '../../turn/turn-effects.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { EmbeddedTimers } from './embedded-timers.js'
import type { Instance } from './instance.js'
import type { InstanceStates } from './instance-states.js'
import type { MailboxTurn } from './mailbox-turn.js'
import type { MessageBook } from './message-book.js'
import type { PendingAsks } from './pending-asks.js'
import type { RetryWaits } from './retry-waits.js'

/** Where the messages a turn sent go: the system's mailboxes. */
export interface MessageSink {
  enqueue(rt: ActorRuntime, envelope: Envelope, receipt: boolean): void
  /** A done fork child's report to its joiner, sent at `sentAt`. */
  enqueueReport(joiner: ActorRuntime, report: ChildReport, sentAt: number): void
}

/** What the embedded system's turn endings reach into. */
export interface OutcomeParts {
  clock: Clock
  logger: Logger
  events: Listeners
  registry: ActorRegistry<ActorRuntime>
  book: MessageBook
  asks: PendingAsks
  dead: DeadLetterBox
  retries: RetryWaits
  states: InstanceStates
  timers: EmbeddedTimers
  /** Accepts a message a turn sent. */
  sink: MessageSink
}

/**
 * How an attempt in the embedded system ends, once the turn engine (lib/turn/turn.ts) has run
 * it: the state kept and then what the turn sent carried out, a retry after its backoff, or the
 * message's end with its dead letter, fork report and ask answered.
 */
export class EmbeddedOutcomes {
  // The parts are kept in fields of this class, not in the object each system passes: that
  // object is a literal made once per system, and V8 generalizes a literal's fields the second
  // time it is made, which drops the optimized code that read them (every turn ending, in the
  // second system a process makes). The sink is an object with a method, not a closure, for the
  // same reason: a call site that has seen one system's closure deopts on the next one's.
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly events: Listeners
  private readonly registry: ActorRegistry<ActorRuntime>
  private readonly book: MessageBook
  private readonly asks: PendingAsks
  private readonly dead: DeadLetterBox
  private readonly retries: RetryWaits
  private readonly states: InstanceStates
  private readonly timers: EmbeddedTimers
  private readonly sink: MessageSink

  constructor(parts: OutcomeParts) {
    this.clock = parts.clock
    this.logger = parts.logger
    this.events = parts.events
    this.registry = parts.registry
    this.book = parts.book
    this.asks = parts.asks
    this.dead = parts.dead
    this.retries = parts.retries
    this.states = parts.states
    this.timers = parts.timers
    this.sink = parts.sink
  }

  carryOut(ctx: MailboxTurn, outcome: Outcome, now: number): void {
    if (outcome.end === 'done') this.succeeded(ctx, outcome.reply, now)
    else if (outcome.end === 'failed') this.failed(ctx, outcome.error, outcome.attempt, outcome.retryInMs)
    else this.filtered(ctx, outcome.reason)
  }

  private filtered(ctx: MailboxTurn, reason: string): void {
    const envelope = ctx.message
    const rt = ctx.instance.rt
    rt.counts.filtered++
    if (this.events.active) this.events.emit({ type: '@troupe.filtered', at: this.clock.now(), envelope, reason })
    this.book.finish(envelope, 'filtered', reason)
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'filtered', error: filteredError(reason) })], envelope)
    if (this.asks.size !== 0) this.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.key, envelope.id, 'filtered', new Error(reason)))
  }

  private succeeded(ctx: MailboxTurn, reply: unknown, now: number): void {
    const inst = ctx.instance
    const rt = inst.rt
    // Commit, then send: nothing leaves from state that was not kept.
    if (rt.kind !== 'stateless') inst.state = ctx.state
    const envelope = ctx.materialized()
    inst.lastMessage = envelope ?? ctx.unmadeReport()
    inst.lastSeq = envelope === undefined ? ctx.seq : -1
    if (inst.updatedAt !== now) inst.updatedAt = now // as rt.lastActivityAt (embedded-system.ts)
    if (rt.stateful && ctx.state === undefined) this.forget(inst)
    // A fork child that tells nothing (most) sends its report alone, with no Outgoing, list of
    // effects or envelope made for it.
    const child = soleForkReport(ctx)
    if (child !== undefined) {
      this.sink.enqueueReport(this.registry.get(JOINER), childReport(child, { ok: true, reply }, ctx.trace), now)
    } else {
      const effects = doneEffects(ctx, reply)
      if (effects !== undefined) this.send(effects, ctx.message, now)
    }
    rt.counts.done++
    if (this.events.active) this.events.emit({ type: '@troupe.done', at: now, envelope: ctx.message, durationMs: now - ctx.startedAt })
    this.book.finish(envelope, 'done')
    if (envelope !== undefined && this.asks.size !== 0) this.asks.answer(envelope.id, reply)
  }

  private failed(ctx: MailboxTurn, error: unknown, attempt: AttemptRecord, retryInMs: number | undefined): void {
    const inst = ctx.instance
    const rt = inst.rt
    const envelope = ctx.message
    const now = attempt.endedAt
    const attempts = this.book.attempted(envelope, attempt)
    if (retryInMs !== undefined) {
      rt.counts.retried++
      this.book.track(envelope, 'retrying', message(error), now)
      if (this.events.active) this.events.emit({ type: '@troupe.retried', at: now, envelope, error, delayMs: retryInMs })
      this.retries.later(inst, envelope, retryInMs)
      return
    }
    const letter = deadLetter(envelope, error, attempts, now)
    this.book.takeAttempts(envelope)
    this.dead.add(letter)
    rt.counts.dead++
    if (this.events.active) this.events.emit({ type: '@troupe.dead', at: now, envelope, error })
    logDead(this.logger, envelope, letter.error)
    this.book.finish(envelope, 'dead', message(error))
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'dead', error: letter.error })], envelope)
    if (this.asks.size !== 0) this.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.key, envelope.id, 'dead', error))
  }

  /** A stateful instance whose turn set its state to undefined is deleted, here and in the store. */
  private forget(inst: Instance): void {
    inst.state = undefined
    if (inst.size !== 0) return // more messages: they start from the initial state
    inst.rt.drop(inst.key)
    inst.mailbox.release()
    const deleted = this.states.delete(inst)
    if (deleted instanceof Promise) this.settleStore(deleted, `deleting ${inst.rt.type}#${inst.key}`)
  }

  /**
   * Carries out what a committed turn left: messages, timers set and removed. Bodies were checked
   * when told. The effects of one turn leave together, at one reading of the clock: `sentAt`, the
   * reading the turn ended at where the caller has one.
   */
  send(effects: readonly Effect[], cause: Cause, sentAt = this.clock.now()): void {
    for (const effect of effects) this.sendOne(effect, cause, sentAt)
  }

  private sendOne(effect: Effect, cause: Cause, sentAt: number): void {
    if (effect.kind === 'schedule') {
      const put = this.timers.put(effect.timer)
      if (put instanceof Promise) this.settleStore(put, `keeping timer ${effect.timer.id}`)
    } else if (effect.kind === 'cancel') {
      const deleted = this.timers.store.delete(effect.timerId)
      if (deleted instanceof Promise) this.settleStore(deleted, `removing timer ${effect.timerId}`)
    } else {
      const rt = this.registry.get(effect.target)
      this.sink.enqueue(rt, toldEnvelope(effect, rt, cause, sentAt), effect.receipt)
    }
  }

  /**
   * A store call from a synchronous path that went asynchronous: a failure is logged with what was
   * being done, never dropped unseen. Callers check for the promise first, so a synchronous store
   * (the memory one) costs no description and no closure scope.
   */
  private settleStore(result: Promise<void>, what: string): void {
    result.catch((error: unknown) => this.logger.error(`store failed ${what}`, { error: message(error) }))
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
