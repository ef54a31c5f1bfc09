// How messages enter the embedded system's mailboxes (embedded-system.ts is the facade): told or
// asked from outside a turn (validated, then kept as a bare body or an envelope), and sent by a
// turn, a timer or a fork's child (envelopes, and children's reports kept as they are). Every
// message is counted here once, as accepted, and wakes its instance.
import * as d from '../../core/defaults.js'
import { makeEnvelope, type Envelope, type TraceContext } from '../../core/envelope.js'
import { SystemStoppedError } from '../../core/errors.js'
import { parseMessageId, type CorrelationId, type MessageId, type RootIds } from '../../core/ids.js'
import type { Listeners } from '../../core/listeners.js'
import type { AskOptions, TellOptions } from '../../core/system.js'
import { assertSerializable, validateBody } from '../../core/validate.js'
import type { Clock } from '../../core/clock.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { reportEnvelope, type ChildReport } from '../../turn/turn-effects.js'
import { outsideTrace } from '../../turn/turn-trace.js'
import type { ActorClass } from '../../core/actor.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Dispatcher } from './dispatcher.js'
import type { MessageSink } from './embedded-outcomes.js'
import { ENVELOPE, REPORT, type Instance } from './instance.js'
import type { InstanceStates } from './instance-states.js'
import type { SlotEnvelopes } from './mailbox-turn.js'
import type { MessageBook } from './message-book.js'
import type { PendingAsks } from './pending-asks.js'
import type { ReceiptBook } from './receipt-book.js'
import type { StopBurial } from './stop-burial.js'
import type { SystemLife } from './system-life.js'

/** What the intake reaches into: the system's parts (fields, not a literal kept: embedded-outcomes.ts says why). */
export interface IntakeParts {
  life: SystemLife
  clock: Clock
  registry: ActorRegistry<ActorRuntime>
  ids: RootIds
  dispatch: Dispatcher
  states: InstanceStates
  book: MessageBook
  receipts: ReceiptBook
  asks: PendingAsks
  events: Listeners
  burial: StopBurial
  checkSerializable: boolean
  receiptsForAll: boolean
}

export class Intake implements MessageSink, SlotEnvelopes {
  private readonly life: SystemLife
  private readonly clock: Clock
  private readonly registry: ActorRegistry<ActorRuntime>
  private readonly ids: RootIds
  private readonly dispatch: Dispatcher
  private readonly states: InstanceStates
  private readonly book: MessageBook
  private readonly receipts: ReceiptBook
  private readonly asks: PendingAsks
  private readonly events: Listeners
  private readonly burial: StopBurial
  private readonly checkSerializable: boolean
  private readonly receiptsForAll: boolean

  constructor(parts: IntakeParts) {
    this.life = parts.life
    this.clock = parts.clock
    this.registry = parts.registry
    this.ids = parts.ids
    this.dispatch = parts.dispatch
    this.states = parts.states
    this.book = parts.book
    this.receipts = parts.receipts
    this.asks = parts.asks
    this.events = parts.events
    this.burial = parts.burial
    this.checkSerializable = parts.checkSerializable
    this.receiptsForAll = parts.receiptsForAll
  }

  /** `system.tell`. */
  tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    try {
      const rt = this.registry.get(target)
      // The caller's span: a traced message needs an envelope to carry it.
      const trace = outsideTrace()
      if (options === undefined && rt.schema === undefined && !this.receiptsForAll && trace === undefined) {
        // The common path: a bare body in the mailbox, no envelope object (see Instance).
        if (this.life.stopping) throw new SystemStoppedError()
        if (this.checkSerializable) assertSerializable(rt.type, 'message', body)
        const seq = this.ids.next()
        this.enqueueBody(rt, body, seq)
        return Promise.resolve(this.ids.id(seq))
      }
      const id = this.ids.id(this.ids.next())
      const accepted = this.accept(rt, id, body, options, trace)
      return accepted === undefined ? Promise.resolve(id) : accepted.then(() => id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `system.ask`. */
  ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    let rt: ActorRuntime
    try {
      rt = this.registry.get(target)
    } catch (error) {
      return Promise.reject(error)
    }
    const id = this.ids.id(this.ids.next())
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    // One reading for the ask's deadline and its message's sentAt, its own: a deadline taken from
    // a reading shared with calls before it would be short by the time the code between took.
    const now = this.clock.now()
    return new Promise<never>((resolve, reject) => {
      this.asks.wait(id, rt.type, timeoutMs, now, resolve as (reply: unknown) => void, reject)
      try {
        this.accept(rt, id, body, options, outsideTrace(), true, now)?.catch((error: unknown) => this.asks.refuse(id, error))
      } catch (error) {
        this.asks.refuse(id, error)
      }
    })
  }

  /**
   * Validates and enqueues a message from outside a turn. Returns a promise only when
   * the schema validates asynchronously, so the common path allocates none. `now`: the caller's
   * reading of the clock, for a message accepted at once.
   */
  private accept(rt: ActorRuntime, id: MessageId, body: unknown, options: TellOptions | undefined, trace: TraceContext | undefined, asked = false, now?: number): Promise<void> | undefined {
    if (this.life.stopping) throw new SystemStoppedError()
    const checked = validateBody(rt.type, rt.schema, body)
    const correlationId = (options?.correlationId === undefined ? id : parseMessageId(options.correlationId, 'correlationId')) as string as CorrelationId
    const make = (valid: unknown, sentAt: number) => {
      if (this.checkSerializable) assertSerializable(rt.type, 'message', valid)
      const envelope = makeEnvelope({ id, type: rt.type, key: rt.keyOf(valid), body: valid, correlationId, sentAt })
      if (trace !== undefined) envelope.trace = trace
      // An ask that timed out while its message was validated: the message keeps a receipt to follow.
      const receipt = options?.receipt === true || (asked && !this.asks.accepted(envelope))
      this.enqueue(rt, envelope, receipt)
    }
    if (checked instanceof Promise) return checked.then((valid) => make(valid, this.clock.now()))
    make(checked, now ?? this.dispatch.outsideNow())
    return undefined
  }

  private enqueueBody(rt: ActorRuntime, body: unknown, seq: number): void {
    const key = rt.keyOf(body)
    const sentAt = this.dispatch.outsideNow()
    rt.counts.accepted++
    rt.queued++
    this.book.outstanding++
    const inst = this.states.get(rt, key)
    if (this.events.active) this.events.emit({ type: '@troupe.accepted', at: sentAt, envelope: this.slotEnvelope(inst, body, seq, sentAt, 0) })
    inst.pushBody(body, seq, sentAt)
    this.dispatch.wake(inst)
  }

  /** Accepts a message a turn or a timer sent (MessageSink). */
  enqueue(rt: ActorRuntime, envelope: Envelope, receipt: boolean): void {
    if (this.life.phase === 'stopped') {
      rt.counts.accepted++
      this.book.accepted(undefined)
      this.burial.bury(rt, envelope, new SystemStoppedError(`${rt.type} message ${envelope.id} was sent after the system stopped`))
      return
    }
    rt.counts.accepted++
    rt.queued++
    this.book.accepted(envelope)
    if (receipt || this.receiptsForAll) this.receipts.open(envelope)
    if (this.events.active) this.events.emit({ type: '@troupe.accepted', at: this.clock.now(), envelope })
    const inst = this.states.get(rt, envelope.key)
    if (rt.isPaused(envelope.key)) this.book.note(envelope, 'paused', undefined, this.clock.now())
    inst.push(envelope)
    this.dispatch.wake(inst)
  }

  /**
   * Accepts a done fork child's report (MessageSink), kept as it is: its envelope is made only if
   * its turn needs one. Anything that would look at the envelope now (a receipt for every message,
   * a listener, a span, a pause, a stopped system) gets it made here.
   */
  enqueueReport(joiner: ActorRuntime, report: ChildReport, sentAt: number): void {
    const key = joiner.keyOf(report.body)
    if (this.life.phase === 'stopped' || this.receiptsForAll || this.events.active || report.trace !== undefined || joiner.isPaused(key)) {
      this.enqueue(joiner, reportEnvelope(report, joiner, sentAt, 0), false)
      return
    }
    joiner.counts.accepted++
    joiner.queued++
    this.book.outstanding++
    const inst = this.states.get(joiner, key)
    inst.pushReport(report, sentAt)
    this.dispatch.wake(inst)
  }

  /**
   * The envelope of a mailbox slot: the slot's own, or a report's or a bare body's at `attempt` (1
   * for the turn running it, 0 for one that never ran) (SlotEnvelopes).
   */
  slotEnvelope(inst: Instance, item: unknown, seq: number, sentAt: number, attempt: number): Envelope {
    if (seq === ENVELOPE) return item as Envelope
    if (seq === REPORT) return reportEnvelope(item as ChildReport, inst.rt, sentAt, attempt)
    const id = this.ids.id(seq)
    return makeEnvelope({ id, type: inst.rt.type, key: inst.key, body: item, correlationId: id as string as CorrelationId, sentAt, attempt })
  }
}
