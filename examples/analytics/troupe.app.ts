// The flagship example in the AWS mode, on this machine:
//   npx troupe dev --app examples/analytics/troupe.app.ts      (or: npm run dev)
// troupe dev starts DynamoDB and Kinesis on 127.0.0.1 (data under .troupe/), creates the table
// and stream, and runs these actors on them; start() serves the example's HTTP API in front of
// that system (PORT picks its port; a free one by default). Then, from another shell:
//   curl -X POST -H 'content-type: application/json' \
//     -d '{"url":"https://example.com/","ip":"8.8.8.8","ua":"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}' <api>/pageview
//   curl '<api>/geo?ip=85.214.132.117'
// Under --once it posts that one view itself and asks /geo, so the run shows the whole pipeline.
// `npm start` is unchanged: the embedded system, fed generated traffic (main.ts, run.ts).
import { defineApp } from 'troupe/aws'
import { EnrichedPageView } from './actors/EnrichedPageView.js'
import { GeoIpLookup } from './actors/GeoIpLookup.js'
import { PageStats } from './actors/PageStats.js'
import { PageView } from './actors/PageView.js'
import { ResolveUserAgent } from './actors/ResolveUserAgent.js'
import { GEO_DATA_FILE, openGeoDb } from './lib/geo.js'
import { startApiServer } from './lib/server.js'

const SAMPLE_VIEW = { url: 'https://example.com/', ip: '8.8.8.8', ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' }

export default defineApp({
  actors: [PageView, GeoIpLookup, ResolveUserAgent, EnrichedPageView, PageStats],
  // GeoIpLookup resolves its CSV from node_modules at run time: the deployed zip carries it there.
  files: { [`node_modules/${GEO_DATA_FILE}`]: GEO_DATA_FILE },
  async start(system, { once, log }) {
    const port = Number(process.env.PORT ?? 0)
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`)
    await openGeoDb() // loaded once, before the first view needs it
    const server = await startApiServer(system, { port, geoTimeoutMs: 10_000 })
    if (once) {
      const posted = await fetch(`${server.url}/pageview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE_VIEW) })
      log(`analytics: POST /pageview ${SAMPLE_VIEW.url} from ${SAMPLE_VIEW.ip} → ${posted.status} ${await posted.text()}`)
      const geo = await fetch(`${server.url}/geo?ip=85.214.132.117`)
      log(`analytics: GET /geo?ip=85.214.132.117 → ${geo.status} ${await geo.text()}`)
      // The view went through the lookups and the join to its page's count.
      await system.idle()
      const stats = await system.state(PageStats, SAMPLE_VIEW.url)
      log(`analytics: pageStats ${SAMPLE_VIEW.url} → ${stats?.views ?? 0} view(s), by country ${JSON.stringify(stats?.byCountry ?? {})}`)
    }
    return {
      stop: () => server.close(),
      info: { api: server.url, try: `curl '${server.url}/geo?ip=8.8.8.8'` },
    }
  },
})
