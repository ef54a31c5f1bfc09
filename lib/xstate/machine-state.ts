// What a machine actor keeps between turns: plain data that survives superjson.
import type { StateValue } from 'xstate'
import { TerminalError } from '../index.js'

/** A machine's persisted snapshot (`actor.getPersistedSnapshot()`): status, state value, context, history. */
export interface PersistedMachineSnapshot {
  status: 'active' | 'done' | 'error' | 'stopped'
  value: StateValue
  context: unknown
  [field: string]: unknown
}

/** The state of one machine actor instance (`ctx.state`, `system.state(…)`). */
export interface MachineState {
  /** The persisted snapshot; null until the instance's first turn starts the machine. */
  snapshot: PersistedMachineSnapshot | null
  /** The machine version the snapshot was made by. */
  version: string
  /**
   * Durable timers pending for the machine, by name (xstate's id of the delayed event),
   * each with the token of its latest scheduling: a timer message whose token no longer
   * matches was cancelled or replaced, and is ignored.
   */
  timers: Record<string, string>
}

/**
 * The state of a new instance: no snapshot yet, made by `version`.
 *
 * @example
 * initialMachineState('1') // { snapshot: null, version: '1', timers: {} }
 */
export function initialMachineState(version: string): MachineState {
  return { snapshot: null, version, timers: {} }
}

/**
 * Returns `state` when it was made by `version`; otherwise throws a {@link TerminalError}
 * naming the actor type, the key and both versions (the message is dead-lettered).
 *
 * @example
 * const stored = checkVersion('trafficLight', '5th-ave', ctx.state, '2')
 */
export function checkVersion(type: string, key: string, state: unknown, version: string): MachineState {
  const stored = state as Partial<MachineState> | null | undefined
  const found = typeof stored === 'object' && stored !== null ? stored.version : undefined
  if (found !== version) {
    const what = found === undefined ? 'no machine version' : `machine version "${String(found)}"`
    throw new TerminalError(
      `machine actor ${type} key "${key}": the stored snapshot has ${what}, but this actor runs machine version "${version}"; ` +
        'a snapshot is restored only by the version that stored it — migrate the stored state, or keep the old version until its instances finish',
    )
  }
  return { snapshot: stored!.snapshot ?? null, version, timers: stored!.timers ?? {} }
}
