// The timer: a durable timer's firing, written as an actor. A due timer is fired by whichever
// process looks first (a scheduled tick, a consuming process), and a process that dies after
// firing and before moving the timer on leaves it to fire again. Each firing goes to this
// actor's instance for the timer, whose state keeps the firings it sent last (due time and count),
// so the timer's message leaves once per firing, from a committed turn, with an origin like any other. A
// firing is routed where the timer's message goes (`firingRoute`), so both hops stay on the
// target's shard, behind nothing the target itself is not behind.
import { Actor, type ActorClass } from '../lib/core/actor.js'
import type { Context } from '../lib/core/context.js'
import type { TraceContext } from '../lib/core/envelope.js'
import { FIRING_MEMORY_MS, REMEMBERED_FIRINGS } from '../lib/core/schedule.js'
import { STATE_TTL } from '../lib/turn/actor-type.js'

export const TIMER = 'troupe.timer'
/**
 * How long a timer's instance outlives its last firing: a firing is sent again only while the
 * timer still stands at that due time, and the process that fired it moves it on right after.
 */
export const TIMER_MEMORY_MS = FIRING_MEMORY_MS

/** One firing of a timer: what to send, and for which due time. */
export interface TimerFiring {
  timerId: string
  /** A named timer's scheduling (TimerRecord.set): a name scheduled again fires anew, even at a due time it fired at. */
  set?: string
  dueAt: number
  /** Firings of the timer before this one (a recurring timer counts up; a rescheduled one starts again). */
  fired: number
  target: string
  /** The key of the target's instance: a firing is routed where the timer's message goes. */
  key: string
  body: unknown
  correlationId: string
  /** The message whose turn set the timer, if any. */
  causationId?: string
  /** The trace context of the span that set the timer, if traced. */
  trace?: TraceContext
}

export interface TimerState {
  /** The due time fired last. */
  last: number
  /** And its count of earlier firings: together they name the firing (a copy has both the same). */
  fired?: number
  /** And its scheduling, for a named timer's (TimerFiring.set). */
  set?: string
  /** The firings sent before the last, newest last, as `[dueAt, fired, set?]` (at most `REMEMBERED_FIRINGS`). */
  before?: ([number, number] | [number, number, string])[]
}

export { REMEMBERED_FIRINGS }

/** What the timer asks of its host. */
export interface TimerHost {
  /** Sends the timer's message for this firing, with the id fixed by the timer and due time. */
  tellFired(ctx: Context<TimerState>, firing: TimerFiring): void
}

/** Where a firing is routed: as the timer's message would be, when the body is the firing itself. */
export function firingRoute(envelope: { id: string; type: string; body: unknown }): { id: never; type: string; key: string } | undefined {
  if (envelope.type !== TIMER) return undefined
  const firing = envelope.body as Partial<TimerFiring> | null
  if (typeof firing?.target !== 'string' || typeof firing.key !== 'string') return undefined
  return { id: envelope.id as never, type: firing.target, key: firing.key }
}

/** The timer actor class for one host. */
export function timerActor(host: TimerHost): ActorClass {
  class Timer extends Actor<TimerFiring, void, TimerState> {
    static readonly type = TIMER

    key(firing: TimerFiring) {
      return firing.timerId
    }

    initialState(): TimerState {
      return { last: -1 }
    }

    receive(firing: TimerFiring, ctx: Context<TimerState>): void {
      // A copy of a firing sent before: the process that fired it died before moving the timer on,
      // and another fired it again, or two fired it at once and one's put came late. A firing is
      // named by its due time and count, not ordered by them: a timer scheduled again starts over.
      // A firing remembered without a scheduling was sent by a host from before schedulings were
      // kept: it is taken for this one whatever this one's scheduling, as it was then.
      const { state } = ctx
      const sameSet = (set: string | undefined) => set === undefined || set === firing.set
      if (firing.dueAt === state.last && firing.fired === (state.fired ?? firing.fired) && sameSet(state.set)) return
      if (state.before?.some(([dueAt, fired, set]) => dueAt === firing.dueAt && fired === firing.fired && sameSet(set))) return
      host.tellFired(ctx, firing)
      if (state.last !== -1) {
        state.before ??= []
        state.before.push(state.set === undefined ? [state.last, state.fired ?? 0] : [state.last, state.fired ?? 0, state.set])
        if (state.before.length > REMEMBERED_FIRINGS) state.before.shift()
      }
      state.last = firing.dueAt
      state.fired = firing.fired
      if (firing.set === undefined) delete state.set
      else state.set = firing.set
    }
  }
  Object.defineProperty(Timer, STATE_TTL, { value: TIMER_MEMORY_MS })
  return Timer
}
