// The crawler example end to end, in both modes: every page of the generated site crawled once
// per host, one fetch at a time per host, the broken links as dead letters, the blocklist
// never requested.
import t from 'tap'
import { crawl } from '../../examples/crawler/crawl.js'
import { runCrawl } from '../../examples/crawler/run.js'
import { exampleModes } from './fixtures/modes.js'

// Links to a host need no order among themselves: let them share PutRecords calls.
for (const mode of exampleModes(t, { ordering: 'batched' })) {
  t.test(`${mode.name}: crawls the site`, async (t) => {
    const { system, close } = await mode.start({ actors: crawl.actors })
    t.teardown(close)
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
  })
}
