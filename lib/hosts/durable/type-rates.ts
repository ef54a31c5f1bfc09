// A type's rate (`policy.throttle`) in the durable host, for the actors whose turns no one item
// sees (type-bucket.ts has the math): before a batch runs, each throttled type's groups say how
// many tokens they ask for, one claim per type takes them all from the type's bucket item, and
// the tokens are dealt to the groups, the smallest ask first. A group holds its tokens across
// reruns (a conflict), and its commit keeps in the instance's item those it did not use yet.
// So the bucket costs one UpdateItem per batch per throttled type, never one per message.
import type { Logger } from '../../core/logger.js'
import type { TypeBucketStore } from '../../store/index.js'
import type { Rate } from '../../core/policy-options.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { Group, Source } from './durable-batch.js'
import { decodeMeta, reached } from './instance-meta.js'
import { dealTokens, floorAt, HeldTokens, periodMs, shareOf, tokenTimes } from './type-bucket.js'
import { parkedRetryAt } from './retry-parking.js'
import { keepsItem } from './waiting-message.js'

/** Rounds of a claim when other hosts move the clock across the floor in between (rare). */
const MAX_CLAIM_ROUNDS = 4

/**
 * The rate a type's bucket item holds for `type`: `throttle` of a keyed actor with state, or of a
 * stateless one. (A singleton's `throttle` lives in its one item, see instance-throttle.ts; a keyed
 * actor without state has no item to keep its keys' order while they wait, and is not throttled.)
 */
export function typeRate(type: ActorType): Required<Rate> | undefined {
  return (type.kind === 'keyed' && type.stateful) || type.kind === 'stateless' ? type.policy.throttle : undefined
}

export class TypeRates {
  /** Where each type's clock stood after this host's last claim: which update to try first. */
  private readonly lastClock = new Map<string, number>()

  constructor(
    private readonly store: TypeBucketStore,
    private readonly logger: Logger,
  ) {}

  /** Deals each throttled type's tokens to its groups (`Group.grant`): one claim per type. */
  async grant(groups: readonly Group[], source: Source, now: number): Promise<void> {
    const byType = new Map<ActorType, Group[]>()
    for (const g of groups) {
      if (typeRate(g.type) === undefined) continue
      let list = byType.get(g.type)
      if (!list) byType.set(g.type, (list = []))
      list.push(g)
    }
    await Promise.all([...byType].map(([type, list]) => this.grantType(type, typeRate(type)!, list, source, now)))
  }

  private async grantType(type: ActorType, rate: Required<Rate>, groups: Group[], source: Source, now: number): Promise<void> {
    const asks = groups.map((g) => askOf(g, source, rate, now))
    const total = asks.reduce((a, b) => a + b, 0)
    if (total === 0) return
    let claimed: { before: number; after: number }
    try {
      claimed = await this.claim(type.type, rate, total, now)
    } catch (error) {
      // No tokens: the messages wait in their items and their wake-ups claim again.
      this.logger.warn("could not claim from the type's rate bucket; its messages wait", { actor: type.type, error: error instanceof Error ? error.message : String(error) })
      for (const g of groups) g.grant = { times: [], nextAt: now + periodMs(rate) }
      return
    }
    const dealt = dealTokens(asks, tokenTimes(rate, claimed.before, total))
    const nextAt = Math.max(now, claimed.after + periodMs(rate))
    groups.forEach((g, i) => (g.grant = { times: dealt[i]!, nextAt }))
  }

  /** Claims `n` tokens: one conditional update; two when the guess of which side of the floor the clock stands on was wrong. */
  async claim(type: string, rate: Required<Rate>, n: number, now: number): Promise<{ before: number; after: number }> {
    const by = n * periodMs(rate)
    const floor = floorAt(rate, now)
    const kept = { ratePerSecond: rate.ratePerSecond, burst: rate.burst }
    // Where this host last left the clock says which side of the floor it likely stands on; not
    // knowing, it guesses a bucket in use (or new: advancing makes it).
    let restartFirst = (this.lastClock.get(type) ?? Infinity) < floor
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      if (restartFirst) {
        if (await this.store.restart(type, floor + by, floor, kept)) return this.claimed(type, floor, by)
      } else {
        const before = await this.store.advance(type, by, floor, kept)
        if (before !== undefined) return this.claimed(type, before, by)
      }
      restartFirst = !restartFirst
    }
    // Neither side of the floor: a clock that is not a number (written by hand) meets neither condition.
    const read = await Promise.resolve(this.store.read(type)).catch(() => null)
    if (read === undefined) throw new Error(`the rate bucket of ${type} (rate#${type}, bucket) refused ${MAX_CLAIM_ROUNDS} updates and holds no clock as troupe writes it (a number of epoch ms): changed by hand? delete the item (the bucket starts full) or set its clock to a number`)
    throw new Error(`the clock of ${type}'s rate bucket kept moving across its floor; ${MAX_CLAIM_ROUNDS} updates lost`)
  }

  private claimed(type: string, before: number, by: number): { before: number; after: number } {
    this.lastClock.set(type, before + by)
    return { before, after: before + by }
  }
}

/**
 * How many tokens a group asks for: one per message it may run (what waits in the item, and its
 * records not read before), less the tokens it holds, at most its share; none while it is paused
 * or holds a token not earned yet (it has its place in line), and none when it only meets records
 * read before (a redelivery runs nothing that waits: instance-run.ts).
 */
function askOf(group: Group, source: Source, rate: Required<Rate>, now: number): number {
  // A stateless message: one token, unless it is a copy of one run before.
  if (!keepsItem(group.type, group.key)) return group.copy ? 0 : 1
  const meta = decodeMeta(group.stored?.meta)
  if (group.typePaused || meta.paused) return 0
  const held = new HeldTokens(meta.typeTokens)
  if ((held.lastAt() ?? -Infinity) > now) return 0
  // Its line waits for a failed message's retry: tokens claimed now would lapse unused.
  if ((parkedRetryAt(meta) ?? -Infinity) > now) return 0
  let late = source.kind === 'direct'
  let fresh = 0
  for (const r of group.records) {
    if (source.kind === 'shard' && reached(meta, source.shard, r.sequenceNumber!, r.member?.index)) continue
    late = true
    if (r.envelope.control === undefined) fresh++
  }
  if (!late) return 0
  const demand = (meta.parked?.length ?? 0) + (meta.held?.length ?? 0) + fresh
  return Math.max(0, Math.min(demand - held.size, shareOf(rate)))
}
