import type { Clock } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import { AskFailedError } from '../../core/errors.js'
import type { Listeners } from '../../core/listeners.js'
import type { Logger } from '../../core/logger.js'
import type { StateStore } from '../../store/index.js'
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import type { Effect } from '../../turn/effect.js'
import type { ActorRegistry } from '../../turn/registry.js'
import type { Outcome } from '../../turn/turn.js'
import { JOINER } from '../../turn/join-protocol.js'
import { deadLetter, doneEffects, filteredError, forkReport, forkReportEnvelope, logDead, soleForkReport, toldEnvelope, type Cause } from '../../turn/turn-effects.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { EmbeddedTimers } from './embedded-timers.js'
import type { Instance } from './instance.js'
import type { MailboxTurn } from './mailbox-turn.js'
import type { MessageBook } from './message-book.js'
import type { PendingAsks } from './pending-asks.js'
import type { RetryWaits } from './retry-waits.js'

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
  state: StateStore
  timers: EmbeddedTimers
  /** Accepts a message a turn sent. */
  enqueue(rt: ActorRuntime, envelope: Envelope, receipt: boolean): void
}

/**
 * How an attempt in the embedded system ends, once the turn engine (lib/turn/turn.ts) has run
 * it: the state kept and then what the turn sent carried out, a retry after its backoff, or the
 * message's end with its dead letter, fork report and ask answered.
 */
export class EmbeddedOutcomes {
  constructor(private readonly p: OutcomeParts) {}

  carryOut(ctx: MailboxTurn, outcome: Outcome, now: number): void {
    if (outcome.end === 'done') this.succeeded(ctx, outcome.reply, now)
    else if (outcome.end === 'failed') this.failed(ctx, outcome.error, outcome.attempt, outcome.retryInMs)
    else this.filtered(ctx, outcome.reason)
  }

  private filtered(ctx: MailboxTurn, reason: string): void {
    const p = this.p
    const envelope = ctx.message
    const rt = ctx.instance.rt
    rt.counts.filtered++
    if (p.events.active) p.events.emit({ type: '@troupe.filtered', at: p.clock.now(), envelope, reason })
    p.book.finish(envelope, 'filtered', reason)
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'filtered', error: filteredError(reason) })], envelope)
    if (p.asks.size !== 0) p.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.id, 'filtered', new Error(reason)))
  }

  private succeeded(ctx: MailboxTurn, reply: unknown, now: number): void {
    const p = this.p
    const inst = ctx.instance
    const rt = inst.rt
    // Commit, then send: nothing leaves from state that was not kept.
    if (rt.kind !== 'stateless') inst.state = ctx.state
    const envelope = ctx.materialized()
    inst.lastEnvelope = envelope
    inst.lastSeq = envelope === undefined ? ctx.seq : -1
    inst.updatedAt = now
    if (rt.stateful && ctx.state === undefined) this.forget(inst)
    // A fork child that tells nothing (most) sends its report alone: its envelope is made
    // straight away, with no Outgoing or list of effects made for it.
    const child = soleForkReport(ctx)
    if (child !== undefined) {
      const joiner = p.registry.get(JOINER)
      p.enqueue(joiner, forkReportEnvelope(child, { ok: true, reply }, joiner, now, ctx.trace), false)
    } else {
      const effects = doneEffects(ctx, reply)
      if (effects !== undefined) this.send(effects, ctx.message, now)
    }
    rt.counts.done++
    if (p.events.active) p.events.emit({ type: '@troupe.done', at: now, envelope: ctx.message, durationMs: now - ctx.startedAt })
    p.book.finish(envelope, 'done')
    if (envelope !== undefined && p.asks.size !== 0) p.asks.answer(envelope.id, reply)
  }

  private failed(ctx: MailboxTurn, error: unknown, attempt: AttemptRecord, retryInMs: number | undefined): void {
    const p = this.p
    const inst = ctx.instance
    const rt = inst.rt
    const envelope = ctx.message
    const now = attempt.endedAt
    const attempts = p.book.attempted(envelope, attempt)
    if (retryInMs !== undefined) {
      rt.counts.retried++
      p.book.track(envelope, 'retrying', message(error))
      if (p.events.active) p.events.emit({ type: '@troupe.retried', at: now, envelope, error, delayMs: retryInMs })
      p.retries.later(inst, envelope, retryInMs)
      return
    }
    const letter = deadLetter(envelope, error, attempts, now)
    p.book.takeAttempts(envelope)
    p.dead.add(letter)
    rt.counts.dead++
    if (p.events.active) p.events.emit({ type: '@troupe.dead', at: now, envelope, error })
    logDead(p.logger, envelope, letter.error)
    p.book.finish(envelope, 'dead', message(error))
    if (envelope.fork !== undefined) this.send([forkReport(envelope, { ok: false, status: 'dead', error: letter.error })], envelope)
    if (p.asks.size !== 0) p.asks.fail(envelope.id, new AskFailedError(rt.type, envelope.id, 'dead', error))
  }

  /** A stateful instance whose turn set its state to undefined is deleted, here and in the store. */
  private forget(inst: Instance): void {
    inst.state = undefined
    if (inst.size !== 0) return // more messages: they start from the initial state
    inst.rt.instances.delete(inst.key)
    inst.mailbox.release()
    const deleted = this.p.state.delete(inst.rt.type, inst.key)
    if (deleted instanceof Promise) this.settleStore(deleted, `deleting ${inst.rt.type}#${inst.key}`)
  }

  /**
   * Carries out what a committed turn left: messages, timers set and removed. Bodies were checked
   * when told. The effects of one turn leave together, at one reading of the clock: `sentAt`, the
   * reading the turn ended at where the caller has one.
   */
  send(effects: readonly Effect[], cause: Cause, sentAt = this.p.clock.now()): void {
    for (const effect of effects) this.sendOne(effect, cause, sentAt)
  }

  private sendOne(effect: Effect, cause: Cause, sentAt: number): void {
    const p = this.p
    if (effect.kind === 'schedule') {
      const put = p.timers.put(effect.timer)
      if (put instanceof Promise) this.settleStore(put, `keeping timer ${effect.timer.id}`)
    } else if (effect.kind === 'cancel') {
      const deleted = p.timers.store.delete(effect.timerId)
      if (deleted instanceof Promise) this.settleStore(deleted, `removing timer ${effect.timerId}`)
    } else {
      const rt = p.registry.get(effect.target)
      p.enqueue(rt, toldEnvelope(effect, rt, cause, sentAt), effect.receipt)
    }
  }

  /**
   * A store call from a synchronous path that went asynchronous: a failure is logged with what was
   * being done, never dropped unseen. Callers check for the promise first, so a synchronous store
   * (the memory one) costs no description and no closure scope.
   */
  private settleStore(result: Promise<void>, what: string): void {
    result.catch((error: unknown) => this.p.logger.error(`store failed ${what}`, { error: message(error) }))
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
