import { Actor } from 'troupe'
import type { ResolveUserAgentIn } from '../lib/messages.js'
import { resolveUserAgent, type UserAgentInfo } from '../lib/ua.js'

/**
 * Browser and OS of a User-Agent header: `{ ua }` → `{ browser, os, platform }`. A plain
 * request/reply actor: PageView forks it (with GeoIpLookup) for every view; it can be asked too.
 */
export class ResolveUserAgent extends Actor<ResolveUserAgentIn, UserAgentInfo> {
  static readonly type = 'resolveUserAgent'

  receive(msg: ResolveUserAgentIn): UserAgentInfo {
    return resolveUserAgent(msg.ua)
  }
}
