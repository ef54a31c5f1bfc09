// One turn of a machine actor: restore the machine from the stored snapshot, deliver one
// event, keep the new persisted snapshot, and stop the xstate actor again.
import { createActor, type AnyStateMachine, type EventObject, type Snapshot } from 'xstate'
import { TerminalError, type ActorClass, type Context } from '../index.js'
import { DELAYED_EVENT, inertClock, isDelayedEvent, useDurableScheduler, type DelayedEvent } from './durable-scheduler.js'
import { listenToEmitted } from './emit.js'
import { assertMachineEvent } from './event-schema.js'
import { checkVersion, type MachineMigration, type MachineState, type PersistedMachineSnapshot } from './machine-state.js'

/** What a turn needs to know about its machine actor. */
export interface MachineTurnSpec {
  machine: AnyStateMachine
  version: string
  /** Migrations of snapshots stored under older machine versions, by version. */
  migrate?: Readonly<Record<string, MachineMigration>> | undefined
  /** The machine's input, from the first message of a new instance. */
  input?: ((event: never) => unknown) | undefined
  /** The reply to `ask`, from the snapshot after the event and what `replyWith` gave. */
  reply?: ((snapshot: never, replied: unknown) => unknown) | undefined
  /** The actor class itself: durable timers are told back to it. */
  self: ActorClass
}

/**
 * Runs one message through the machine: restores `ctx.state.snapshot` (or starts a new
 * machine), sends the event, and leaves the new persisted snapshot in `ctx.state`.
 * Delays become durable timers, `tellActor` emits become `ctx.tell`. Returns the reply.
 *
 * @example
 * receive(msg: unknown, ctx: Context<MachineState>) {
 *   return runMachineTurn({ machine, version: '1', self: TrafficLight }, msg, ctx)
 * }
 */
export function runMachineTurn(spec: MachineTurnSpec, msg: unknown, ctx: Context<MachineState>): unknown {
  const type = ctx.message.type
  const where = ctx.key === '' ? type : `${type}#${ctx.key}`
  assertMachineEvent(where, msg)
  const stored = checkVersion(type, ctx.key, ctx.state, spec.version, spec.migrate)
  const timers = { ...stored.timers }

  let event = msg as EventObject
  if (isDelayedEvent(msg)) {
    if (msg.name !== undefined) {
      if (timers[msg.name] !== msg.token) {
        ctx.log.debug('delayed event ignored: its timer was cancelled or replaced', { timer: msg.name })
        return undefined
      }
      delete timers[msg.name]
    }
    event = assertMachineEvent(where, msg.event)
  }

  // Errors inside xstate (a refused delay, a body the target refuses) are reported out of
  // band; they are collected here and rethrown, so the turn fails and nothing is kept.
  const failures: unknown[] = []
  const fail = (error: unknown) => {
    failures.push(error)
  }
  const logger = (...args: unknown[]) => ctx.log.info('xstate log', { args })
  const actor =
    stored.snapshot === null
      ? createActor(spec.machine, { clock: inertClock, logger, input: spec.input?.(event as never) })
      : createActor(spec.machine, { clock: inertClock, logger, snapshot: stored.snapshot as unknown as Snapshot<unknown> })

  let open = true
  let scheduled = 0
  useDurableScheduler(actor, where, {
    schedule(delayed, delayMs, id) {
      if (!open) return
      const body: DelayedEvent = { type: DELAYED_EVENT, key: ctx.key, event: delayed as DelayedEvent['event'] }
      if (id === undefined) {
        ctx.schedule(spec.self, body as never, { afterMs: delayMs })
        return
      }
      const token = `${ctx.message.id}/${scheduled++}`
      timers[id] = token
      // The machine keeps each named timer's token and drops a firing whose token it no longer
      // holds: a second firing is a no-op, so it may come straight to the machine.
      ctx.schedule(spec.self, { ...body, name: id, token } as never, { afterMs: delayMs, name: id, idempotent: true })
    },
    cancel(id) {
      if (!open || !(id in timers)) return
      delete timers[id]
      ctx.cancelSchedule(id)
    },
  })
  const emitted = listenToEmitted(actor, ctx as Context<unknown>, fail)
  actor.subscribe({ error: fail })

  try {
    actor.start()
    if (failures.length === 0) actor.send(event)
    if (failures.length !== 0) throw failures[0]
    const snapshot = actor.getSnapshot()
    if (snapshot.status === 'error') throw snapshot.error ?? new TerminalError(`machine actor ${where}: the machine stopped with an error`)
    const children = Object.keys(snapshot.children ?? {})
    if (children.length !== 0) {
      throw new TerminalError(
        `machine actor ${where}: the machine has child actors (${children.join(', ')}) at the end of its turn; ` +
          'invoked and spawned children are not supported, because they are not kept between turns — ' +
          'tell another troupe actor with tellActor(…) instead',
      )
    }
    const reply = spec.reply ? spec.reply(snapshot as never, emitted.reply) : emitted.reply
    const persisted = actor.getPersistedSnapshot() as unknown as PersistedMachineSnapshot
    if (persisted.status === 'done') {
      // A machine that reached its final state has no delayed events left (as in xstate).
      for (const name of Object.keys(timers)) ctx.cancelSchedule(name)
      for (const name of Object.keys(timers)) delete timers[name]
    }
    ctx.state = { snapshot: persisted, version: spec.version, timers }
    return reply
  } finally {
    open = false
    emitted.close()
    actor.stop()
  }
}
