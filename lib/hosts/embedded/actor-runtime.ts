import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ActorClass, AnyActor } from '../../core/actor.js'
import { ConfigError } from '../../core/errors.js'
import type { ActorCounts } from '../../core/inspection.js'
import { copyState } from '../../core/state-copy.js'
import { type Policy, resolvePolicy } from '../../supervisor/policy.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import type { Clock } from '../../core/clock.js'
import { Instance } from './instance.js'

export type ActorKind = 'keyed' | 'singleton' | 'stateless'

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/

/** Everything the embedded host knows about one actor type, resolved once at start. */
export class ActorRuntime {
  readonly type: string
  readonly actor: AnyActor
  readonly kind: ActorKind
  readonly policy: Policy
  readonly schema: StandardSchemaV1 | undefined
  readonly hasFilter: boolean
  readonly typeBucket: TokenBucket | undefined
  readonly instances = new Map<string, Instance>()
  /** Instances with work, waiting for a free slot. */
  readonly waiting: Instance[] = []
  running = 0
  queued = 0
  lastActivityAt: number | undefined
  readonly counts: ActorCounts = { accepted: 0, done: 0, filtered: 0, dead: 0, retried: 0, throttled: 0 }

  constructor(
    readonly cls: ActorClass,
    private readonly clock: Clock,
  ) {
    const type = (cls as { type?: unknown }).type
    if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
      throw new ConfigError(
        `actor class ${cls.name || '(anonymous)'} needs \`static readonly type\`: a name of 1 to 128 letters, digits, "_", "-" or ".", starting with a letter; got ${JSON.stringify(type)}`,
      )
    }
    this.type = type
    this.actor = new cls()
    if (typeof this.actor.receive !== 'function') throw new ConfigError(`actor ${type} has no receive(msg, ctx) method`)
    const keyed = typeof this.actor.key === 'function'
    const stateful = typeof this.actor.initialState === 'function'
    this.kind = keyed ? 'keyed' : stateful ? 'singleton' : 'stateless'
    this.policy = resolvePolicy(type, cls.policy, keyed)
    this.schema = cls.schema
    if (this.schema !== undefined && typeof this.schema?.['~standard']?.validate !== 'function') {
      throw new ConfigError(`${type}.schema is not a Standard Schema (it has no ~standard.validate); zod, valibot and arktype schemas are`)
    }
    this.hasFilter = typeof this.actor.filter === 'function'
    this.typeBucket = this.policy.throttle ? new TokenBucket(this.policy.throttle, clock.now()) : undefined
  }

  /** Keeps state between turns (keyed actors may have none). */
  get stateful(): boolean {
    return typeof this.actor.initialState === 'function'
  }

  /** A new instance for `key`, with no state yet: the host loads it. */
  newInstance(key: string): Instance {
    const inst = new Instance(this, key, this.kind === 'stateless' ? this.policy.concurrency : 1)
    this.instances.set(key, inst)
    return inst
  }

  keyOf(body: unknown): string {
    if (this.kind !== 'keyed') return ''
    const key = this.actor.key!(body)
    if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
      throw new ConfigError(`${this.type}.key(msg) must return a string of 1 to 1024 characters, got ${typeof key === 'string' ? `a string of ${key.length}` : typeof key}`)
    }
    return key
  }

  initialState(): unknown {
    return typeof this.actor.initialState === 'function' ? copyState(this.actor.initialState()) : undefined
  }

  keyBucket(): TokenBucket | undefined {
    return this.policy.throttlePerKey ? new TokenBucket(this.policy.throttlePerKey, this.clock.now()) : undefined
  }
}
