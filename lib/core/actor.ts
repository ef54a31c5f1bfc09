import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Context } from './context.js'
import type { Envelope } from './envelope.js'
import type { Drop } from './filter.js'
import type { Leaf, Serializable } from './serializable.js'
import type { PolicyOptions } from './policy-options.js'

/**
 * The base class of every actor: one class per message type.
 *
 * - `In` types the mailbox, `Reply` what `ask` returns, `State` what a keyed or
 *   singleton instance keeps between turns. All three must survive superjson.
 * - `static type` names the mailbox (and the stream records in the AWS mode).
 * - `key(msg)` makes it a keyed actor: one instance per key, one turn at a time per key.
 *   Without `key`, an actor with `initialState` is a singleton; one without is
 *   stateless and runs its turns concurrently.
 * - Fields on the class instance are not state: troupe keeps one instance per type.
 *   Keep what must persist in `ctx.state`.
 * - `static version` (a positive integer, 1 when absent) names the shape of `State`; the store
 *   keeps it beside each state. A stored state of an older version is passed to `migrate` when
 *   it is loaded (README, "State versions").
 *
 * @example
 * class PageStats extends Actor<{ url: string }, number, { views: number }> {
 *   static readonly type = 'pageStats'
 *   key(msg: PageStats['In']) { return msg.url }
 *   initialState() { return { views: 0 } }
 *   receive(msg: PageStats['In'], ctx: Context<{ views: number }>) { return ++ctx.state.views }
 * }
 */
export abstract class Actor<
  In extends Serializable<In> | Leaf,
  Reply extends Serializable<Reply> | Leaf = void,
  State extends Serializable<State> | Leaf = undefined,
> {
  /** The mailbox type, for annotations: `receive(msg: PageStats['In'], …)`. */
  declare readonly In: In
  /** The reply type `ask` resolves to. */
  declare readonly Reply: Reply
  /** The state type of one instance. */
  declare readonly State: State

  /** Makes the actor keyed: the key of the instance that receives `msg`. */
  key?(msg: In): string
  /** The state of a new instance. */
  initialState?(): State
  /**
   * Brings a state stored by an older `static version` to this version's shape, in one call however
   * many versions behind it is (`fromVersion` says which). Runs in the first turn on the loaded
   * instance, synchronously; what it throws fails that turn. May also be declared `static`.
   */
  migrate?(state: unknown, fromVersion: number): State
  /** Runs before `receive`: return `drop(reason)` to drop the message, a new body to rewrite it, or nothing to pass it on. */
  filter?(msg: In, envelope: Envelope<In>): In | Drop | undefined | void
  /** Handles one message. The return value is the reply to `ask` (and to `replyTo`). */
  abstract receive(msg: In, ctx: Context<State>): Reply | Promise<Reply>
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActor = Actor<any, any, any>

/** An actor class: the address `tell` and `ask` take. */
export interface ActorClass<A extends AnyActor = AnyActor> {
  new (): A
  /** The mailbox name; unique in a system. */
  readonly type: string
  /** A Standard Schema (zod, valibot, arktype…) checked on every `tell`/`ask`. */
  readonly schema?: StandardSchemaV1
  /** Retries, timeouts, throttles and concurrency for this type. */
  readonly policy?: PolicyOptions
}

/** The mailbox type of an actor class. */
export type InOf<C extends ActorClass> = InstanceType<C>['In']
/** The reply type of an actor class. */
export type ReplyOf<C extends ActorClass> = InstanceType<C>['Reply']
/** The state type of an actor class. */
export type StateOf<C extends ActorClass> = InstanceType<C>['State']

/**
 * Checks at compile time that actor `R` can take the reply of actor `C` as its message;
 * a mismatch makes `replyTo` demand a property no class has, so the call fails to compile.
 */
export type AcceptsReplyOf<C extends ActorClass, R extends ActorClass> = [ReplyOf<C>] extends [InOf<R>]
  ? unknown
  : { readonly 'replyTo actor does not accept the reply type': ReplyOf<C> }
