// How many shards a consumer reads (shard-consumer.ts is the map): its share is
// ceil(open shards / consumers seen). It takes free shards up to its share, and when it has fewer
// while others hold more, asks the busiest owners to hand one over each (see dynamodb-leases.ts);
// an owner hands a shard over at its next renewal (shard-lease-renewal.ts).
import type { ConsumerSettings } from './shard-consumer-options.js'
import { wantedByOther, type HeldShard, type ListedShard } from './shard-listing.js'

/** The shards each consumer seen should read: the open ones (read or free) shared out evenly, rounded up. */
export function shareOf(listed: readonly ListedShard[], load: ReadonlyMap<string, number>): number {
  const open = listed.filter((s) => s.status === 'mine' || s.status === 'other' || s.status === 'free').length
  return Math.ceil(open / load.size)
}

/**
 * Short of a share while others hold more: asks the busiest for shards, one request each, counting
 * the requests of this consumer that still stand. `load` is lowered by each request granted.
 */
export async function askForShards(
  { leases, owner, leaseMs, logger }: ConsumerSettings,
  held: HeldShard[],
  load: Map<string, number>,
  share: number,
  mine: number,
  now: number,
): Promise<void> {
  let missing = share - mine - held.filter((s) => s.lease.wantedBy === owner && (s.lease.wantedUntil ?? 0) > now).length
  if (missing <= 0) return
  for (const s of held.sort((a, b) => load.get(b.owner)! - load.get(a.owner)!)) {
    if (missing <= 0) break
    if (load.get(s.owner)! <= share || wantedByOther(s.lease, owner, now) || s.lease.wantedBy === owner) continue
    try {
      if (await leases.requestHandOver(s.stream, s.shardId, owner, s.owner, now + leaseMs, now)) {
        logger.info('asked for a shard', { stream: s.stream, shardId: s.shardId, holder: s.owner, share })
        load.set(s.owner, load.get(s.owner)! - 1)
        missing--
      }
    } catch (e) {
      logger.warn('asking for a shard failed', { stream: s.stream, shardId: s.shardId, holder: s.owner, error: e })
    }
  }
}
