// What a machine actor keeps between turns: plain data that survives superjson.
import type { StateValue } from 'xstate'
import { StateMigrationError, TerminalError } from '../index.js'

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

/** Maps a persisted snapshot stored under an older machine version to one the current machine restores. */
export type MachineMigration = (snapshot: PersistedMachineSnapshot) => PersistedMachineSnapshot

/**
 * Returns `state` when it was made by `version`, or migrated by the entry of `migrate` for the
 * version it was made by; otherwise throws a {@link TerminalError} naming the actor type, the key
 * and both versions (the message is dead-lettered). A migration that throws, or returns no
 * snapshot, is a StateMigrationError: the turn fails and the policy retries it.
 *
 * @example
 * const stored = checkVersion('trafficLight', '5th-ave', ctx.state, '2', { '1': (s) => s })
 */
export function checkVersion(type: string, key: string, state: unknown, version: string, migrate?: Readonly<Record<string, MachineMigration>>): MachineState {
  const stored = state as Partial<MachineState> | null | undefined
  const found = typeof stored === 'object' && stored !== null ? stored.version : undefined
  if (found !== version && typeof found === 'string' && migrate !== undefined && Object.hasOwn(migrate, found)) {
    return { snapshot: migrated(type, key, stored!.snapshot ?? null, found, version, migrate[found]!), version, timers: stored!.timers ?? {} }
  }
  if (found !== version) {
    const what = found === undefined ? 'no machine version' : `machine version "${String(found)}"`
    throw new TerminalError(
      `machine actor ${type}${key === '' ? '' : ` key "${key}"`}: the stored snapshot has ${what}, but this actor runs machine version "${version}"; ` +
        `a snapshot is restored only by the version that stored it — give machineActor a migrate entry for ${found === undefined ? 'that version' : JSON.stringify(String(found))}, or keep the old version until its instances finish`,
    )
  }
  return { snapshot: stored!.snapshot ?? null, version, timers: stored!.timers ?? {} }
}

/**
 * The migration of a machine actor with a whole-number version, as its state version's `migrate`
 * (state-version.ts calls it as a state of an older version is loaded, and names the key when it
 * throws): the stored state brought to `version` by the entry for the machine version that made it.
 */
export function migratedState(type: string, state: unknown, version: string, migrate?: Readonly<Record<string, MachineMigration>>): MachineState {
  return checkVersion(type, '', state, version, migrate)
}

/** A stored snapshot through its migration; a new instance's (null) has nothing to migrate. */
function migrated(type: string, key: string, snapshot: PersistedMachineSnapshot | null, from: string, to: string, migration: MachineMigration): PersistedMachineSnapshot | null {
  if (snapshot === null) return null
  let out: unknown
  try {
    // What the migration changes in place is the turn's state: a failed turn undoes it.
    out = migration(snapshot)
  } catch (error) {
    throw new StateMigrationError(type, key, from, to, `migrate[${JSON.stringify(from)}] threw: ${(error as Error)?.message ?? String(error)}`, { cause: error })
  }
  if (typeof out !== 'object' || out === null || typeof (out as { status?: unknown }).status !== 'string') {
    throw new StateMigrationError(type, key, from, to, `migrate[${JSON.stringify(from)}] must return a persisted snapshot (an object with a status, a value and a context)`)
  }
  return out as PersistedMachineSnapshot
}
