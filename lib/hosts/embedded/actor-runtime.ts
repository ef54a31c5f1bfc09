import type { ActorClass } from '../../core/actor.js'
import type { Clock } from '../../core/clock.js'
import type { ActorCounts } from '../../core/inspection.js'
import { mapWithout } from '../../core/map-without.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import { ActorType } from '../../turn/actor-type.js'
import { Instance } from './instance.js'
import { WaitingLine } from './waiting-line.js'

export type { ActorKind } from '../../turn/actor-type.js'

/** An actor type as the embedded host runs it: its instances, its line for free slots, its counts and bucket. */
export class ActorRuntime extends ActorType {
  readonly typeBucket: TokenBucket | undefined
  /**
   * Replaced when its last instance goes (`drop`): read it here each time; a walk over it across an
   * await checks `instances.get(key)` again before it acts on an instance.
   */
  instances = new Map<string, Instance>()
  /** Instances with work, waiting for a free slot. */
  readonly waiting = new WaitingLine<Instance>()
  running = 0
  queued = 0
  lastActivityAt: number | undefined
  readonly counts: ActorCounts = { accepted: 0, done: 0, filtered: 0, dead: 0, retried: 0, throttled: 0 }
  /** The whole type is paused (`system.pause(type)`). */
  pausedAll = false
  /** Keys paused one by one. */
  readonly pausedKeys = new Set<string>()

  constructor(
    cls: ActorClass,
    private readonly clock: Clock,
  ) {
    super(cls)
    this.typeBucket = this.policy.throttle ? new TokenBucket(this.policy.throttle, clock.now()) : undefined
  }

  /**
   * The instance asked for last, kept at hand: most messages go where the one before went (a
   * singleton's, a key's burst, a fork's reports to its joiner), and a look-up in a map keyed by
   * strings costs a tell a tenth of its time.
   */
  private lastKey: string | undefined = undefined
  private lastInstance: Instance | undefined = undefined

  /** The instance of `key` in memory, if any. */
  instance(key: string): Instance | undefined {
    if (key === this.lastKey) return this.lastInstance
    const inst = this.instances.get(key)
    if (inst !== undefined) {
      this.lastKey = key
      this.lastInstance = inst
    }
    return inst
  }

  /** A new instance for `key`, with no state yet: the host loads it. */
  newInstance(key: string): Instance {
    const inst = new Instance(this, key, this.kind === 'stateless' ? this.policy.concurrency : 1)
    this.instances.set(key, inst)
    this.lastKey = key
    this.lastInstance = inst
    return inst
  }

  /** Forgets the instance of `key` (map-without.ts). */
  drop(key: string): void {
    this.instances = mapWithout(this.instances, key)
    if (key === this.lastKey) {
      this.lastKey = undefined
      this.lastInstance = undefined
    }
  }

  isPaused(key: string): boolean {
    return this.pausedAll || (this.pausedKeys.size !== 0 && this.pausedKeys.has(key))
  }

  keyBucket(): TokenBucket | undefined {
    return this.policy.throttlePerKey ? new TokenBucket(this.policy.throttlePerKey, this.clock.now()) : undefined
  }
}
