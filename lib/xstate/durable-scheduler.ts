// Durable delays for machine actors: xstate's in-memory scheduler, replaced on each turn's
// xstate actor by troupe timers (ctx.schedule / ctx.cancelSchedule), so `after` transitions
// and delayed raises/sends to the machine itself fire even when no host is awake.
import type { AnyActorRef, EventObject } from 'xstate'
import { TerminalError } from '../index.js'

/** The `type` of troupe's internal delayed-event message. */
export const DELAYED_EVENT = '@troupe.xstate.delayed'

/**
 * The message a durable timer tells the machine actor when a delay is up: it carries the
 * xstate event to deliver. Machine actors accept it next to the machine's own events.
 */
export interface DelayedEvent {
  type: typeof DELAYED_EVENT
  /** The instance's key, so the timer's message reaches the instance that set it. */
  key: string
  /** The event the machine receives, as if xstate's own timer had fired. */
  event: { type: string; [field: string]: unknown }
  /** xstate's id of the scheduled event (the timer's name), when it has one. */
  name?: string
  /** Which scheduling of `name` this is; an older or cancelled one is ignored when it arrives. */
  token?: string
}

/**
 * True when `msg` is troupe's internal delayed-event message.
 *
 * @example
 * const event = isDelayedEvent(msg) ? msg.event : msg
 */
export function isDelayedEvent(msg: unknown): msg is DelayedEvent {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === DELAYED_EVENT
}

/** What the durable scheduler does with the delays of one turn. */
export interface DurableTimers {
  /** A delayed event from the machine to itself; `id` is xstate's id for it (`xstate.after.…` for `after`). */
  schedule(event: EventObject, delayMs: number, id: string | undefined): void
  /** xstate cancelled a delayed event of the machine's (it left the state, or ran `cancel(id)`). */
  cancel(id: string): void
}

/**
 * Replaces the scheduler of `root`'s xstate system with `timers`. Call it after
 * `createActor` and before `start()`: from then on xstate arms no timer of its own, so
 * `stop()` cancels nothing durable. Delays to or from any actor other than `root`
 * (invoked or spawned children) throw a {@link TerminalError} naming `where`, since
 * children are not kept between turns.
 *
 * @example
 * const actor = createActor(machine, { snapshot, clock: inertClock })
 * useDurableScheduler(actor, 'trafficLight#5th-ave', {
 *   schedule: (event, delayMs, id) => ctx.schedule(TrafficLight, delayed(event, id), { afterMs: delayMs, name: id }),
 *   cancel: (id) => ctx.cancelSchedule(id),
 * })
 * actor.start()
 */
export function useDurableScheduler(root: AnyActorRef, where: string, timers: DurableTimers): void {
  const scheduler = root.system.scheduler
  scheduler.schedule = (source, target, event, delay, id) => {
    if (source !== root || target !== root) {
      const from = source === root ? 'the machine' : `child actor "${source.id}"`
      const to = target === root ? 'the machine' : target === source ? 'itself' : `actor "${target.id}"`
      throw new TerminalError(
        `machine actor ${where}: a delayed event "${event.type}" from ${from} to ${to} is not supported; ` +
          'only delays from the machine to itself (after, delayed raise or sendTo self) become durable timers, ' +
          'because invoked and spawned children are not kept between turns',
      )
    }
    timers.schedule(event, delay, id)
  }
  scheduler.cancel = (source, id) => {
    // A child can have no durable timer: its delays were refused above.
    if (source === root) timers.cancel(id)
  }
}

/** A clock whose timers never fire: xstate gets it so that nothing it arms can run outside a turn. */
export const inertClock = {
  setTimeout: (): undefined => undefined,
  clearTimeout: (): void => {},
}
