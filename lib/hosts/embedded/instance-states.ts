import type { Clock } from '../../core/clock.js'
import { copyState } from '../../core/state-copy.js'
import { readKept } from '../../core/state-journal.js'
import type { StateStore, StoredInstance } from '../../store/index.js'
import { currentState, isNewer, loadedState, OtherVersionState, storedForm } from '../../turn/state-version.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'

/**
 * The embedded system's instances and its state store: an instance is made with the state the
 * store kept (or its type's initial state), written back when it is evicted or the system stops,
 * and read from the store when it is not in memory.
 */
export class InstanceStates {
  constructor(
    readonly store: StateStore,
    private readonly clock: Clock,
  ) {}

  /** The instance for `key` in memory, or a new one with its state from the store. */
  get(rt: ActorRuntime, key: string): Instance {
    return rt.instance(key) ?? this.load(rt, key)
  }

  private load(rt: ActorRuntime, key: string): Instance {
    const inst = rt.newInstance(key)
    if (!rt.stateful) return inst
    const stored = this.store.get(rt.type, key)
    // No closure on this path (nor in this method, whose scope it would allocate on every call):
    // W2 makes thousands of instances in a burst, and every fork makes its joiner's.
    if (stored instanceof Promise) restoreLater(inst, stored)
    else restore(inst, stored)
    return inst
  }

  /**
   * Writes an instance to the store, conditional on the version it was loaded at: its state with the
   * version of the code that kept it, or as it was stored while no turn migrated it. A state stored
   * by a newer version is never written (its turns fail with StateVersionError).
   */
  save(inst: Instance): void | Promise<void> {
    if (isNewer(inst.rt, inst.state)) return
    const expected = inst.version === 0 ? undefined : inst.version
    inst.version++
    const form = readKept(inst.state, (state) => storedForm(inst.rt, state))
    return this.store.put(inst.rt.type, inst.key, { ...form, version: inst.version, updatedAt: this.clock.now() }, expected)
  }

  async saveAll(runtimes: readonly ActorRuntime[]): Promise<void> {
    for (const rt of runtimes) {
      if (!rt.stateful) continue
      // A turn that outlived the stop may end instances while this walks the map: the last one ended
      // leaves a new map in `rt.instances`, and the old one, walked here, still lists what it dropped.
      for (const inst of rt.instances.values()) if (rt.instances.get(inst.key) === inst) await this.save(inst)
    }
  }

  /** Drops an idle instance from memory, kept in the store; false while it has work or waits. */
  async evict(rt: ActorRuntime, key: string): Promise<boolean> {
    const inst = rt.instances.get(key)
    if (!inst || inst.active !== 0 || inst.size !== 0 || inst.parked || inst.waiting || inst.loading) return false
    rt.drop(key)
    if (rt.stateful) await this.save(inst)
    return true
  }

  /**
   * A copy of the state: from memory, or (evicted, or kept by a system that stopped before this one)
   * from the store. A state of an older version is migrated for the read, and not written.
   */
  read(rt: ActorRuntime, key: string): Promise<unknown> {
    const inst = rt.instances.get(key)
    if (inst || !rt.stateful) return Promise.resolve(inst ? readKept(inst.state, (state) => readable(rt, key, state)) : undefined)
    return Promise.resolve(this.store.get(rt.type, key)).then((stored) => (stored === undefined ? undefined : readable(rt, key, loadedState(rt, stored))))
  }
}

/**
 * Sets a new instance's state: what the store kept, or the type's initial state. A state of another
 * version is held as stored: the instance's first turn migrates it, or fails on a newer one.
 */
function restore(inst: Instance, stored: StoredInstance | undefined): void {
  inst.state = stored === undefined ? inst.rt.initialState() : loadedState(inst.rt, stored)
  inst.version = stored?.version ?? 0
}

/** Restores a new instance once an asynchronous store has read its state; its turns wait until then. */
function restoreLater(inst: Instance, stored: Promise<StoredInstance | undefined>): void {
  inst.loading = stored.then((s) => restore(inst, s)).finally(() => (inst.loading = undefined))
}

/** A held state as a read hands it out: a copy, or the migrated state (a new value already). */
function readable(rt: ActorRuntime, key: string, state: unknown): unknown {
  return state instanceof OtherVersionState ? currentState(rt, key, state) : copyState(state)
}
