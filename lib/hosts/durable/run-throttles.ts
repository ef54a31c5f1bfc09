// The throttles one run of an instance obeys (instance-run.ts): its key's bucket, carried in its
// item (`throttlePerKey`, a singleton's `throttle`), and the tokens of its type's rate it holds
// (type-rates.ts). A message runs when both have a token for it; else it is parked, and the commit
// keeps the bucket and the tokens and sets the wake-up for when both will have one.
import type { ActorType } from '../../turn/actor-type.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import type { Rate } from '../../supervisor/policy.js'
import type { InstanceMeta } from './instance-meta.js'
import { instanceRate, throttleCommit, typeWakeDelayMs, wakeDelayMs } from './instance-throttle.js'
import type { OutboxEntry } from './outbox.js'
import { HeldTokens } from './type-bucket.js'
import type { TypeGrant } from './durable-batch.js'
import { typeRate } from './type-rates.js'
import { isWaitingItem } from './waiting-message.js'

/** How long a message must wait, and for which throttle. */
export interface Wait {
  ms: number
  scope: 'type' | 'key'
}

export class RunThrottles {
  private constructor(
    private readonly keyRate: Required<Rate> | undefined,
    private readonly bucket: TokenBucket | undefined,
    private readonly typeRate: Required<Rate> | undefined,
    private readonly tokens: HeldTokens | undefined,
    private readonly grant: TypeGrant | undefined,
  ) {}

  /** The throttles of a run of `type` from `meta` at `now`, with the tokens dealt to it; undefined when it has none. */
  static of(type: ActorType, meta: InstanceMeta, grant: TypeGrant | undefined, now: number): RunThrottles | undefined {
    const keyRate = instanceRate(type)
    const rate = typeRate(type)
    if (keyRate === undefined && rate === undefined) return undefined
    return new RunThrottles(keyRate, keyRate && new TokenBucket(keyRate, now, meta.bucket), rate, rate && new HeldTokens(meta.typeTokens, grant?.times), grant)
  }

  /** Undefined when the next message may run at `now` (then `take` its tokens); else how long it must wait, and for which. */
  wait(now: number): Wait | undefined {
    const keyMs = this.bucket?.waitMs(now) ?? 0
    // Holding no token of the type's, it waits for its next claim: when the bucket has one again.
    const typeMs = this.tokens === undefined ? 0 : (this.tokens.waitMs(now) ?? Math.max(1, Math.ceil((this.grant?.nextAt ?? now) - now)))
    if (keyMs === 0 && typeMs === 0) return undefined
    return { ms: Math.max(keyMs, typeMs, 1), scope: typeMs > keyMs ? 'type' : 'key' }
  }

  take(): void {
    this.bucket?.take()
    this.tokens?.take()
  }

  /**
   * The throttles' part of the commit at `version`: the key's bucket, the type's tokens the key
   * keeps (those earned already only for messages that wait here; one still to come is its place
   * in line), and the wake-up of what is parked, when both throttles will have a token.
   */
  commit(type: ActorType, key: string, meta: InstanceMeta, paused: boolean, version: number, entries: OutboxEntry[], now: number): void {
    const { bucket, tokens } = this
    if (bucket !== undefined) meta.bucket = bucket.save()
    if (tokens !== undefined) {
      const keep = tokens.keep(now, meta.parked !== undefined)
      if (keep !== undefined) meta.typeTokens = keep
      else delete meta.typeTokens
    }
    const keyDelay = bucket === undefined ? 0 : wakeDelayMs(bucket, this.keyRate!, meta.parked?.length ?? 0, now)
    const typeDelay = tokens === undefined ? 0 : typeWakeDelayMs(tokens, this.grant?.nextAt, this.typeRate!, now)
    throttleCommit(type, key, meta, paused, version, entries, now + Math.max(keyDelay, typeDelay))
  }
}

/** Why a message was parked, for its receipt; and the key its `@troupe.throttled` event names. */
export function parkedReason(type: ActorType, key: string, wait: Wait, waiting: number, envelopeKey: string): { reason: string; key: string; scope: 'type' | 'key' } {
  const scope = wait.scope === 'type' || type.kind === 'singleton' ? 'type' : 'key'
  if (isWaitingItem(type, key)) {
    return { scope, key: envelopeKey, reason: `no token of ${type.type}'s throttle, the rate of all its messages together (next in ${wait.ms} ms); the message waits` }
  }
  const reason =
    scope === 'type'
      ? `no token of ${type.type}'s throttle, the rate of all its keys together (next in ${wait.ms} ms); ${waiting} message(s) of key "${key}" wait`
      : `no token of ${type.type}'s throttle for key "${key}" (next in ${wait.ms} ms); ${waiting} message(s) wait`
  return { scope, key, reason }
}
