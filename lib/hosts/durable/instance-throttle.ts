// Throttles in the durable host. A host never sleeps to wait for a token: a message that finds
// none is parked in its instance's item (`parked` in the bookkeeping) and a durable timer wakes
// the instance when the next token is there.
//
// Where each throttle's bucket lives:
//   throttlePerKey on a stateful keyed actor   the key's item, committed with the turns that took
//                                              its tokens: no request of its own.
//   throttle on a singleton                    its one item is the whole type: the same.
//   throttle on a stateful keyed actor         an item of the type's own (type-bucket.ts), claimed
//                                              from once per batch (type-rates.ts); the tokens
//                                              dealt to a key and not used yet wait in its item.
//                                              Committing the bucket with the instances instead
//                                              would make every commit of the type meet on one item.
//   throttle on a stateless actor              the same item of the type's own; a message dealt a
//                                              token not earned yet waits in an item of its own
//                                              (waiting-message.ts).
//   throttle or throttlePerKey on a keyed actor without state
//                                              no item keeps its keys' messages in order while they
//                                              wait: not applied, and the host warns at start.
import type { Envelope } from '../../core/envelope.js'
import { derivedId } from '../../core/ids.js'
import { decode, encode } from '../../core/serialization.js'
import type { TimerRecord } from '../../store/index.js'
import type { Rate } from '../../core/policy-options.js'
import type { TokenBucket } from '../../supervisor/token-bucket.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { InstanceMeta } from './instance-meta.js'
import type { OutboxEntry } from './outbox.js'
import { periodMs, type HeldTokens } from './type-bucket.js'

/** The target of the wake-up timers of parked messages (a throttle's, a long retry's): the host runs the instance's parked messages. */
export const THROTTLE_WAKE = 'troupe.throttled'

/**
 * A wake-up waits up to this much longer than the next token, for tokens to run several parked
 * messages at once: each wake-up costs a timer and a commit, so fewer of them keep a busy key cheap.
 */
export const WAKE_GATHER_MS = 1_000

/** When the parked messages of an instance should wake: as soon as a token is there, or a little later when more come soon. */
export function wakeDelayMs(bucket: TokenBucket, rate: Required<Rate>, parked: number, now: number): number {
  const first = bucket.waitMs(now)
  const all = bucket.waitMs(now, Math.max(1, Math.min(parked, Math.floor(rate.burst))))
  return Math.max(first, Math.min(all, first + WAKE_GATHER_MS))
}

/**
 * When the parked messages of an instance should wake for its type's rate: when its next token is
 * earned, or a little later when its others come soon; holding none, when the bucket has one again.
 */
export function typeWakeDelayMs(tokens: HeldTokens, nextAt: number | undefined, rate: Required<Rate>, now: number): number {
  const first = tokens.waitMs(now)
  if (first === undefined) return Math.max(0, Math.ceil((nextAt ?? now + periodMs(rate)) - now))
  const all = Math.ceil(tokens.lastAt()! - now)
  return Math.max(first, Math.min(all, first + WAKE_GATHER_MS))
}

/** The rate a durable instance's own bucket holds for its type, if any. */
export function instanceRate(type: ActorType): Required<Rate> | undefined {
  if (!type.stateful) return undefined
  return type.policy.throttlePerKey ?? (type.kind === 'singleton' ? type.policy.throttle : undefined)
}

/** Why a declared throttle is not applied by the durable host, or undefined when all are. */
export function unappliedThrottle(type: ActorType): string | undefined {
  const { throttle, throttlePerKey } = type.policy
  if (throttle && type.kind === 'keyed' && !type.stateful) {
    return `${type.type}.policy.throttle (the whole type's rate) is not applied on AWS to a keyed actor without state: no item keeps a key's messages in order while they wait for a token; give ${type.type} initialState(), or drop its key(msg)`
  }
  if (throttlePerKey && !type.stateful) {
    return `${type.type}.policy.throttlePerKey is not applied on AWS: the bucket lives in the key's state item and ${type.type} keeps no state (give it initialState())`
  }
  return undefined
}

/**
 * The wake-up timer of an instance whose head parked message is `head`, committed at `version`:
 * the id is fixed by both, so a re-sent outbox puts the same timer, and a new parking puts a new
 * one (a timer runner deletes a one-shot timer after firing it, so ids are never reused).
 */
export function wakeTimer(type: string, key: string, head: Envelope, version: number, dueAt: number): TimerRecord {
  return {
    id: derivedId(head.id, `throttle-wake.${version}`),
    target: THROTTLE_WAKE,
    body: encode({ type, key }),
    dueAt,
    correlationId: head.correlationId,
    causationId: head.id,
    fired: 0,
  }
}

/**
 * The throttles' part of a commit at `version`: a wake-up timer for parked messages, due at
 * `wakeAt` (when tokens are there). A paused instance gets none: its resume wakes it. Once nothing
 * is parked, a pending wake-up is cancelled.
 */
export function throttleCommit(type: ActorType, key: string, meta: InstanceMeta, paused: boolean, version: number, entries: OutboxEntry[], wakeAt: number): void {
  if (meta.parked !== undefined && meta.wake === undefined && !paused) {
    const timer = wakeTimer(type.type, key, meta.parked[0]!, version, wakeAt)
    meta.wake = { id: timer.id, dueAt: timer.dueAt }
    entries.push({ kind: 'schedule', timer })
  } else if (meta.parked === undefined && meta.wake !== undefined) {
    entries.push({ kind: 'cancel', timerId: meta.wake.id })
    delete meta.wake
  }
}

/** The instance a wake-up timer is for. */
export function wakeTarget(timer: TimerRecord): { type: string; key: string } {
  return decode(timer.body) as { type: string; key: string }
}
