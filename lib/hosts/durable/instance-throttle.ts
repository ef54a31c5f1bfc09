// Throttles in the durable host. A host never sleeps to wait for a token: a message that finds
// none is parked in its instance's item (`parked` in the bookkeeping) and a durable timer wakes
// the instance when the next token is there. The bucket lives in the same item, so taking a
// token costs no request of its own: it is committed with the turn that took it.
//
// Which throttles have an item to live in:
//   throttlePerKey on a stateful keyed actor   the key's item: applied.
//   throttle on a singleton                    its one item is the whole type: applied.
//   throttle on a keyed or stateless actor     no single item sees every turn of the type. A
//                                              bucket item read with the batch and written in the
//                                              commit would be one hot item every instance of the
//                                              type competes for (a conflict, reload and rerun per
//                                              commit at any real rate), and splitting the rate
//                                              between shards is wrong whenever keys are uneven
//                                              or shards change. Not applied: the host warns at
//                                              start, naming the actor.
//   throttlePerKey on a keyed actor without state  it keeps no item: not applied, with a warning.
import type { Envelope } from '../../core/envelope.js'
import { derivedId } from '../../core/ids.js'
import { decode, encode } from '../../core/serialization.js'
import type { TimerRecord } from '../../store/index.js'
import type { Rate } from '../../supervisor/policy.js'
import type { TokenBucket } from '../../supervisor/token-bucket.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { InstanceMeta } from './instance-meta.js'
import type { OutboxEntry } from './outbox.js'

/** The target of a throttle's wake-up timers: the host runs the instance's parked messages. */
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

/** The rate a durable instance's own bucket holds for its type, if any. */
export function instanceRate(type: ActorType): Required<Rate> | undefined {
  if (!type.stateful) return undefined
  return type.policy.throttlePerKey ?? (type.kind === 'singleton' ? type.policy.throttle : undefined)
}

/** Why a declared throttle is not applied by the durable host, or undefined when all are. */
export function unappliedThrottle(type: ActorType): string | undefined {
  const { throttle, throttlePerKey } = type.policy
  if (throttle && type.kind !== 'singleton') {
    return `${type.type}.policy.throttle (the whole type's rate) is not applied on AWS: no one item sees every turn of a ${type.kind} actor; use throttlePerKey, or a throttle on a singleton actor that the others tell`
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
 * The throttle's part of a commit at `version`: the bucket as it is `now`, and a wake-up timer for
 * parked messages, due when tokens are there (`wakeDelayMs`). A paused instance gets none: its
 * resume wakes it. Once nothing is parked, a pending wake-up is cancelled.
 */
export function throttleCommit(type: ActorType, key: string, meta: InstanceMeta, bucket: TokenBucket, rate: Required<Rate>, paused: boolean, version: number, entries: OutboxEntry[], now: number): void {
  meta.bucket = bucket.save()
  if (meta.parked !== undefined && meta.wake === undefined && !paused) {
    const timer = wakeTimer(type.type, key, meta.parked[0]!, version, now + wakeDelayMs(bucket, rate, meta.parked.length, now))
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
