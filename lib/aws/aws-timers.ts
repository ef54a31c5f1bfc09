// Timers on AWS (aws-system.ts is the facade): kept in the table, fired by whichever process
// looks first. A process that fires timers arms its runner for the earliest it knows of (its own
// turns' timers wake it at once) and looks again every `timerTickMs` for those another process
// set; a Lambda fires them when a scheduled tick invokes it (`fireDue`). A firing goes on the
// stream, so firing one twice sends its message once.
import { TIMER, type TimerFiring } from '../../actors/timer.js'
import type { ActorClass } from '../core/actor.js'
import type { Clock } from '../core/clock.js'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import { TroupeError, UnknownActorError } from '../core/errors.js'
import { derivedId, type CorrelationId, type MessageId } from '../core/ids.js'
import { messageLogFields, type Logger } from '../core/logger.js'
import { firingId, scheduledOutside, timerRecord, type ScheduleOptions } from '../core/schedule.js'
import { decode } from '../core/serialization.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import { flushRecord } from '../hosts/durable/flush-record.js'
import { decodeMeta } from '../hosts/durable/instance-meta.js'
import { THROTTLE_WAKE, wakeTarget } from '../hosts/durable/instance-throttle.js'
import { slotLimit } from '../hosts/durable/type-slots.js'
import type { ActorType } from '../turn/actor-type.js'
import { PENDING } from '../hosts/durable/outbox.js'
import { TimerRunner, type TimerLanes } from '../hosts/timer-runner.js'
import type { Router } from '../routing/router.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { DynamoDBStateStore, DynamoDBTimerStore } from '../store/dynamodb.js'
import type { TimerRecord } from '../store/index.js'
import { errorRecord, type DeadLetter } from '../core/dead-letter.js'
import { outsideTrace } from '../turn/turn-trace.js'
import type { AwsOutbox } from './aws-outbox.js'

export interface AwsTimersOptions {
  store: DynamoDBTimerStore
  states: DynamoDBStateStore
  journal: DynamoDBJournalStore
  host: DurableHost
  router: Router
  outbox: AwsOutbox
  clock: Clock
  logger: Logger
  receiptsForAll: boolean
  /** The id of a timer scheduled without a name. */
  newId: () => string
  /** Fire due timers from this process, on its own clock. */
  fires: boolean
  /** How often a process that fires timers looks for those another process set, in ms. */
  tickMs: number
}

/**
 * Due timers fire in lanes, up to this many lanes at once; a lane's timers fire one after another
 * in due order, as every timer once did. A firing waits on the store (a put on the stream and a
 * delete; a wake-up reads, runs and commits its instance, five round trips or so): one at a time,
 * a tick fired no more timers a second than one over those round trips, a few dozen on AWS,
 * whatever a type's rate or how many timers fell due at once.
 */
const LANES_AT_ONCE = 16
/**
 * How long a wake-up of an actor type this app does not run is tried again before it is
 * dead-lettered: while a rolling deploy lasts, a host of the other version may run it.
 */
export const UNKNOWN_WAKE_MS = 60 * 60_000

/**
 * A timer's lane is the instance it reaches: its target's (the key of its body), or the one a
 * throttle's wake-up runs. So an instance gets its timers' messages, and runs its wake-ups, in due
 * order. A stateless target has no instance: each of its timers is a lane. A type with a
 * `concurrency` cap has at most that many lanes (a key's always the same one): each wake-up run
 * takes a slot, and wake-ups past the free slots would only park again, until the next tick.
 */
export function timerLanes(typeOf: (type: string) => ActorType): TimerLanes {
  /** The instance a timer reaches, with its type (undefined: none, or it cannot be told). */
  const reached = (timer: TimerRecord): { type: ActorType; key: string } | undefined => {
    try {
      const wake = timer.target === THROTTLE_WAKE ? wakeTarget(timer) : undefined
      const type = typeOf(wake?.type ?? timer.target)
      if (wake === undefined && type.kind === 'stateless') return undefined
      return { type, key: wake?.key ?? type.keyOf(decode(timer.body)) }
    } catch {
      return undefined
    }
  }
  return {
    of(timer) {
      const to = reached(timer)
      if (to === undefined) {
        try {
          // A stateless target has no instance: each of its timers is a lane.
          if (timer.target !== THROTTLE_WAKE && typeOf(timer.target).kind === 'stateless') return `\u0000${timer.id}`
        } catch {}
        return '' // fire() dead-letters or reports it, in a lane of its own
      }
      const cap = slotLimit(to.type)
      return cap === undefined ? `${to.type.type}\u0000${to.key}` : `${to.type.type}\u0000#${stringHash(to.key) % cap}`
    },
    // A capped type's keys share its lanes: one key's firing that fails keeps only that key's later ones due.
    instanceOf(timer) {
      const to = reached(timer)
      return to === undefined ? `\u0000${timer.id}` : `${to.type.type}\u0000${to.key}`
    },
    atOnce: LANES_AT_ONCE,
  }
}

/** FNV-1a: spreads keys over a capped type's lanes, the same lane for a key every time. */
function stringHash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

export class AwsTimers {
  /** This process fires due timers (a throttle's wake-ups among them) on its own clock. */
  readonly fires: boolean
  private readonly runner: TimerRunner
  private readonly tick: NodeJS.Timeout | undefined
  /** When the invocation firing timers ends (a tick's); a process's own runner has no end. */
  private deadline = Infinity

  constructor(private readonly o: AwsTimersOptions) {
    this.runner = new TimerRunner(o.clock, o.store, (t) => this.fire(t), o.logger, timerLanes((type) => o.host.typeOf(type)))
    this.fires = o.fires
    if (this.fires) {
      this.runner.start()
      this.tick = setInterval(() => {
        this.runner.poke()
        // Wake-ups of keys this process parked that another process ran first: inspect() stops counting them.
        void o.host.refreshParked(o.clock.now() - o.tickMs)
      }, o.tickMs)
      this.tick.unref()
    }
  }

  async schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    const { host, clock } = this.o
    const type = host.typeOf(actor)
    const checked = host.checkOutgoing(actor, body)
    const id = options.name ?? this.o.newId()
    const made = timerRecord(`system.schedule(${type.type})`, type.type, checked, options, clock.now(), { id, correlationId: id, trace: outsideTrace() })
    const timer = options.name === undefined ? made : scheduledOutside(made)
    await this.o.store.put(timer)
    this.runner.notify(timer.dueAt)
    return id
  }

  async cancel(id: string): Promise<void> {
    await this.o.store.delete(id)
  }

  list(): Promise<TimerRecord[]> {
    return this.o.store.list()
  }

  /** A timer was put that may be due before the one the runner is armed for. */
  notify(dueAt: number): void {
    this.runner.notify(dueAt)
  }

  /**
   * Fires every timer due now and resolves when they are sent (a scheduled tick in a Lambda, whose
   * time ends at `deadline`: a wake-up's run stops there and its timer stays due for the next).
   */
  async fireDue(deadline = Infinity): Promise<void> {
    this.deadline = deadline
    try {
      await this.runner.fireDue(deadline)
    } finally {
      this.deadline = Infinity
    }
  }

  /** Fires nothing more; resolves once a firing under way is done. */
  async stop(): Promise<void> {
    clearInterval(this.tick)
    await this.runner.stop()
  }

  /**
   * A wake-up of an actor type this app does not run (a deploy removed a throttled type while keys
   * of it had messages parked). A host of another version may run it while a rolling deploy
   * lasts, so it fails (and is tried again) until it is UNKNOWN_WAKE_MS overdue; then a dead letter
   * says what waits, and the timer goes. The messages stay parked in their item: the letter is the
   * instance's flush record, which, replayed once a version that runs the type is deployed, wakes them.
   */
  private async unknownWake(timer: TimerRecord, type: string, key: string, parked: number): Promise<void> {
    const { host, clock, logger } = this.o
    const unknown = new UnknownActorError(type, [...host.types.keys()], 'in this app')
    if (clock.now() - timer.dueAt < UNKNOWN_WAKE_MS) throw unknown
    const envelope = flushRecord(type, key, derivedId(timer.id as MessageId, 'flush'), timer.correlationId, timer.dueAt)
    const error = errorRecord(unknown)
    error.message += `; ${parked} parked message(s) of ${type}#${key} wait in its item: replay this letter once ${type} runs again`
    // Dead at its due time: the same each time this wake-up is tried, so a letter replayed stays replayed.
    await this.o.journal.putDeadLetters([{ envelope, error, attempts: [], deadAt: timer.dueAt }])
    logger.error('wake-up of an actor type this app does not run; its parked messages wait in their item, and a dead letter says so', { ...messageLogFields(envelope), timerId: timer.id, parked })
  }

  /**
   * A timer came due. Its firing goes on the stream to the timer's own instance (actors/timer.ts),
   * which sends the timer's message once per firing, however many processes fire it. A
   * throttle's (or a long retry's) wake-up runs the instance's parked messages here, as a direct run of a flush
   * record (what they send goes out through the instance's shard); it also flushes what a direct
   * turn left waiting. Resolves once done; only then does the runner move the timer on.
   */
  private async fire(timer: TimerRecord): Promise<void> {
    const { host, clock, logger } = this.o
    if (timer.target === THROTTLE_WAKE) {
      const { type, key } = wakeTarget(timer)
      const meta = decodeMeta((await this.o.states.get(type, key))?.meta)
      if (meta.parked === undefined && !meta.outbox?.some((s) => s.lane === PENDING)) return // ran already: nothing waits
      if (!host.types.has(type)) return this.unknownWake(timer, type, key, meta.parked?.length ?? 0)
      const stream = this.o.router.route({ id: timer.id as MessageId, type, key } as Envelope).stream
      if (!(await host.runWaiting(type, key, derivedId(timer.id as MessageId, 'flush'), stream, this.deadline))) {
        throw new TroupeError('TROUPE_WAKE_UNFINISHED', `the parked messages of ${type}#${key} did not all run; the wake-up ${timer.id} fires again`)
      }
      return
    }
    const causationId = timer.causationId as MessageId | undefined
    const fields = {
      id: firingId(timer, `${timer.dueAt}.fired`),
      correlationId: timer.correlationId as CorrelationId,
      parentId: causationId,
      causationId,
      sentAt: clock.now(),
    }
    const traced = timer.trace === undefined ? {} : { trace: timer.trace }
    let firing: TimerFiring
    // Kept encoded until it decodes: a body that cannot be read is kept as it was stored, never lost.
    let body: unknown = timer.body
    try {
      body = decode(timer.body)
      const key = host.typeOf(timer.target).keyOf(body)
      firing = { timerId: timer.id, ...(timer.set === undefined ? {} : { set: timer.set }), dueAt: timer.dueAt, fired: timer.fired, target: timer.target, key, body, correlationId: timer.correlationId, ...(causationId ? { causationId } : {}), ...traced }
    } catch (error) {
      // The letter keeps the error that stopped the firing and the body the timer would have told.
      const envelope = makeEnvelope({ ...fields, id: firingId(timer, timer.dueAt), type: timer.target, key: '', body })
      // Dead at its due time: the same each time this firing is tried, so a letter replayed stays replayed.
      const letter: DeadLetter = { envelope, error: errorRecord(error), attempts: [], deadAt: timer.dueAt }
      await this.o.journal.putDeadLetters([letter])
      logger.error('timer could not fire; dead-lettered', { ...messageLogFields(envelope), timerId: timer.id, error: letter.error.message })
      return
    }
    // A target that recognises a second firing itself gets the message straight, in due-time
    // order with what else comes to it, sent at its due time as a firing through the timer's
    // instance is (so every firing of it is the same message); any other firing goes through the
    // timer's instance.
    const envelope = timer.direct
      ? makeEnvelope({ ...fields, sentAt: timer.dueAt, id: firingId(timer, timer.dueAt), type: timer.target, key: firing.key, body: firing.body })
      : makeEnvelope({ ...fields, type: TIMER, key: timer.id, body: firing })
    if (timer.direct && this.o.receiptsForAll) envelope.receipt = 'status'
    if (timer.trace !== undefined) envelope.trace = timer.trace
    const pos = host.lane.stamp(envelope)
    try {
      await this.o.outbox.sendOffloaded(envelope)
    } finally {
      host.lane.settle(pos)
    }
  }
}
