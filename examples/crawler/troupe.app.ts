// The crawler in the AWS mode, on this machine:
//   npx troupe dev --app examples/crawler/troupe.app.ts --once      (PAGES=n pages per host)
// and drawn:
//   npx troupe graph --app examples/crawler/troupe.app.ts
import { defineApp } from 'troupe/aws'
import { crawl } from './crawl.js'
import { runCrawl } from './run.js'

export default defineApp({
  actors: crawl.actors,
  pipelines: [crawl],
  async start(system, { log }) {
    const report = await runCrawl(system, { pagesPerHost: Number(process.env.PAGES ?? 30) })
    for (const h of report.hosts) log(`crawler: ${h.host}: ${h.pages} pages, one request at a time: ${h.maxConcurrent === 1}`)
    log(`crawler: ${report.broken.length} broken links (dead letters), ${report.filtered} links dropped by the filter`)
  },
})
