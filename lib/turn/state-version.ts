// An actor's state versions: `static version` names the shape of the state this code reads and
// writes (1 when absent), and the store keeps beside each state the version that wrote it
// (`StoredInstance.stateVersion`, absent meaning 1). Both hosts load a stored state through
// `loadedState`; one of another version stays its stored text (`OtherVersionState`) until the
// turn engine brings it to this version in the first turn that runs on it (`currentState`), so a
// migration that throws is that turn's failure (retried by the policy, then a dead letter) and the
// migrated state is kept by that turn's commit, with no write of its own. A state stored by a newer
// version is never run or written: each host refuses it its own way (instance-states.ts,
// instance-run.ts).
//
// One call per load: the user's `migrate(state, fromVersion)` gets the stored version and returns
// the state in the current version's shape, handling the chain of versions itself (one `if` per
// version passed), so a state two versions behind is migrated in one call.
import type { ActorClass, AnyActor } from '../core/actor.js'
import { ConfigError, StateMigrationError, StateVersionError, TroupeError } from '../core/errors.js'
import { decode, encode } from '../core/serialization.js'
import { assertSerializable } from '../core/validate.js'
import type { StoredInstance } from '../store/index.js'

/** A user's migration: the stored state and its version in, the state in the current version's shape out. */
export type Migrate = (state: unknown, fromVersion: number) => unknown

/** What an actor type declares about its state's versions, checked when the class is registered. */
export interface StateVersions {
  /** The version of the state this code makes and reads. */
  readonly current: number
  readonly migrate: Migrate | undefined
}

/** An actor type as this file needs it: its name and its versions. */
export interface Versioned {
  readonly type: string
  readonly versions: StateVersions
}

const UNVERSIONED: StateVersions = Object.freeze({ current: 1, migrate: undefined })

/**
 * Reads and checks `static version` and `migrate` (an instance method, or static) of an actor
 * class. A number is the state version: a positive integer; above 1 it needs a migrate (a state
 * stored by an older version could not be loaded otherwise), and a stateless actor has no state to
 * version. A string is a label of the code's own that troupe does not read (a pipeline component's
 * lineage version, a machine actor's machine version, kept inside its state).
 */
export function stateVersionsOf(cls: ActorClass, actor: AnyActor, type: string, stateless: boolean): StateVersions {
  const version = (cls as { version?: unknown }).version
  const own = (actor as { migrate?: unknown }).migrate
  const statik = (cls as { migrate?: unknown }).migrate
  if ((version === undefined || typeof version === 'string') && own === undefined && statik === undefined) return UNVERSIONED
  if (version !== undefined && !(typeof version === 'number' && Number.isSafeInteger(version) && version >= 1)) {
    throw new ConfigError(`${type}.version must be a positive integer (the version of its state's shape; 1 when absent), got ${describe(version)}`)
  }
  if (own !== undefined && statik !== undefined) throw new ConfigError(`${type} declares migrate both as a method and as a static; keep one`)
  const migrate = own ?? statik
  if (typeof migrate !== 'function' && migrate !== undefined) throw new ConfigError(`${type}.migrate must be a function (state, fromVersion) => state, got ${describe(migrate)}`)
  const current = (version as number | undefined) ?? 1
  if (stateless && (current > 1 || migrate !== undefined)) throw new ConfigError(`${type} is stateless (no key and no initialState): it has no state to version or migrate`)
  if (current > 1 && migrate === undefined) {
    throw new ConfigError(`${type}.version is ${current} but ${type} has no migrate(state, fromVersion): a state stored by an older version could not be loaded`)
  }
  // Called as the user wrote it: a method on the actor instance, a static on the class.
  const bound = migrate === undefined ? undefined : ((own !== undefined ? (own as Migrate).bind(actor) : (statik as Migrate).bind(cls)) as Migrate)
  return { current, migrate: bound }
}

/**
 * A stored state whose version is not this code's, as a host holds it until a turn or a read
 * brings it to this version: its stored text, written back as it is while no turn did.
 */
export class OtherVersionState {
  constructor(
    readonly text: string,
    readonly version: number,
    /** What the item holds as its version when that is no positive whole number: never run or written, like a newer one. */
    readonly unreadable?: string,
  ) {}
}

/**
 * The state a host holds for a stored instance: the decoded state when it is of this code's version,
 * an `OtherVersionState` when it is not. A deleted instance's item (no state) is of every version.
 */
export function loadedState(of: Versioned, stored: StoredInstance): unknown {
  const version = stored.stateVersion ?? 1
  // A version that is no positive whole number is not read as any version (not 1, not migrated from).
  if (stored.unreadableVersion !== undefined) return new OtherVersionState(stored.state, NaN, stored.unreadableVersion)
  if (!Number.isSafeInteger(version) || version < 1) return new OtherVersionState(stored.state, NaN, String(version))
  if (version === of.versions.current) return decode(stored.state)
  if (version < of.versions.current && decode(stored.state) === undefined) return undefined
  return new OtherVersionState(stored.state, version)
}

/**
 * The state a turn of `key` runs on: `state` itself, or, for a stored state of another version,
 * the older one migrated (throws StateMigrationError) or the newer one refused (StateVersionError).
 * Each call migrates the stored text afresh: a failed turn leaves the host holding the stored state.
 */
export function currentState(of: Versioned, key: string, state: unknown): unknown {
  if (!(state instanceof OtherVersionState)) return state
  const { current, migrate } = of.versions
  if (state.unreadable !== undefined) throw unreadableVersionError(of.type, key, state.unreadable)
  if (state.version > current) throw new StateVersionError(of.type, key, state.version, current)
  let migrated: unknown
  try {
    migrated = migrate!(decode(state.text), state.version)
  } catch (error) {
    throw new StateMigrationError(of.type, key, state.version, current, `migrate threw: ${(error as Error)?.message ?? String(error)}`, { cause: error })
  }
  // The turn engine runs synchronously up to `receive`: a migration is a pure function of the state.
  if (typeof (migrated as PromiseLike<unknown> | undefined)?.then === 'function') {
    throw new StateMigrationError(of.type, key, state.version, current, 'migrate returned a promise; it must return the state itself')
  }
  if (migrated === undefined || migrated === null) throw new StateMigrationError(of.type, key, state.version, current, `migrate returned ${migrated}; it must return the state in the current version`)
  return migrated
}

/** Refuses a migrated state that would not survive superjson, as a migration's failure that names the key and both versions. */
export function assertMigratedSerializable(of: Versioned, key: string, stored: OtherVersionState, migrated: unknown): void {
  try {
    assertSerializable(of.type, 'state', migrated)
  } catch (error) {
    throw new StateMigrationError(of.type, key, stored.version, of.versions.current, `migrate returned a state that would not survive superjson: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Whether a host holds a state stored by a newer version than its code, or under a version that is
 * no version at all (`unreadable`): never run, never written.
 */
export function isNewer(of: Versioned, state: unknown): state is OtherVersionState {
  return state instanceof OtherVersionState && (state.unreadable !== undefined || state.version > of.versions.current)
}

/** The error a host meets a newer (or unreadable) state with. */
export function newerStateError(of: Versioned, key: string, state: OtherVersionState): TroupeError {
  if (state.unreadable !== undefined) return unreadableVersionError(of.type, key, state.unreadable)
  return new StateVersionError(of.type, key, state.version, of.versions.current)
}

/** The error of a stored state whose version (`sv` in the table) is no positive whole number. */
export function unreadableVersionError(type: string, key: string, held: string): TroupeError {
  return new TroupeError(
    'TROUPE_STATE_VERSION_UNREADABLE',
    `state of ${type} key ${JSON.stringify(key)} has a state version that is not a positive whole number: its field sv holds ${held.length > 200 ? `${held.slice(0, 200)}…` : held}; ` +
      'it is neither run nor overwritten here — set sv to the version whose shape the state has (a number), or remove it for version 1',
  )
}

/**
 * The state and its version as the store keeps them: a state a turn kept is of this version; one
 * no turn brought to it yet goes back as it was stored. The version is left out where it is 1.
 */
export function storedForm(of: Versioned, state: unknown): { state: string; stateVersion?: number } {
  if (state instanceof OtherVersionState) {
    // A newer state is never written: a host that holds one writes nothing of it (see isNewer).
    if (state.unreadable !== undefined || state.version > of.versions.current) throw new Error(`internal: a state of ${of.type} stored by version ${state.unreadable ?? state.version} was about to be overwritten by version ${of.versions.current}`)
    return state.version === 1 ? { state: state.text } : { state: state.text, stateVersion: state.version }
  }
  const text = encode(state)
  return of.versions.current === 1 ? { state: text } : { state: text, stateVersion: of.versions.current }
}

/**
 * A held state for a list of instances (`instances()`, a process's view): migrated in memory
 * where it can be, else as it was stored, so one instance whose migration fails hides no others.
 */
export function shownState(of: Versioned, key: string, state: unknown): unknown {
  if (!(state instanceof OtherVersionState)) return state
  try {
    return currentState(of, key, state)
  } catch {
    return decode(state.text)
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : typeof value
}
