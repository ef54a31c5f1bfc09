import type { TraceContext } from './envelope.js'
import { isEpochMs, MAX_EPOCH_MS } from './clock.js'
import { ConfigError } from './errors.js'
import { parseRecurrence } from './recurrence.js'
import { createHash } from 'node:crypto'
import { derivedId, type MessageId } from './ids.js'
import { encode } from './serialization.js'
import { isWellFormed, quoted } from './validate.js'

/** A durable timer: a message told to `target` when `dueAt` comes, once or on a recurring schedule. */
export interface TimerRecord {
  /** Unique; the same id replaces the timer. */
  id: string
  /** Actor type that receives the message. */
  target: string
  /** The body, serialised with superjson. */
  body: string
  /** Epoch milliseconds of the next firing. */
  dueAt: number
  /** `rate(5 minutes)`, `cron(0 12 * * ? *)` or a 5-field cron; absent for a one-shot timer. */
  every?: string
  correlationId: string
  /** The message whose turn set the timer, if any. */
  causationId?: string
  /**
   * Which scheduling of a named timer this is (`scheduledOutside` for one set outside a turn; in a
   * turn, the message whose turn set it). A name scheduled again is a new timer whose firings are
   * new messages, even at a due time it fired at before (`firingId`). Absent on an unnamed timer,
   * whose id is new each time, and on timers written before it was kept (their firings keep the ids
   * they had).
   */
  set?: string
  /** Firings so far. */
  fired: number
  /** The target recognises a second firing itself: fire straight at it (`ScheduleOptions.idempotent`). */
  direct?: true
  /** The trace context of the span that set it; each firing's message carries it. */
  trace?: TraceContext
  /** Which commit of its instance put it, when a durable turn did (TimerOrder). */
  order?: TimerOrder
}

/**
 * Which commit of an instance wrote a timer of its own, or cancelled one (AWS mode): the writes of
 * one timer take effect in the order their commits were made, whatever order they reach the store
 * in. Two hosts can carry out an instance's commits at once, one of them late (an outbox sent
 * again behind its retries, a direct run settling what an earlier commit left): a write of an
 * earlier commit that lands after a later one's is refused, so a cancelled timer does not come
 * back. A write without an order (a timer set outside a turn, a stateless actor's, the embedded
 * mode) replaces what is there.
 */
export interface TimerOrder {
  /** The instance, `<type>#<key>` (a type name has no `#`): orders of other instances do not compare. */
  owner: string
  /**
   * The life of the instance's item: when the first commit that ordered a timer wrote it (epoch
   * ms). An item that expired and went starts a new life, whose versions count from 1 again.
   */
  life: number
  /** The instance's version that the commit wrote. */
  v: number
  /** The write's place among the commit's writes of timers. */
  n: number
}

/** How long a store keeps the record of an ordered cancel (ms), against a write of an earlier commit that comes later still. */
export const CANCEL_KEPT_MS = 8 * 24 * 60 * 60_000

/**
 * Whether a write made by `write` takes the place of what `standing` wrote (a timer, or its
 * cancel). Writes of two instances under one id (a key and a name with `#` in them can meet) do
 * not compare: the last one stands, as it does without orders.
 */
export function supersedes(write: TimerOrder, standing: TimerOrder | undefined): boolean {
  if (standing === undefined || standing.owner !== write.owner) return true
  if (standing.life !== write.life) return standing.life < write.life
  return standing.v < write.v || (standing.v === write.v && standing.n < write.n)
}

/** `order` when it is whole, else undefined: a write carrying anything else is written as one without an order. */
export function wholeOrder(order: TimerOrder | undefined): TimerOrder | undefined {
  if (order === undefined) return undefined
  const { owner, life, v, n } = order as Partial<TimerOrder>
  return typeof owner === 'string' && Number.isFinite(life) && Number.isFinite(v) && Number.isFinite(n) ? order : undefined
}

/** When a scheduled message is told: once (`at` or `afterMs`) or on a recurring schedule (`every`). */
export interface ScheduleOptions {
  /** Epoch milliseconds or a Date: tell it then (the first firing, with `every`). */
  at?: number | Date
  /** Tell it this long from now. */
  afterMs?: number
  /** Recurring: `rate(5 minutes)`, `cron(0 12 * * ? *)` or a 5-field cron, in UTC. */
  every?: string
  /**
   * Names the timer, so scheduling the same name again replaces it and `cancelSchedule(name)`
   * removes it. Inside a turn the name is scoped to the actor instance.
   */
  name?: string
  /**
   * The target takes a second firing of the same due time as a no-op (it keeps its own record of
   * what fired), so on AWS the firing goes straight to it: one hop, in due-time order with its
   * other messages. Otherwise a firing goes through the timer's own instance first, which sends
   * the message once per firing however many processes fire it (docs/guarantees.md).
   * @default false
   */
  idempotent?: boolean
}

/** The first due time of a schedule, checked eagerly with the option named in the error. */
export function firstDue(where: string, options: ScheduleOptions, now: number): number {
  const given = [options.at !== undefined, options.afterMs !== undefined].filter(Boolean).length
  if (given > 1) throw new ConfigError(`${where}: give one of at and afterMs, not both`)
  if (options.every !== undefined) {
    const next = parseRecurrence(options.every)
    if (given === 0) {
      const due = next(now)
      if (due === undefined) throw new ConfigError(`${where}: schedule "${options.every}" never fires`)
      return due
    }
  } else if (given === 0) {
    throw new ConfigError(`${where}: give at, afterMs or every`)
  }
  if (options.afterMs !== undefined) {
    if (typeof options.afterMs !== 'number' || !(options.afterMs >= 0) || !isEpochMs(now + options.afterMs)) {
      throw new ConfigError(`${where}: afterMs must be a number from 0 up that ends at a time a Date holds, got ${String(options.afterMs)}`)
    }
    return now + options.afterMs
  }
  const at = options.at instanceof Date ? options.at.getTime() : options.at
  // A timer's message is sent at its due time (`sentAt`), which a record must be able to carry.
  if (!isEpochMs(at)) throw new ConfigError(`${where}: at must be epoch milliseconds (at most ${MAX_EPOCH_MS} either way) or a valid Date, got ${String(options.at)}`)
  return at
}

/**
 * How long a host remembers the firings a timer sent, so that a timer put again just as it was
 * after it fired does not send its firing again: the timer's instance keeps them this long on AWS,
 * the embedded system in memory.
 */
export const FIRING_MEMORY_MS = 8 * 24 * 60 * 60_000

/**
 * Firings a timer's memory keeps besides its last: a copy of an older one comes when a process
 * that fired the timer puts its firing after another process fired the next (a put retried for
 * minutes), or an app puts a recurring timer again as it was.
 */
export const REMEMBERED_FIRINGS = 32

/**
 * The id of what a timer sends for one due time (`at`: the due time, or a step named after it):
 * the same for every firing of that due time, so a timer fired twice sends one message, and new
 * for each scheduling of a named timer (TimerRecord.set).
 */
export function firingId(timer: { id: string; set?: string | undefined }, at: number | string): MessageId {
  const timerId = timer.id as MessageId
  return derivedId(timer.set === undefined ? timerId : derivedId(timerId, timer.set), at)
}

/**
 * A named timer set outside a turn, with its scheduling: what it sends, to whom, how often and how.
 * Such a call has no message to name it, and an app that schedules its timers at each start puts
 * the same one again, maybe while it fires: a timer scheduled again just as it was is the same
 * scheduling (its firing moves it on, once), one with another target, body or schedule a new one.
 */
export function scheduledOutside(timer: TimerRecord): TimerRecord {
  const what = createHash('sha256').update(JSON.stringify([timer.target, timer.body, timer.every ?? null, timer.direct === true])).digest('base64url')
  return { ...timer, set: `o${what.slice(0, 16)}` }
}

/** Who sets a timer: its id, and the request it belongs to. */
export interface TimerOrigin {
  id: string
  correlationId: string
  /** The message whose turn set it; absent outside a turn. */
  causationId?: string
  /** The span that set it (the turn's, or the caller's): its firings carry it. */
  trace?: TraceContext | undefined
  /** A named timer's scheduling (TimerRecord.set). */
  set?: string
}

/**
 * A timer's name, as it is scheduled or cancelled: part of the timer's DynamoDB key (UTF-8), where a
 * lone surrogate becomes U+FFFD and two names would meet, so a cancel would remove another timer.
 */
export function checkTimerName(where: string, name: string): void {
  if (!isWellFormed(name)) throw new ConfigError(`${where}: name must be well-formed UTF-16 (no lone surrogate, which the timer's key could not keep apart from another name), got ${quoted(name)}`)
}

/** The timer record for a checked body, due by `options`, its first due time checked with `where` in errors. */
export function timerRecord(where: string, target: string, body: unknown, options: ScheduleOptions, now: number, origin: TimerOrigin): TimerRecord {
  if (typeof options.name === 'string') checkTimerName(where, options.name)
  return {
    id: origin.id,
    target,
    body: encode(body),
    dueAt: firstDue(where, options, now),
    correlationId: origin.correlationId,
    ...(origin.causationId === undefined ? {} : { causationId: origin.causationId }),
    ...(origin.set === undefined ? {} : { set: origin.set }),
    fired: 0,
    ...(options.every === undefined ? {} : { every: options.every }),
    ...(options.idempotent === true ? { direct: true as const } : {}),
    ...(origin.trace === undefined ? {} : { trace: origin.trace }),
  }
}
