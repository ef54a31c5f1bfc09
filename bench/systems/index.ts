// The systems the benchmark knows, loaded lazily so a child process imports only the one it runs.
import type { BenchSystem, WorkloadName } from './system.js'

export interface SystemEntry {
  load(): Promise<BenchSystem>
  /** The workloads it runs unless --workloads/--systems say otherwise. */
  defaultWorkloads: readonly WorkloadName[]
}

const troupeVariant = (name: string, asyncReceive: boolean, checkSerializable: boolean, forkInTurn = false) => async () =>
  (await import('./troupe.js')).troupe({ name, asyncReceive, checkSerializable, forkInTurn })

export const SYSTEMS: Record<string, SystemEntry> = {
  mailbox: { load: async () => (await import('./mailbox.js')).mailbox, defaultWorkloads: ['W1', 'W2', 'W3', 'W4'] },
  'xstate-machine': {
    load: async () => (await import('./xstate-machine.js')).xstateMachine,
    defaultWorkloads: ['W1', 'W2', 'W3', 'W4'],
  },
  // W4's limit: fork/join by hand with Promise.all.
  promises: { load: async () => (await import('./promises.js')).promises, defaultWorkloads: ['W4'] },
  // The production setting: checkSerializable off. W4 through system.fork, from outside a turn.
  troupe: { load: troupeVariant('troupe', false, false), defaultWorkloads: ['W1', 'W2', 'W3', 'W4'] },
  // W4 inside the actor world: a parent actor forks in its turn, a join actor resolves the caller.
  'troupe-fork-in-turn': { load: troupeVariant('troupe-fork-in-turn', false, false, true), defaultWorkloads: ['W4'] },
  'troupe-async': { load: troupeVariant('troupe-async', true, false), defaultWorkloads: ['W1'] },
  // The development and test default, so users see what the check costs.
  'troupe-checked': { load: troupeVariant('troupe-checked', false, true), defaultWorkloads: ['W1'] },
}

/** The baselines troupe is compared against, and the targets (troupe rate / baseline rate) per workload. */
export const BASELINES = ['mailbox', 'xstate-machine', 'promises'] as const
export const TARGETS: Partial<Record<WorkloadName, Partial<Record<(typeof BASELINES)[number], number>>>> = {
  W1: { mailbox: 0.25, 'xstate-machine': 5 },
}
/** The system the targets apply to; the other troupe variants get ratio lines without a target. */
export const TARGET_SYSTEM = 'troupe'
