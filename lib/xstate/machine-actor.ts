// Declaring an actor whose state is an xstate v5 machine.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { AnyStateMachine, EventFromLogic, InputFrom, SnapshotFrom } from 'xstate'
import { Actor, ConfigError, type Context } from '../index.js'
import { isDelayedEvent, type DelayedEvent } from './durable-scheduler.js'
import { machineEventSchema } from './event-schema.js'
import { initialMachineState, migratedState, type MachineMigration, type MachineState } from './machine-state.js'
import { runMachineTurn } from './machine-turn.js'

/** How a machine becomes an actor. */
export interface MachineActorOptions<TMachine extends AnyStateMachine, TReply> {
  /** The mailbox name (the actor's `static type`); unique in a system. */
  type: string
  /**
   * The machine's version, stored with every snapshot. Change it when a stored snapshot
   * would no longer fit the machine: restoring one stored under another version fails
   * (the message is dead-lettered) instead of running the wrong machine, unless `migrate`
   * has an entry for that version.
   *
   * A whole number is also the actor's state version (README, "State versions"): versions are
   * then ordered, so during a rolling deploy a host of an older version that meets a snapshot
   * of a newer one leaves the message for redelivery instead of dead-lettering it, and an older
   * snapshot is migrated when it is loaded. A string names versions without an order.
   */
  version: string | number
  /**
   * Migrations from older machine versions, by version: each maps a persisted snapshot stored
   * under that version straight to one the current machine restores. The next turn of such an
   * instance restores the migrated snapshot (its pending timers are kept) instead of
   * dead-lettering the message; a migration that throws fails that turn (retried by the policy,
   * then a dead letter naming both versions).
   *
   * @example
   * migrate: { '1': (snapshot) => ({ ...snapshot, context: { ...snapshot.context, cycles: 0 } }) }
   */
  migrate?: Readonly<Record<string, MachineMigration>>
  /** Makes the actor keyed: one machine per key (without it, one machine for the system). */
  key?: (event: EventFromLogic<TMachine>) => string
  /** The machine's input, from the first message a new instance receives. */
  input?: (event: EventFromLogic<TMachine>) => InputFrom<TMachine>
  /**
   * What `ask` resolves to, from the machine's snapshot after the event and the value of
   * the turn's last `replyWith` (undefined if none). Without it, the reply is that value.
   */
  reply?: (snapshot: SnapshotFrom<TMachine>, replied: unknown) => TReply
}

/** An instance of a machine actor class: its mailbox takes the machine's events (and troupe's delayed events). */
export interface MachineActor<TEvent, TReply> {
  readonly In: TEvent | DelayedEvent
  readonly Reply: TReply
  readonly State: MachineState
  key?(msg: TEvent | DelayedEvent): string
  initialState(): MachineState
  receive(msg: TEvent | DelayedEvent, ctx: Context<MachineState>): TReply
}

/** A machine actor class: the address `tell` and `ask` take, typed by the machine's events and the reply. */
export interface MachineActorClass<TMachine extends AnyStateMachine, TReply> {
  new (): MachineActor<EventFromLogic<TMachine>, TReply>
  readonly type: string
  /** Checks that each message is an event (an object with a string `type`). */
  readonly schema: StandardSchemaV1
  readonly machine: TMachine
  readonly version: string | number
}

/**
 * Declares an actor whose state is an xstate v5 machine. Each message is a machine
 * event; the instance keeps `{ snapshot, version, timers }`, the persisted snapshot
 * restored for every turn. `after` transitions and delayed raises/sends to the machine
 * itself become durable troupe timers, so they fire on time even if the host that set
 * them is gone. `tellActor(…)` actions tell other actors; `reply` or `replyWith(…)`
 * answer `ask`. Invoked or spawned children are not supported: they would not survive
 * the turn.
 *
 * @example
 * const light = setup({
 *   types: { events: {} as { type: 'START'; crossing: string } | { type: 'STATUS'; crossing: string } },
 * }).createMachine({
 *   id: 'light',
 *   initial: 'off',
 *   states: {
 *     off: { on: { START: 'green' } },
 *     green: { after: { 60_000: 'yellow' } },
 *     yellow: { after: { 5_000: 'red' } },
 *     red: { after: { 30_000: 'green' } },
 *   },
 * })
 *
 * class TrafficLight extends machineActor(light, {
 *   type: 'trafficLight',
 *   version: '1',
 *   key: (event) => event.crossing,
 *   reply: (snapshot) => String(snapshot.value),
 * }) {}
 *
 * await system.tell(TrafficLight, { type: 'START', crossing: '5th-ave' })
 * const color = await system.ask(TrafficLight, { type: 'STATUS', crossing: '5th-ave' }) // string
 */
export function machineActor<TMachine extends AnyStateMachine, TReply = unknown>(
  machine: TMachine,
  options: MachineActorOptions<TMachine, TReply>,
): MachineActorClass<TMachine, TReply> {
  const where = `machineActor(${typeof options?.type === 'string' ? options.type : '?'})`
  if (typeof machine?.transition !== 'function' || typeof machine?.getInitialSnapshot !== 'function') {
    throw new ConfigError(`${where}: the first argument must be an xstate v5 machine (createMachine or setup().createMachine)`)
  }
  if (typeof options?.type !== 'string') throw new ConfigError(`${where}: options.type must be the actor's type name`)
  const ordered = typeof options.version === 'number'
  if (ordered ? !(Number.isSafeInteger(options.version) && (options.version as number) >= 1) : typeof options.version !== 'string' || options.version.length === 0) {
    throw new ConfigError(`${where}: options.version must be a non-empty string or a whole number from 1 up, stored with each snapshot; got ${JSON.stringify(options.version)}`)
  }
  for (const name of ['key', 'input', 'reply'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new ConfigError(`${where}: options.${name} must be a function`)
  }
  const version = String(options.version)
  const migrate = checkMigrations(where, options.migrate, version)
  const { input, reply } = options

  // The mailbox and reply are typed by MachineActorClass below, from the machine and `reply`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  class MachineActorBase extends Actor<never, any, MachineState> {
    static readonly type: string = options.type
    static readonly schema: StandardSchemaV1 = machineEventSchema
    static readonly machine = machine
    static readonly version = options.version

    initialState(): MachineState {
      return initialMachineState(version)
    }

    receive(msg: never, ctx: Context<MachineState>): unknown {
      // `this.constructor` is the class the system registered (the user's subclass): timers are told to it.
      return runMachineTurn({ machine, version, migrate, input, reply, self: this.constructor as typeof MachineActorBase }, msg, ctx)
    }
  }

  if (ordered) {
    // The state version's migration (state-version.ts): a stored state of an older version is
    // brought to this one as it is loaded, by the entry for the machine version it was made by.
    Object.defineProperty(MachineActorBase, 'migrate', { value: (state: unknown) => migratedState(options.type, state, version, migrate), writable: true, configurable: true })
  }
  if (options.key !== undefined) {
    const key = options.key
    // Defined only when asked for: troupe makes an actor with a key method a keyed actor.
    Object.defineProperty(MachineActorBase.prototype, 'key', {
      value: (msg: unknown): string => (isDelayedEvent(msg) ? msg.key : key(msg as EventFromLogic<TMachine>)),
      writable: true,
      configurable: true,
    })
  }
  return MachineActorBase as unknown as MachineActorClass<TMachine, TReply>
}

/** `options.migrate`, checked: a function per older version, none for the current one. */
function checkMigrations(where: string, migrate: unknown, version: string): Readonly<Record<string, MachineMigration>> | undefined {
  if (migrate === undefined) return undefined
  if (typeof migrate !== 'object' || migrate === null || Array.isArray(migrate)) {
    throw new ConfigError(`${where}: options.migrate must be an object of functions by machine version, e.g. { '1': (snapshot) => snapshot }`)
  }
  for (const [from, fn] of Object.entries(migrate)) {
    if (typeof fn !== 'function') throw new ConfigError(`${where}: options.migrate[${JSON.stringify(from)}] must be a function (snapshot) => snapshot`)
    if (from === version) throw new ConfigError(`${where}: options.migrate has an entry for the current version ${JSON.stringify(version)}; migrations are from older versions`)
  }
  return { ...(migrate as Record<string, MachineMigration>) }
}
