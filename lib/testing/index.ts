// troupe/testing: systems on simulated time, and helpers to wait for receipts and state.
import type { ActorClass, StateOf } from '../core/actor.js'
import { createSystem } from '../hosts/create-system.js'
import type { System } from '../core/system.js'
import type { SystemOptions } from '../hosts/embedded/system-options.js'
import { SimulatedClock } from './simulated-clock.js'

export { SimulatedClock } from './simulated-clock.js'
export { acceleratedClock } from './accelerated-clock.js'
export { storeConformance, type ConformanceOptions, type StoresFactory } from './store-conformance.js'
export { journalConformance, type JournalFactory } from './journal-conformance.js'
export { typeBucketConformance, type TypeBucketsFactory } from './type-bucket-conformance.js'
export { typeSlotConformance, type TypeSlotsFactory } from './type-slot-conformance.js'
export { sideEffectConformance, type SideEffectsFactory } from './side-effect-conformance.js'

export interface TestSystem {
  system: System
  clock: SimulatedClock
  /** Advances simulated time until no message is queued, running or waiting for a retry. */
  settle(options?: { stepMs?: number; maxMs?: number }): Promise<void>
  /** Advances simulated time until the instance's state satisfies `predicate`; resolves to that state. */
  waitForState<C extends ActorClass>(
    actor: C,
    key: string,
    predicate: (state: StateOf<C> | undefined) => boolean,
    options?: { stepMs?: number; maxMs?: number },
  ): Promise<StateOf<C> | undefined>
}

/**
 * A system on a simulated clock, checking every message, state and reply for what
 * would not survive the AWS mode, keeping every receipt, with seeded retry jitter.
 *
 * @example
 * const { system, clock, settle } = createTestSystem({ actors: [Counter] })
 * await system.tell(Counter, { by: 1 })
 * await settle()
 */
export function createTestSystem(options: SystemOptions & { seed?: number }): TestSystem {
  const clock = options.clock instanceof SimulatedClock ? options.clock : new SimulatedClock()
  const system = createSystem({
    checkSerializable: true,
    receiptsForAll: true,
    logLevel: 'silent',
    random: seededRandom(options.seed ?? 1),
    ...options,
    clock,
  })
  const idle = () => system.inspect().actors.every((a) => a.queued === 0 && a.running === 0)
  return {
    system,
    clock,
    settle: (o) => clock.runUntil(idle, o),
    async waitForState(actor, key, predicate, o) {
      let state: StateOf<typeof actor> | undefined
      const check = async () => predicate((state = await system.state(actor, key)))
      if (await check()) return state
      const limit = clock.now() + (o?.maxMs ?? 600_000)
      while (clock.now() < limit) {
        await clock.advance(o?.stepMs ?? 10)
        if (await check()) return state
      }
      throw new Error(`state of ${actor.type}#${key} did not match within ${o?.maxMs ?? 600_000} ms of simulated time`)
    },
  }
}

/** mulberry32: a small seeded generator, so retry jitter is the same run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
