import { Actor, type Context } from 'troupe'
import type { ResolveUserAgentIn } from '../lib/messages.js'
import { resolveUserAgent, type UserAgentInfo } from '../lib/ua.js'
import { PageStats } from './PageStats.js'

/**
 * Browser and OS of a User-Agent header. Askable (`{ ua }` → `{ browser, os, platform }`);
 * with `view`, the pipeline step that hands the fully enriched view to PageStats.
 */
export class ResolveUserAgent extends Actor<ResolveUserAgentIn, UserAgentInfo> {
  static readonly type = 'resolveUserAgent'

  receive(msg: ResolveUserAgentIn, ctx: Context): UserAgentInfo {
    const info = resolveUserAgent(msg.ua)
    if (msg.view) ctx.tell(PageStats, { url: msg.view.url, country: msg.view.country, browser: info.browser, os: info.os })
    return info
  }
}
