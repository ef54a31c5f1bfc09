import { Actor, TerminalError, type Context } from 'troupe'
import { openGeoDb, ReservedAddressError } from '../lib/geo.js'
import { geoIpLookupSchema, type GeoIpLookupIn, type GeoIpLookupReply } from '../lib/messages.js'
import { ResolveUserAgent } from './ResolveUserAgent.js'

/**
 * Country of an IP address. Ask it (`{ ip }` → `{ country }`), as the GET /geo handler
 * does; or tell it `{ ip, view }` as a pipeline step, and it passes the view on with its
 * country to ResolveUserAgent.
 *
 * Failures show both kinds of supervision:
 * - a private or reserved address can never have a country: TerminalError, so the
 *   message is dead-lettered at once, without retries;
 * - a public address the data has no range for throws a plain Error, which the policy
 *   retries (the data might be mid-refresh) and then dead-letters, to be replayed once
 *   the data is updated.
 */
export class GeoIpLookup extends Actor<GeoIpLookupIn, GeoIpLookupReply> {
  static readonly type = 'geoIpLookup'
  static readonly schema = geoIpLookupSchema
  // Small delays keep the example fast; the defaults are 5 attempts, 100 ms to 30 s.
  static readonly policy = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 }

  async receive(msg: GeoIpLookupIn, ctx: Context): Promise<GeoIpLookupReply> {
    const db = await openGeoDb()
    let country: string
    try {
      country = db.country(msg.ip)
    } catch (error) {
      if (error instanceof ReservedAddressError) throw new TerminalError(error.message, { cause: error })
      throw error
    }
    if (msg.view) ctx.tell(ResolveUserAgent, { ua: msg.view.ua, view: { ...msg.view, country } })
    return { country }
  }
}
