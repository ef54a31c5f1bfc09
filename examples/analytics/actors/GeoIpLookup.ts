import { Actor, TerminalError } from 'troupe'
import { openGeoDb, ReservedAddressError } from '../lib/geo.js'
import { geoIpLookupSchema, type GeoIpLookupIn, type GeoIpLookupReply } from '../lib/messages.js'

/**
 * Country of an IP address: `{ ip }` → `{ country }`. A plain request/reply actor: PageView
 * forks it (with ResolveUserAgent) for every view, and the GET /geo handler asks it.
 *
 * Failures show both kinds of supervision:
 * - a private or reserved address can never have a country: TerminalError, so the
 *   message is dead-lettered at once, without retries;
 * - a public address the data has no range for throws a plain Error, which the policy
 *   retries (the data might be mid-refresh) and then dead-letters, to be replayed once
 *   the data is updated.
 * Either way a fork that asked gets its join without this reply (see EnrichedPageView),
 * and an ask is rejected (GET /geo answers 422).
 */
export class GeoIpLookup extends Actor<GeoIpLookupIn, GeoIpLookupReply> {
  static readonly type = 'geoIpLookup'
  static readonly schema = geoIpLookupSchema
  // Small delays keep the example fast; the defaults are 5 attempts, 100 ms to 30 s.
  static readonly policy = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 }

  async receive(msg: GeoIpLookupIn): Promise<GeoIpLookupReply> {
    const db = await openGeoDb()
    try {
      return { country: db.country(msg.ip) }
    } catch (error) {
      if (error instanceof ReservedAddressError) throw new TerminalError(error.message, { cause: error })
      throw error
    }
  }
}
