import type { Pause } from '../../core/system.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'

/**
 * Which types and keys are paused. A paused instance's messages wait in its mailbox; a turn
 * running when the pause comes finishes. Resuming a type leaves keys paused one by one paused,
 * as on AWS.
 */
export class PauseBook {
  constructor(private readonly runtimes: readonly ActorRuntime[]) {}

  /** Pauses, and returns the instances whose waiting messages are now held. */
  pause(rt: ActorRuntime, key: string | undefined): Instance[] {
    if (key === undefined) rt.pausedAll = true
    else rt.pausedKeys.add(key)
    return affected(rt, key)
  }

  /** Resumes, and returns the instances to wake. */
  resume(rt: ActorRuntime, key: string | undefined): Instance[] {
    if (key === undefined) rt.pausedAll = false
    else rt.pausedKeys.delete(key)
    return affected(rt, key)
  }

  list(): Pause[] {
    const out: Pause[] = []
    for (const rt of this.runtimes) {
      if (rt.pausedAll) out.push({ type: rt.type })
      for (const key of rt.pausedKeys) out.push({ type: rt.type, key })
    }
    return out
  }

  /** Messages waiting behind a pause: `stop()` and `idle()` do not wait for them. */
  waiting(): number {
    let n = 0
    for (const rt of this.runtimes) {
      if (!rt.pausedAll && rt.pausedKeys.size === 0) continue
      for (const inst of rt.instances.values()) if (inst.active === 0 && inst.paused) n += inst.size
    }
    return n
  }
}

function affected(rt: ActorRuntime, key: string | undefined): Instance[] {
  if (key !== undefined) {
    const inst = rt.instances.get(key)
    return inst ? [inst] : []
  }
  return [...rt.instances.values()]
}
