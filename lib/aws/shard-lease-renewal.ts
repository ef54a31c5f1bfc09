// Keeping the leases of the shards a consumer reads (shard-consumer.ts is the map): each is renewed
// every leaseMs / 3. A renewal that finds the lease taken stops that shard's reader at once; one
// that finds another consumer asking for the shard (short of its share, shard-share.ts) stops the
// reader to hand the shard over.
import { LeaseLostError } from '../store/dynamodb-leases.js'
import type { ConsumerSettings } from './shard-consumer-options.js'
import type { ShardReader } from './shard-reader.js'

/** What renewing needs of the consumer. */
export interface RenewalHost {
  /** The readers whose leases to renew. */
  readers(): Iterable<ShardReader>
  /** Still taking shards: a stopping consumer hands none over, it releases them all. */
  running(): boolean
  /** Every reader has stopped: nothing is left to renew. */
  stopped(): boolean
}

export class LeaseRenewal {
  private wakeUp: (() => void) | undefined

  constructor(
    private readonly settings: ConsumerSettings,
    private readonly host: RenewalHost,
  ) {}

  /** Renews until the consumer has stopped. */
  async loop(): Promise<void> {
    const every = Math.max(1, Math.floor(this.settings.leaseMs / 3))
    while (!this.host.stopped()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, every)
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.wakeUp = done
      })
      this.wakeUp = undefined
      if (this.host.stopped()) break
      await Promise.all([...this.host.readers()].map((r) => this.renew(r, every)))
    }
  }

  /** Ends the wait for the next renewal, so the loop sees the consumer stopped. */
  wake(): void {
    this.wakeUp?.()
  }

  /**
   * Renews one reader's lease, given up after `withinMs` (the time to the next round): a renewal
   * that falls silent would hold the round, so every lease would run out behind it; and what the SDK
   * sends again carries the expiry reckoned before the first try, which is short by then.
   */
  private async renew(reader: ShardReader, withinMs: number): Promise<void> {
    const { leases, owner, leaseMs, logger } = this.settings
    const { stream, shardId } = reader
    try {
      const now = Date.now()
      const lease = await leases.renew(stream, shardId, owner, leaseMs, now, AbortSignal.timeout(withinMs))
      reader.leaseRenewed(lease.expiresAt)
      if (lease.wantedBy !== undefined && lease.wantedBy !== owner && (lease.wantedUntil ?? 0) > now && !reader.stopping && this.host.running()) {
        logger.info('handing a shard over', { stream, shardId, to: lease.wantedBy })
        void reader.stop('handedOver')
      }
    } catch (e) {
      // A stopping reader may have released its lease while this renew was on its way.
      if (e instanceof LeaseLostError) {
        if (!(reader.stopping && e.holder === owner)) reader.lose(e)
      } else logger.warn('renewing a lease failed; trying again', { stream, shardId, error: e })
    }
  }
}
