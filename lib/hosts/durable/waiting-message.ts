// Where a stateless message waits for a token of its type's rate: a stateless actor keeps no item,
// so the message gets one of its own, an instance of its type keyed by the message (`wait:<id>`).
// It is parked there as a keyed actor's message is parked in its key's item, with the token dealt
// to it and a wake-up; the run that wakes it runs its turn, and what the turn sends goes out
// through a flush record, as for any run no record brought. The item's watermark recognises every
// copy of the message, and once it ran and sent, the item stays as a tombstone until it expires.
import type { Envelope } from '../../core/envelope.js'
import type { ActorType } from '../../turn/actor-type.js'

/** The start of a waiting item's key. */
export const WAIT_PREFIX = 'wait:'

/** The key of the item a stateless message waits in. */
export function waitKey(envelope: Pick<Envelope, 'id'>): string {
  return `${WAIT_PREFIX}${envelope.id}`
}

/**
 * Whether an instance of `type` under `key` is a stateless message's waiting item. A stateless
 * actor has no key of its own (its messages carry ''), so no user key can look like one.
 */
export function isWaitingItem(type: Pick<ActorType, 'kind'>, key: string): boolean {
  return type.kind === 'stateless' && key.startsWith(WAIT_PREFIX)
}

/** Whether runs of this type under this key keep an item: a stateful instance, or a message waiting for a token. */
export function keepsItem(type: ActorType, key: string): boolean {
  return type.stateful || isWaitingItem(type, key)
}
