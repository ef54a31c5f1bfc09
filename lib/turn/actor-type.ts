import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ActorClass, AnyActor } from '../core/actor.js'
import { ConfigError, TerminalError, ValidationError } from '../core/errors.js'
import { assertSerializable, isWellFormed, quoted, validateBody } from '../core/validate.js'
import { copyState } from '../core/state-copy.js'
import { type Policy, resolvePolicy } from '../supervisor/policy.js'
import { stateVersionsOf, type StateVersions } from './state-version.js'

/** keyed: one instance per key; singleton: one stateful instance; stateless: concurrent turns, no state. */
export type ActorKind = 'keyed' | 'singleton' | 'stateless'

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/
/**
 * Set (true) on an actor class whose `receive` changes `ctx.state` only after the last thing
 * in its turn that can throw: a failed turn then leaves the state as it was, and the
 * embedded host hands such a turn the state itself instead of a draft whose changes a failed
 * turn undoes (see StateJournal). Its `initialState()` returns a new object on every call, which
 * is used as it is (no copy). For troupe's own actors.
 */
export const NO_STATE_COPY = Symbol('troupe.noStateCopy')

/**
 * Set (milliseconds) on an actor class whose instances' items the durable host lets expire that
 * long after their last commit, state and all. For troupe's own actors that keep a small record
 * only as long as a copy of what they saw can still come (the timer).
 */
export const STATE_TTL = Symbol('troupe.stateTtl')

/**
 * Set (a function of the state) on an actor class whose state, when the function says so, is kept
 * only to recognise what comes after its end: the durable host lets that item expire as it lets a
 * deleted instance's watermarks expire, with no timer and no later commit to delete it. For
 * troupe's own actors (the joiner's joined record).
 */
export const ENDED_STATE = Symbol('troupe.endedState')

/** Longest key `key(msg)` may return. */
export const MAX_KEY_LENGTH = 1024

/**
 * What every host knows about one actor type, checked once when a system starts: its
 * name, kind, policy and schema, and the one instance of the class that runs its turns.
 */
export class ActorType {
  readonly type: string
  readonly actor: AnyActor
  readonly kind: ActorKind
  /** Keeps state between turns (keyed actors may have none). */
  readonly stateful: boolean
  readonly policy: Policy
  readonly schema: StandardSchemaV1 | undefined
  readonly hasFilter: boolean
  /** False when its turns may run on the state itself, with no rollback (see NO_STATE_COPY). */
  readonly copiesState: boolean
  /** Its items expire this long after their last commit (see STATE_TTL). */
  readonly stateTtlMs: number | undefined
  /** Whether a state is kept only to recognise what comes after its end (see ENDED_STATE). */
  readonly ended: ((state: unknown) => boolean) | undefined
  /** The version of its state's shape and how an older one is migrated (state-version.ts). */
  readonly versions: StateVersions

  constructor(readonly cls: ActorClass) {
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
    this.stateful = typeof this.actor.initialState === 'function'
    this.kind = keyed ? 'keyed' : this.stateful ? 'singleton' : 'stateless'
    this.policy = resolvePolicy(type, cls.policy, keyed)
    this.schema = cls.schema
    if (this.schema !== undefined && typeof this.schema?.['~standard']?.validate !== 'function') {
      throw new ConfigError(`${type}.schema is not a Standard Schema (it has no ~standard.validate); zod, valibot and arktype schemas are`)
    }
    this.hasFilter = typeof this.actor.filter === 'function'
    this.copiesState = (cls as { [NO_STATE_COPY]?: unknown })[NO_STATE_COPY] !== true
    const ttl = (cls as { [STATE_TTL]?: unknown })[STATE_TTL]
    this.stateTtlMs = typeof ttl === 'number' ? ttl : undefined
    const ended = (cls as { [ENDED_STATE]?: unknown })[ENDED_STATE]
    this.ended = typeof ended === 'function' ? (ended as (state: unknown) => boolean) : undefined
    this.versions = stateVersionsOf(cls, this.actor, type, this.kind === 'stateless')
  }

  /** The instance key of a message: `''` for unkeyed actors. A bad key is the message's fault. */
  keyOf(body: unknown): string {
    if (this.kind !== 'keyed') return ''
    let key: unknown
    try {
      key = this.actor.key!(body)
    } catch (error) {
      throw new ValidationError(this.type, [{ path: '(key)', message: `key(msg) threw: ${(error as Error)?.message ?? String(error)}` }])
    }
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      const got = typeof key === 'string' ? `a string of ${key.length}` : typeof key
      throw new ValidationError(this.type, [{ path: '(key)', message: `key(msg) must return a string of 1 to ${MAX_KEY_LENGTH} characters, got ${got}` }])
    }
    // Part of DynamoDB keys (UTF-8), where a lone surrogate becomes U+FFFD and two keys would share one instance.
    if (!isWellFormed(key)) {
      throw new ValidationError(this.type, [{ path: '(key)', message: `key(msg) must return well-formed UTF-16 (no lone surrogate, which the table could not keep apart from another key), got ${quoted(key)}` }])
    }
    return key
  }

  /**
   * A body told to this actor from inside a turn, checked as far as can be done synchronously:
   * its schema's output (an async schema is a terminal error), serialisable when asked, keyable.
   */
  checkOutgoing(body: unknown, checkSerializable: boolean): unknown {
    const checked = validateBody(this.type, this.schema, body)
    if (checked instanceof Promise) throw new TerminalError(`${this.type} has an async schema; messages told inside a turn must validate synchronously`)
    if (checkSerializable) assertSerializable(this.type, 'message', checked)
    this.keyOf(checked)
    return checked
  }

  /** A copy of the state a new instance starts from; undefined for actors without state. */
  initialState(): unknown {
    if (!this.stateful) return undefined
    const initial = this.actor.initialState!()
    return this.copiesState ? copyState(initial) : initial
  }
}

/**
 * The registered type of a class: the class itself, or, under the same type name, a registered
 * class that extends it (a pipeline registers its stages as subclasses of the user's classes),
 * so `tell(Validate, …)` reaches the registered stage.
 */
export function registeredType<T extends ActorType>(target: ActorClass, byClass: ReadonlyMap<ActorClass, T>, byType: ReadonlyMap<string, T>): T | undefined {
  const found = byClass.get(target)
  if (found) return found
  const named = typeof target?.type === 'string' ? byType.get(target.type) : undefined
  return named && typeof target === 'function' && named.cls.prototype instanceof target ? named : undefined
}
