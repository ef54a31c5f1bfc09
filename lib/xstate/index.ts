// troupe/xstate: actors whose state is an xstate v5 machine. Messages become machine
// events, the persisted snapshot is the stored state, delays become durable timers, and
// what the machine emits becomes outgoing messages and replies.

export { machineActor } from './machine-actor.js'
export type { MachineActor, MachineActorClass, MachineActorOptions } from './machine-actor.js'
export { replyWith, tellActor } from './emit.js'
export type { MachineMigration, MachineState, PersistedMachineSnapshot } from './machine-state.js'
export { DELAYED_EVENT, isDelayedEvent } from './durable-scheduler.js'
export type { DelayedEvent } from './durable-scheduler.js'
export { machineEventSchema } from './event-schema.js'
