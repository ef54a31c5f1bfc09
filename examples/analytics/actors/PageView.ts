import { Actor, drop, type Context } from 'troupe'
import { pageViewSchema, type PageViewBody } from '../lib/messages.js'
import { isBot } from '../lib/ua.js'
import { GeoIpLookup } from './GeoIpLookup.js'

/**
 * The entry of the pipeline: one page view as the API received it. The schema rejects a
 * malformed view at `tell` (the API answers 400); the filter drops crawlers before
 * `receive`, so they end as "filtered", not counted. The view then travels on through
 * GeoIpLookup and ResolveUserAgent to PageStats, carried in the message bodies.
 */
export class PageView extends Actor<PageViewBody> {
  static readonly type = 'pageView'
  static readonly schema = pageViewSchema

  filter(msg: PageViewBody) {
    if (isBot(msg.ua)) return drop(`crawler: ${msg.ua.slice(0, 60)}`)
    return undefined
  }

  receive(msg: PageViewBody, ctx: Context) {
    ctx.tell(GeoIpLookup, { ip: msg.ip, view: msg })
  }
}
