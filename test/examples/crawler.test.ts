// The crawler example end to end, in both modes: every page of the generated site crawled once
// per host, one fetch at a time per host, within the per-host rate, the broken links as dead
// letters, the blocklist never requested.
import t from 'tap'
import { pipeline, type TroupeEvent } from 'troupe'
import { PageBody } from '../../examples/crawler/actors/PageBody.js'
import { PageUrl } from '../../examples/crawler/actors/PageUrl.js'
import { runCrawl } from '../../examples/crawler/run.js'
import { exampleModes } from './fixtures/modes.js'

/**
 * The example's PageUrl with a per-host rate that binds on this small site: about 270 messages per
 * host (pages, links seen before, filtered links; each takes a token) at 50/s take over 5 s, where
 * without a throttle they run in about one.
 */
class PolitePageUrl extends PageUrl {
  static override readonly policy = { ...PageUrl.policy, throttlePerKey: { ratePerSecond: 50, burst: 5 } }
}
/** The example's crawl (examples/crawler/crawl.ts) over it. */
const crawl = pipeline('crawl').from(PolitePageUrl).pipe(PageBody).each(PolitePageUrl)

// Links to a host need no order among themselves: let them share PutRecords calls.
for (const mode of exampleModes(t, { ordering: 'batched' })) {
  t.test(`${mode.name}: crawls the site`, async (t) => {
    const { system, close } = await mode.start({ actors: crawl.actors })
    t.teardown(close)
    const ends: TroupeEvent[] = []
    system.on((e) => {
      if ((e.type === '@troupe.done' || e.type === '@troupe.dead') && e.envelope.type === PageUrl.type) ends.push(e)
    })
    const r = await runCrawl(system, { pagesPerHost: 30, slowMs: 600 })
    for (const host of r.hosts) {
      const expected = r.site.pages.get(host.host)!
      t.equal(host.pages, expected.length, `${host.host}: every page crawled`)
      t.equal(host.maxConcurrent, 1, `${host.host}: one request at a time`)
      const hits = r.site.stats.get(host.host)!.hits
      for (const url of expected) t.ok((hits.get(new URL(url).pathname) ?? 0) >= 1, `${url} fetched`)
    }
    t.ok(r.slowPageCrawled, 'the slow page too')
    t.same(
      r.broken.map((b) => [b.url, b.from]),
      [...r.site.broken].sort((a, b) => a.url.localeCompare(b.url)).map((b) => [b.url, b.from]),
      'each broken link is a dead letter naming the page that links it',
    )
    t.ok(r.broken.every((b) => /answered 404/.test(b.error)))
    t.equal(r.blockedRequests, 0, 'no blocklisted path was ever requested')
    t.ok(r.filtered > 0, `${r.filtered} links dropped by the filter`)
    for (const host of r.hosts) {
      const turns = ends.filter((e) => 'envelope' in e && e.envelope.key === host.host).map((e) => e.at)
      const { ratePerSecond, burst } = PolitePageUrl.policy.throttlePerKey
      const excess = burstOver(turns, ratePerSecond)
      t.ok(excess <= burst, `${host.host}: ${turns.length} turns, never more than the burst (${burst}) ahead of ${ratePerSecond}/s: at most ${excess.toFixed(1)}`)
    }
  })
}

/**
 * How far one key's turns ran ahead of `ratePerSecond`: the most, over every run of consecutive
 * turns i..j, of their number minus the tokens the rate gives between the end of turn i-1 and the
 * end of turn j. A turn takes its token after the one before it ended and before it ends itself,
 * on the clock the events carry, so a token bucket keeps this at or below its burst however fast
 * or slow the machine; turns that ignore the throttle run hundreds ahead.
 */
function burstOver(ends: number[], ratePerSecond: number): number {
  const at = [...ends].sort((a, b) => a - b)
  let most = 0
  for (let i = 1; i < at.length; i++) {
    for (let j = i; j < at.length; j++) most = Math.max(most, j - i + 1 - (ratePerSecond * (at[j]! - at[i - 1]!)) / 1000)
  }
  return most
}
