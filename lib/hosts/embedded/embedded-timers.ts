import type { Clock } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import { TroupeError, UnknownActorError } from '../../core/errors.js'
import { messageLogFields, type Logger } from '../../core/logger.js'
import { FIRING_MEMORY_MS, REMEMBERED_FIRINGS, scheduledOutside, timerRecord, type ScheduleOptions } from '../../core/schedule.js'
import { decode } from '../../core/serialization.js'
import type { TimerRecord, TimerStore } from '../../store/index.js'
import type { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { deadLetter, firedEnvelope } from '../../turn/turn-effects.js'
import { outsideTrace } from '../../turn/turn-trace.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { MessageBook } from './message-book.js'
import { TimerRunner } from '../timer-runner.js'

/** Tries in a row of `idle()` to fire a due timer that fire nothing, before it says the timer store is failing. */
const MAX_FIRE_TRIES = 3

/**
 * The embedded system's durable timers: kept in the timer store, fired by a runner on one clock
 * timer, each firing told like any other message. A timer that cannot fire (its actor is gone,
 * its body does not decode or key) is a dead letter with the real error.
 */
export class EmbeddedTimers {
  readonly runner: TimerRunner
  /** Timers fired so far: `idle()` checks that firing due timers gets somewhere. */
  fired = 0
  /**
   * Per named timer, the firings it sent last (`set dueAt`, newest last, as many as the timer's
   * instance keeps on AWS) and when it sent the last; timers that fired longest ago first, and
   * forgotten FIRING_MEMORY_MS after. A named timer put again just as it was, for a due time it
   * fired at, would send the same message again under the same id; on AWS the timer's instance
   * recognises it, here this does.
   */
  private readonly sent = new Map<string, { firings: string[]; at: number }>()

  constructor(
    private readonly clock: Clock,
    readonly store: TimerStore,
    private readonly registry: ActorRegistry<ActorRuntime>,
    private readonly dead: DeadLetterBox,
    private readonly logger: Logger,
    /** Tells a firing's message. */
    private readonly tell: (rt: ActorRuntime, envelope: Envelope) => void,
  ) {
    this.runner = new TimerRunner(clock, store, (t) => this.fire(t), logger)
  }

  /** `system.schedule` from outside a turn: puts the timer, and resolves (or returns) its id once it is in the store. */
  schedule(type: string, body: unknown, options: ScheduleOptions, id: string): string | Promise<string> {
    const made = timerRecord(`system.schedule(${type})`, type, body, options, this.clock.now(), { id, correlationId: id, trace: outsideTrace() })
    const timer = options.name === undefined ? made : scheduledOutside(made)
    const put = this.put(timer)
    return put instanceof Promise ? put.then(() => id) : id
  }

  /** Puts a timer, and wakes the runner only once it is in the store (it could look before it lands otherwise). */
  put(timer: TimerRecord): void | Promise<void> {
    const put = this.store.put(timer)
    if (put instanceof Promise) return put.then(() => this.runner.notify(timer.dueAt))
    this.runner.notify(timer.dueAt)
  }

  /**
   * Waits for `book` to settle and fires the timers due meanwhile, until it is settled with no
   * timer due now. Stopped (`stopping()`), it fires none: they stay in the store for the next system.
   */
  async idle(book: MessageBook, stopping: () => boolean): Promise<void> {
    let idleTries = 0
    for (;;) {
      await book.settled()
      if (stopping()) return
      const [due] = await this.store.due(this.clock.now(), 1)
      if (due === undefined) {
        if (book.isSettled()) return
        continue
      }
      const fired = this.fired
      await this.runner.fireDue()
      // Nothing fires only when the timer store fails (the runner logs it): say so, never spin.
      idleTries = this.fired === fired ? idleTries + 1 : 0
      if (idleTries === MAX_FIRE_TRIES) throw new TroupeError('TROUPE_TIMERS_STUCK', `timer ${due.id} is due and ${MAX_FIRE_TRIES} tries fired nothing; the timer store is failing (see the log)`)
    }
  }

  /** A timer came due: its message is told like any other, with an id fixed by the timer and the due time. */
  private fire(timer: TimerRecord): void {
    this.fired++
    const now = this.clock.now()
    if (timer.set !== undefined && this.sentBefore(timer, now)) return
    const rt = this.registry.find(timer.target)
    const firing = { timerId: timer.id, set: timer.set, dueAt: timer.dueAt, target: timer.target, body: undefined as unknown, correlationId: timer.correlationId, causationId: timer.causationId, trace: timer.trace }
    try {
      firing.body = decode(timer.body)
      if (!rt) throw new UnknownActorError(timer.target, this.registry.names(), `for timer ${timer.id} in this system`)
      this.tell(rt, firedEnvelope(firing, rt))
    } catch (error) {
      const envelope = firedEnvelope(firing, undefined)
      this.dead.add(deadLetter(envelope, error, [], now))
      this.logger.error('timer could not fire; dead-lettered', { ...messageLogFields(envelope), timerId: timer.id, error: error instanceof Error ? error.message : String(error) })
    }
  }

  /** Whether this firing of a named timer was sent already; if not, it is remembered as sent now. */
  private sentBefore(timer: TimerRecord, now: number): boolean {
    for (const [id, memory] of this.sent) {
      if (now - memory.at < FIRING_MEMORY_MS) break
      this.sent.delete(id)
    }
    const firing = `${timer.set} ${timer.dueAt}`
    const memory = this.sent.get(timer.id)
    if (memory?.firings.includes(firing)) return true
    const firings = memory?.firings ?? []
    firings.push(firing)
    if (firings.length > REMEMBERED_FIRINGS + 1) firings.shift()
    // Moved to the end: the map stays in the order timers last fired, for the loop above.
    this.sent.delete(timer.id)
    this.sent.set(timer.id, { firings, at: now })
    return false
  }
}
