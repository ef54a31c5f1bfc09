// The systems the benchmark knows, loaded lazily so a child process imports only the one it runs.
import type { BenchSystem, WorkloadName } from './system.js'

export interface SystemEntry {
  load(): Promise<BenchSystem>
  /** The workloads it runs unless --workloads/--systems say otherwise. */
  defaultWorkloads: readonly WorkloadName[]
}

const troupeVariant = (name: string, asyncReceive: boolean, checkSerializable: boolean) => async () =>
  (await import('./troupe.js')).troupe({ name, asyncReceive, checkSerializable })

export const SYSTEMS: Record<string, SystemEntry> = {
  mailbox: { load: async () => (await import('./mailbox.js')).mailbox, defaultWorkloads: ['W1', 'W2', 'W3'] },
  'xstate-machine': {
    load: async () => (await import('./xstate-machine.js')).xstateMachine,
    defaultWorkloads: ['W1', 'W2', 'W3'],
  },
  // The production setting: checkSerializable off.
  troupe: { load: troupeVariant('troupe', false, false), defaultWorkloads: ['W1', 'W2', 'W3'] },
  'troupe-async': { load: troupeVariant('troupe-async', true, false), defaultWorkloads: ['W1'] },
  // The development and test default, so users see what the check costs.
  'troupe-checked': { load: troupeVariant('troupe-checked', false, true), defaultWorkloads: ['W1'] },
}

/** The baselines troupe is compared against, and the targets (troupe rate / baseline rate) per workload. */
export const BASELINES = ['mailbox', 'xstate-machine'] as const
export const TARGETS: Partial<Record<WorkloadName, Partial<Record<(typeof BASELINES)[number], number>>>> = {
  W1: { mailbox: 0.25, 'xstate-machine': 5 },
}
/** The system the targets apply to; the other troupe variants get ratio lines without a target. */
export const TARGET_SYSTEM = 'troupe'
