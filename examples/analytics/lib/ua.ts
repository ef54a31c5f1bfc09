// Browser and operating system from a User-Agent header, with bowser (MIT).

import Bowser from 'bowser'

export interface UserAgentInfo {
  /** "Chrome", "Firefox", "Safari", "Microsoft Edge", … or "Other". */
  browser: string
  /** "Windows", "macOS", "Linux", "Android", "iOS", … or "Other". */
  os: string
  /** "desktop", "mobile", "tablet", "tv", "bot" or "unknown". */
  platform: string
}

export function resolveUserAgent(ua: string): UserAgentInfo {
  const parsed = Bowser.parse(ua)
  return {
    browser: parsed.browser.name || 'Other',
    os: parsed.os.name || 'Other',
    platform: parsed.platform.type || 'unknown',
  }
}

/** Crawlers and monitoring bots, which an analytics pipeline does not count as page views. */
export function isBot(ua: string): boolean {
  return Bowser.parse(ua).platform.type === 'bot' || /\b(bot|crawler|spider|slurp)\b/i.test(ua)
}
