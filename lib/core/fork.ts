import type { ActorClass, InOf, ReplyOf } from './actor.js'
import type { MessageStatus } from './receipt.js'
import type { ErrorRecord } from './dead-letter.js'

/** One child of a fork: an actor class and the message for it. */
export type ForkChild<C extends ActorClass = ActorClass> = readonly [actor: C, body: InOf<C>]

/** The children as written, checked child by child against each actor's mailbox. */
export type ForkChildren<T extends readonly ActorClass[]> = { readonly [I in keyof T]: readonly [T[I], InOf<T[I]>] }

/** The replies of a fork's children, as a tuple in fork order. */
export type RepliesOf<T extends readonly ActorClass[]> = { -readonly [I in keyof T]: ReplyOf<T[I]> }

/** A child that did not reply by the deadline, or ended dead. */
export interface MissingChild {
  index: number
  actor: string
  messageId: string
  /** Its last status when the join ran (`unknown` when no receipt was found). */
  status: MessageStatus | 'unknown'
  /** Set when the child ended as a dead letter. */
  error?: ErrorRecord
}

/**
 * What a join actor receives: every reply (`complete: true`), or, past the deadline or
 * when a child died, the replies that came (undefined where none did) and the missing ones.
 *
 * @example
 * class Enriched extends Actor<Joined<[typeof GeoIp, typeof UserAgent], PageViewBody>> {
 *   static readonly type = 'enriched'
 *   receive(msg: Enriched['In']) {
 *     if (msg.complete) { const [geo, ua] = msg.replies; … }
 *   }
 * }
 */
export type Joined<T extends readonly ActorClass[], Value = undefined> =
  | { forkId: string; complete: true; replies: RepliesOf<T>; missing: []; value: Value }
  | { forkId: string; complete: false; replies: { -readonly [I in keyof T]: ReplyOf<T[I]> | undefined }; missing: MissingChild[]; value: Value }

export interface JoinOptions<Value> {
  /** The join runs with what came by then. */
  timeoutMs: number
  /** Passed along to the join actor as `value`. */
  value?: Value
  /**
   * Inside a turn whose message is itself a fork's child: the join actor's reply becomes
   * this message's reply to that outer fork (nested forks). @default false
   */
  forward?: boolean
}

/** A fork waiting for its join; nothing is sent until `join` is called. */
export interface Fork<T extends readonly ActorClass[]> {
  /** Names the actor that receives the joined replies. Returns the fork id. */
  join<J extends ActorClass, Value = undefined>(
    actor: J & ([Joined<T, Value>] extends [InOf<J>] ? unknown : { readonly 'join actor does not take Joined<...> of this fork': Joined<T, Value> }),
    options: JoinOptions<Value>,
  ): string
}

/** Where a message sits in a fork, carried on the child's envelope. */
export interface ForkMembership {
  forkId: string
  index: number
}
