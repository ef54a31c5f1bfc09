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
  /**
   * Deletes an asynchronous store has not answered yet, by type and key: a new instance of that
   * key reads the store only once its delete has landed, or it would start from the deleted state.
   */
  private readonly deleting = new Map<string, Promise<unknown>>()
  /** Evictions whose write is on its way: a stop's write of the instance, and its delete, go after it. */
  private readonly evicting = new Map<Instance, Promise<unknown>>()

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
    const deleting = this.deleting.size === 0 ? undefined : this.deleting.get(deleteId(rt.type, key))
    if (deleting !== undefined) {
      restoreLater(inst, readAfter(deleting, this.store, rt.type, key))
      return inst
    }
    const stored = this.store.get(rt.type, key)
    // No closure on this path (nor in this method, whose scope it would allocate on every call):
    // W2 makes thousands of instances in a burst, and every fork makes its joiner's.
    if (stored instanceof Promise) restoreLater(inst, stored)
    else restore(inst, stored)
    return inst
  }

  /**
   * Deletes an instance a turn ended (its state set to undefined) from the store, after its
   * eviction's write if one is on its way (landing later, that write would bring it back); the next
   * load of its key waits for it.
   */
  delete(inst: Instance): void | Promise<void> {
    const evicting = this.evicting.get(inst)
    const deleted = evicting === undefined ? this.store.delete(inst.rt.type, inst.key) : deleteAfter(evicting, this.store, inst.rt.type, inst.key)
    if (!(deleted instanceof Promise)) return deleted
    const id = deleteId(inst.rt.type, inst.key)
    const landed: Promise<unknown> = deleted.then(
      () => this.landed(id, landed),
      () => this.landed(id, landed),
    )
    this.deleting.set(id, landed)
    return deleted
  }

  private landed(id: string, landed: Promise<unknown>): void {
    if (this.deleting.get(id) === landed) this.deleting.delete(id)
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
      for (const inst of rt.instances.values()) {
        const evicting = this.evicting.get(inst)
        // Its eviction's write first (failed or not, it left the version right): two writes of one version would conflict.
        if (evicting !== undefined) await evicting.catch(() => undefined)
        if (rt.instances.get(inst.key) === inst) await this.save(inst)
      }
    }
  }

  /**
   * Drops an idle instance from memory, kept in the store; false while it has work or waits, or
   * when it ran again while its write was on its way. It stays in memory until the write lands: a
   * message that comes meanwhile runs on it, not on a read of a store that may not hold the write
   * yet, and a write that fails leaves it where it was, nothing lost.
   */
  async evict(rt: ActorRuntime, key: string): Promise<boolean> {
    const inst = rt.instances.get(key)
    // One eviction at a time: the one on its way answers for this one.
    if (!inst || !idle(inst) || this.evicting.has(inst)) return false
    if (rt.stateful) {
      const { state, lastMessage, lastSeq } = inst
      const written = this.write(inst)
      this.evicting.set(inst, written)
      try {
        await written
      } finally {
        this.evicting.delete(inst)
      }
      // A turn that ran meanwhile changed what was written: it stays, and its next write follows this one.
      if (rt.instances.get(key) !== inst || !idle(inst) || inst.state !== state || inst.lastMessage !== lastMessage || inst.lastSeq !== lastSeq) return false
    }
    rt.drop(key)
    return true
  }

  /** An eviction's write; one that fails leaves the version as the store has it, and rejects. */
  private async write(inst: Instance): Promise<void> {
    const version = inst.version
    try {
      await this.save(inst)
    } catch (error) {
      await this.afterFailedWrite(inst, version)
      throw error
    }
  }

  /**
   * After a write of `inst` from `version` failed: the version goes back to what the store has, so
   * the next write is conditional on it. A write whose answer was lost may have landed all the same:
   * the store says which.
   */
  private async afterFailedWrite(inst: Instance, version: number): Promise<void> {
    if (inst.version !== version + 1) return
    try {
      if ((await this.store.get(inst.rt.type, inst.key))?.version === version + 1) return
    } catch {
      // Unreadable too: taken as not written, the likelier end of a failed write.
    }
    inst.version = version
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

function deleteId(type: string, key: string): string {
  return `${type}\u0000${key}`
}

/** Deletes `type` `key` once `evicting`, a write of it, has landed or failed. */
async function deleteAfter(evicting: Promise<unknown>, store: StateStore, type: string, key: string): Promise<void> {
  await evicting.catch(() => undefined)
  await store.delete(type, key)
}

/** The stored state of `type` `key`, read once `deleting` has landed (failed or not: a failed delete left the item). */
async function readAfter(deleting: Promise<unknown>, store: StateStore, type: string, key: string): Promise<StoredInstance | undefined> {
  await deleting
  return store.get(type, key)
}

/** Nothing to run, running, waiting or loading. */
function idle(inst: Instance): boolean {
  return inst.active === 0 && inst.size === 0 && !inst.parked && !inst.waiting && inst.loading === undefined
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
