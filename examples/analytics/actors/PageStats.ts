import { Actor, type Context } from 'troupe'
import type { PageStatsIn, PageStatsState } from '../lib/messages.js'

/**
 * Views of one page, by country, browser and OS. Keyed by url: one instance per page,
 * one turn at a time per page, so the counters need no locks. Views whose enrichment was
 * incomplete are counted too (under "unknown"), and tallied by what was missing.
 */
export class PageStats extends Actor<PageStatsIn, void, PageStatsState> {
  static readonly type = 'pageStats'

  key(msg: PageStatsIn) {
    return msg.url
  }

  initialState(): PageStatsState {
    return { views: 0, byCountry: {}, byBrowser: {}, byOs: {}, incomplete: 0, missing: {} }
  }

  receive(msg: PageStatsIn, ctx: Context<PageStatsState>) {
    const s = ctx.state
    s.views++
    s.byCountry[msg.country] = (s.byCountry[msg.country] ?? 0) + 1
    s.byBrowser[msg.browser] = (s.byBrowser[msg.browser] ?? 0) + 1
    s.byOs[msg.os] = (s.byOs[msg.os] ?? 0) + 1
    if (msg.missing !== undefined && msg.missing.length > 0) {
      s.incomplete++
      for (const m of msg.missing) s.missing[m] = (s.missing[m] ?? 0) + 1
    }
  }
}
