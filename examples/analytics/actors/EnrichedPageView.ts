import { Actor, type Context, type Joined } from 'troupe'
import type { PageViewBody } from '../lib/messages.js'
import type { GeoIpLookup } from './GeoIpLookup.js'
import { PageStats } from './PageStats.js'
import type { ResolveUserAgent } from './ResolveUserAgent.js'

/**
 * What a view's join brings: the replies of GeoIpLookup and ResolveUserAgent, in fork
 * order, and the view itself (`value`). A union on `complete`: when a lookup died or missed
 * the deadline, its reply is `undefined` and `missing` says which one and how it ended.
 */
export type EnrichedPageViewIn = Joined<[typeof GeoIpLookup, typeof ResolveUserAgent], PageViewBody>

/** What PageStats counts a view under when a lookup gave no answer. */
export const UNKNOWN = 'unknown'

/**
 * The join of PageView's fork: runs exactly once per view, with both lookups' replies,
 * and hands the enriched view to PageStats.
 *
 * A join can be incomplete: GeoIpLookup dead-letters private addresses and addresses the
 * data lacks (on purpose, in the generated traffic), or a lookup may miss the deadline.
 * The view still happened, so it is counted all the same: under "unknown" for what is
 * missing, with the missing lookups and how they ended (e.g. "geoIpLookup dead") passed
 * on, so PageStats can say how many of a page's views lack a country and why. The failed
 * lookup itself is in the dead letters, under the view's correlation id.
 */
export class EnrichedPageView extends Actor<EnrichedPageViewIn> {
  static readonly type = 'enrichedPageView'

  receive(msg: EnrichedPageViewIn, ctx: Context) {
    const view = msg.value
    if (msg.complete) {
      const [geo, agent] = msg.replies // both present, typed: { country } and { browser, os, platform }
      ctx.tell(PageStats, { url: view.url, country: geo.country, browser: agent.browser, os: agent.os })
      return
    }
    const [geo, agent] = msg.replies // each may be undefined here
    ctx.tell(PageStats, {
      url: view.url,
      country: geo?.country ?? UNKNOWN,
      browser: agent?.browser ?? UNKNOWN,
      os: agent?.os ?? UNKNOWN,
      missing: msg.missing.map((m) => `${m.actor} ${m.status}`),
    })
  }
}
