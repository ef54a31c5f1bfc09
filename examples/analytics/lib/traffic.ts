// Realistic synthetic traffic: page views from a fixed site, visitors from real public
// address blocks in several countries, real browser User-Agent strings, a few crawlers,
// and a handful of malformed views seeded on purpose. Seeded, so a run is reproducible.

import type { PageViewBody } from './messages.js'

type Weighted<T> = readonly (readonly [T, number])[]

function pick<T>(items: Weighted<T>, random: () => number): T {
  let total = 0
  for (const [, w] of items) total += w
  let r = random() * total
  for (const [item, w] of items) if ((r -= w) < 0) return item
  return items[items.length - 1]![0]
}

const SITE = 'https://shop.example.com'

/** The site's pages and how popular each is. */
export const PAGES: Weighted<string> = [
  [`${SITE}/`, 30],
  [`${SITE}/products`, 16],
  [`${SITE}/products/espresso-machine`, 11],
  [`${SITE}/products/burr-grinder`, 8],
  [`${SITE}/blog/dialing-in-espresso`, 9],
  [`${SITE}/pricing`, 6],
  [`${SITE}/cart`, 7],
  [`${SITE}/checkout`, 4],
  [`${SITE}/about`, 3],
  [`${SITE}/docs/getting-started`, 5],
]

/**
 * Public /24 blocks and the country the bundled data gives every address in them
 * (checked address by address when this list was made). Weights roughly follow a
 * shop's audience.
 */
export const ADDRESS_BLOCKS: Weighted<readonly [prefix: string, country: string]> = [
  [['8.8.8', 'US'], 6], // Google
  [['4.2.2', 'US'], 5], // Level 3
  [['52.94.236', 'US'], 5], // Amazon
  [['98.137.11', 'US'], 4], // Yahoo
  [['24.48.0', 'CA'], 4], // Cogeco
  [['85.214.132', 'DE'], 5], // Strato
  [['46.4.0', 'DE'], 4], // Hetzner
  [['193.99.144', 'DE'], 2], // Heise
  [['81.2.69', 'GB'], 4],
  [['212.58.244', 'GB'], 3], // BBC
  [['90.84.0', 'FR'], 3], // Orange
  [['62.4.0', 'FR'], 2],
  [['145.220.0', 'NL'], 2], // SURF
  [['133.242.0', 'JP'], 3], // Sakura Internet
  [['210.130.1', 'JP'], 2], // IIJ
  [['117.192.0', 'IN'], 3], // BSNL
  [['200.147.67', 'BR'], 2], // UOL
  [['177.72.0', 'BR'], 2],
  [['203.2.218', 'AU'], 2],
  [['139.130.4', 'AU'], 2], // Telstra
  [['41.0.0', 'ZA'], 1],
  [['190.210.0', 'AR'], 1],
]

/** Real User-Agent strings: Chrome, Safari, Edge and Firefox on Windows, macOS, Linux, Android and iOS. */
export const USER_AGENTS: Weighted<string> = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 24],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 8],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36', 3],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 14],
  ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36', 6],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1', 3],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 6],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 13],
  ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 2],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 6],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 1],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.0.0', 1],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 3],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 1],
  ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0', 2],
  ['Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0', 1],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15', 1],
]

/** Crawlers: valid views that PageView's filter drops. */
export const CRAWLER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/126.0.6478.126 Safari/537.36',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)',
]

/** What should become of a posted request, so the run can check every one was accounted for. */
export type Expectation =
  /** Counted by PageStats. */
  | 'counted'
  /** Accepted, then dropped by PageView's filter. */
  | 'filtered'
  /** Rejected by the API with 400. */
  | 'rejected'
  /**
   * Accepted; its GeoIpLookup dead-lettered at once (TerminalError), so its join is
   * incomplete and the view is counted under country "unknown".
   */
  | 'dead'
  /** The same, but GeoIpLookup is retried by its policy before it is dead-lettered. */
  | 'dead-after-retries'

export interface Request {
  /** The raw request body: JSON, or on purpose something that is not. */
  body: string
  expect: Expectation
  /** Why this one is here, for the report. */
  note: string
}

export interface Traffic {
  requests: Request[]
  /** Visitor addresses used, with the country the data gives them. */
  visitors: Map<string, string>
}

/**
 * `views` good page views from `visitorCount` visitors, plus about one crawler view per 200
 * and the seeded malformed ones, shuffled together.
 */
export function generateTraffic(views: number, random: () => number, visitorCount = 120): Traffic {
  const visitors = new Map<string, string>()
  while (visitors.size < visitorCount) {
    const [prefix, country] = pick(ADDRESS_BLOCKS, random)
    visitors.set(`${prefix}.${1 + Math.floor(random() * 254)}`, country)
  }
  const visitorIps = [...visitors.keys()]
  const visitor = () => visitorIps[Math.floor(random() * visitorIps.length)]!
  const view = (fields: Partial<PageViewBody> = {}): PageViewBody => ({
    url: pick(PAGES, random),
    ip: visitor(),
    ua: pick(USER_AGENTS, random),
    ...fields,
  })

  const requests: Request[] = []
  for (let i = 0; i < views; i++) requests.push({ body: JSON.stringify(view()), expect: 'counted', note: 'page view' })
  const crawlers = Math.ceil(views / 200)
  for (let i = 0; i < crawlers; i++) {
    requests.push({ body: JSON.stringify(view({ ua: CRAWLER_AGENTS[i % CRAWLER_AGENTS.length]! })), expect: 'filtered', note: 'crawler' })
  }
  for (const bad of malformed(view)) requests.push(bad)

  // Fisher–Yates, so the bad ones arrive in the middle of the flood.
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[requests[i], requests[j]] = [requests[j]!, requests[i]!]
  }
  return { requests, visitors }
}

/** The malformed views seeded on purpose. */
function malformed(view: (fields?: Partial<PageViewBody>) => PageViewBody): Request[] {
  const json = (value: unknown) => JSON.stringify(value)
  const { ua: _ua, ...withoutUa } = view()
  return [
    // Rejected by PageView's schema at tell: the API answers 400 naming the field.
    { body: json(withoutUa), expect: 'rejected', note: 'no user agent' },
    { body: json(view({ ip: '301.12.7.9' })), expect: 'rejected', note: 'IP octet out of range' },
    { body: json({ ...view(), ip: 134744072 }), expect: 'rejected', note: 'IP as a number' },
    { body: json(view({ url: 'javascript:alert(1)' })), expect: 'rejected', note: 'not an http(s) URL' },
    { body: json(view({ ua: '' })), expect: 'rejected', note: 'empty user agent' },
    // Rejected by the API before troupe sees it.
    { body: 'url=/pricing&ip=8.8.8.8', expect: 'rejected', note: 'form-encoded, not JSON' },
    // Valid by the schema, but GeoIpLookup can never place them: dead-lettered at once; the
    // view's join comes without a country and the view is counted under "unknown".
    { body: json(view({ ip: '10.20.30.40' })), expect: 'dead', note: 'private address (10.0.0.0/8)' },
    { body: json(view({ ip: '192.168.1.23' })), expect: 'dead', note: 'private address (192.168.0.0/16)' },
    { body: json(view({ ip: '172.20.4.2' })), expect: 'dead', note: 'private address (172.16.0.0/12)' },
    { body: json(view({ ip: '127.0.0.1' })), expect: 'dead', note: 'loopback address' },
    // Public, but the data has no range for it: a plain Error, retried by the policy, then dead.
    { body: json(view({ ip: '102.197.33.7' })), expect: 'dead-after-retries', note: 'address missing from the geo data' },
  ]
}
