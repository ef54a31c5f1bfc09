import { Actor, drop, type Context } from 'troupe'
import { pageViewSchema, type PageViewBody } from '../lib/messages.js'
import { isBot } from '../lib/ua.js'
import { EnrichedPageView } from './EnrichedPageView.js'
import { GeoIpLookup } from './GeoIpLookup.js'
import { ResolveUserAgent } from './ResolveUserAgent.js'

/** How long a view's join waits for its lookups; past it, EnrichedPageView gets what came. */
export const JOIN_TIMEOUT_MS = 5_000

/**
 * The entry of the pipeline: one page view as the API received it. The schema rejects a
 * malformed view at `tell` (the API answers 400); the filter drops crawlers before
 * `receive`, so they end as "filtered", not counted. A view's turn forks its two lookups,
 * which run at once, and names the actor that gets both replies: EnrichedPageView receives
 * `[geo, agent]`, typed from the fork, with the view itself passed along as `value`.
 */
export class PageView extends Actor<PageViewBody> {
  static readonly type = 'pageView'
  static readonly schema = pageViewSchema

  filter(msg: PageViewBody) {
    if (isBot(msg.ua)) return drop(`crawler: ${msg.ua.slice(0, 60)}`)
    return undefined
  }

  receive(view: PageViewBody, ctx: Context) {
    ctx
      .fork([[GeoIpLookup, { ip: view.ip }], [ResolveUserAgent, { ua: view.ua }]] as const)
      .join(EnrichedPageView, { timeoutMs: JOIN_TIMEOUT_MS, value: view })
  }
}
