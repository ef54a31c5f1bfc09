// The crawl over any System: start the generated site, tell the seed, wait until the crawl has
// run its course, and report pages per host, broken links (the dead letters) and what was dropped.
import type { System } from 'troupe'
import { PageUrl } from './actors/PageUrl.js'
import { startSite, type Site, type SiteOptions } from './site.js'

export interface CrawlReport {
  hosts: { host: string; pages: number; bytes: number; maxConcurrent: number }[]
  /** The broken links: the dead letters of PageUrl. */
  broken: { url: string; from: string | null; error: string }[]
  /** Links dropped by the filter (blocklisted or off-site). */
  filtered: number
  /** Requests for blocklisted paths the site saw: always 0. */
  blockedRequests: number
  /** The slow page was crawled too. */
  slowPageCrawled: boolean
  site: Site
  ms: number
}

export async function runCrawl(system: System, options: SiteOptions = {}): Promise<CrawlReport> {
  const started = performance.now()
  const site = await startSite(options)
  try {
    await system.tell(PageUrl, { url: site.seed, referrer: null, scope: site.hosts })
    await system.idle()
    const hosts = []
    for (const host of site.hosts) {
      const state = await system.state(PageUrl, host)
      hosts.push({ host, pages: state?.visited.length ?? 0, bytes: state?.bytes ?? 0, maxConcurrent: site.stats.get(host)!.maxConcurrent })
    }
    const broken = (await system.deadLetters({ type: PageUrl.type })).map((d) => {
      const body = d.envelope.body as { url: string; referrer: string | null }
      return { url: body.url, from: body.referrer, error: d.error.message }
    })
    let blockedRequests = 0
    for (const s of site.stats.values()) for (const [path, n] of s.hits) if (/^\/(logout|admin)|\.pdf$/.test(path)) blockedRequests += n
    const first = await system.state(PageUrl, site.hosts[0]!)
    return {
      hosts,
      broken: broken.sort((a, b) => a.url.localeCompare(b.url)),
      filtered: system.inspect().actors.find((a) => a.type === PageUrl.type)?.counts.filtered ?? 0,
      blockedRequests,
      slowPageCrawled: first?.visited.includes(`http://${site.hosts[0]}/slow`) ?? false,
      site,
      ms: Math.round(performance.now() - started),
    }
  } finally {
    await site.close()
  }
}
