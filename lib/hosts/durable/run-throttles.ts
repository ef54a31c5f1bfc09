// The throttles one run of an instance obeys (instance-run.ts): its key's bucket, carried in its
// item (`throttlePerKey`, a singleton's `throttle`), the tokens of its type's rate it holds
// (type-rates.ts), and the lease on its type's concurrency slots (type-slots.ts). A message runs
// when both buckets have a token for it and the lease holds a slot; else it is parked, and the
// commit keeps the bucket and the tokens and sets the wake-up for when all will let it run (for a
// slot: a jittered wait up to SLOT_RETRY_MS on, when its wake-up claims again; drawn once per run,
// so the wait the receipt names is the wake-up the commit sets).
import type { ActorType } from '../../turn/actor-type.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import type { Rate } from '../../core/policy-options.js'
import type { InstanceMeta } from './instance-meta.js'
import { instanceRate, throttleCommit, typeWakeDelayMs, wakeDelayMs } from './instance-throttle.js'
import type { OutboxEntry } from './outbox.js'
import { HeldTokens } from './type-bucket.js'
import type { TypeGrant } from './durable-batch.js'
import { typeRate } from './type-rates.js'
import type { TypeLease } from './type-lease.js'
import { isWaitingItem } from './waiting-message.js'

/** How long a message must wait, and for which throttle. */
export interface Wait {
  ms: number
  scope: 'type' | 'key'
  /** It waits for a slot of its type's concurrency (not a token). */
  slot?: true
  /** It waits for its own retry, or behind a message that does (retry-parking.ts): no throttle's. */
  retry?: true
}

export class RunThrottles {
  /** This run's wait for a slot, drawn the first time it finds none. */
  private slotRetry: number | undefined

  private constructor(
    private readonly keyRate: Required<Rate> | undefined,
    private readonly bucket: TokenBucket | undefined,
    private readonly typeRate: Required<Rate> | undefined,
    private readonly tokens: HeldTokens | undefined,
    private readonly grant: TypeGrant | undefined,
    private readonly slot: TypeLease | undefined,
  ) {}

  /** The throttles of a run of `type` from `meta` at `now`, with the tokens dealt to it; undefined when it has none. */
  static of(type: ActorType, meta: InstanceMeta, grant: TypeGrant | undefined, now: number): RunThrottles | undefined {
    const keyRate = instanceRate(type)
    const rate = typeRate(type)
    const slot = grant?.slot
    if (keyRate === undefined && rate === undefined && slot === undefined) return undefined
    return new RunThrottles(keyRate, keyRate && new TokenBucket(keyRate, now, meta.bucket), rate, rate && new HeldTokens(meta.typeTokens, grant?.times), grant, slot)
  }

  /** Undefined when the next message may run at `now` (then `take` its tokens); else how long it must wait, and for which. */
  wait(now: number): Wait | undefined {
    const keyMs = this.bucket?.waitMs(now) ?? 0
    // Holding no token of the type's, it waits for its next claim: when the bucket has one again.
    const typeMs = this.tokens === undefined ? 0 : (this.tokens.waitMs(now) ?? Math.max(1, Math.ceil((this.grant?.nextAt ?? now) - now)))
    const slotMs = this.slotWaitMs(now)
    if (keyMs === 0 && typeMs === 0 && slotMs === 0) return undefined
    if (slotMs >= keyMs && slotMs >= typeMs) return { ms: slotMs, scope: 'type', slot: true }
    return { ms: Math.max(keyMs, typeMs, 1), scope: typeMs > keyMs ? 'type' : 'key' }
  }

  /** 0 when the run holds a slot of its type's concurrency (or the type has none); else when its wake-up claims again. */
  private slotWaitMs(now: number): number {
    if (this.slot === undefined || this.slot.held(now)) return 0
    return (this.slotRetry ??= this.slot.retryMs())
  }

  take(): void {
    this.bucket?.take()
    this.tokens?.take()
  }

  /**
   * The throttles' part of the commit at `version`: the key's bucket, the type's tokens the key
   * keeps (those earned already only for messages that wait here; one still to come is its place
   * in line), and the wake-up of what is parked, when both throttles will have a token and not
   * before `notBefore` (the retry time of a failed message at the head).
   */
  commit(type: ActorType, key: string, meta: InstanceMeta, paused: boolean, version: number, entries: OutboxEntry[], now: number, notBefore = now): void {
    const { bucket, tokens } = this
    if (bucket !== undefined) meta.bucket = bucket.save()
    if (tokens !== undefined) {
      const keep = tokens.keep(now, meta.parked !== undefined)
      if (keep !== undefined) meta.typeTokens = keep
      else delete meta.typeTokens
    }
    const keyDelay = bucket === undefined ? 0 : wakeDelayMs(bucket, this.keyRate!, meta.parked?.length ?? 0, now)
    const typeDelay = tokens === undefined ? 0 : typeWakeDelayMs(tokens, this.grant?.nextAt, this.typeRate!, now)
    throttleCommit(type, key, meta, paused, version, entries, Math.max(now + Math.max(keyDelay, typeDelay, this.slotWaitMs(now)), notBefore))
  }
}

/** Why a message was parked, for its receipt; and the key its `@troupe.throttled` event names. */
export function parkedReason(type: ActorType, key: string, wait: Wait, waiting: number, envelopeKey: string): { reason: string; key: string; scope: 'type' | 'key' } {
  const scope = wait.scope === 'type' || type.kind === 'singleton' ? 'type' : 'key'
  if (wait.slot) {
    const cap = `no free slot of ${type.type}'s concurrency (${type.policy.concurrency} turns at once across every host; next look in ${wait.ms} ms)`
    return { scope: 'type', key: isWaitingItem(type, key) ? envelopeKey : key, reason: isWaitingItem(type, key) ? `${cap}; the message waits` : `${cap}; ${waiting} message(s) of key "${key}" wait` }
  }
  if (isWaitingItem(type, key)) {
    return { scope, key: envelopeKey, reason: `no token of ${type.type}'s throttle, the rate of all its messages together (next in ${wait.ms} ms); the message waits` }
  }
  const reason =
    scope === 'type'
      ? `no token of ${type.type}'s throttle, the rate of all its keys together (next in ${wait.ms} ms); ${waiting} message(s) of key "${key}" wait`
      : `no token of ${type.type}'s throttle for key "${key}" (next in ${wait.ms} ms); ${waiting} message(s) wait`
  return { scope, key, reason }
}
