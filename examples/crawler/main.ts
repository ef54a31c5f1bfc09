// troupe example: a polite web crawler.
//
// What it shows
// - The classic message-handler crawler as two actors: PageUrl downloads a URL and marks it
//   visited; PageBody reads the page's links with a real HTML parser (htmlparser2) and each
//   link goes back to PageUrl. Declared as a pipeline with a loop (crawl.ts), so
//   `troupe graph` draws it.
// - A filter: PageUrl drops URLs on a blocklist (/logout, /admin/, ?sort=, .pdf …) and off the
//   crawl's hosts before they cost a request.
// - Politeness: PageUrl is keyed by host, so each host gets one request at a time, and its
//   per-key throttle caps the messages per second per host while other hosts flow.
// - Broken links as dead letters: a 404 is a TerminalError naming the page that links it.
// - A real site to crawl: three HTTP servers on 127.0.0.1 (site.ts), a few hundred generated
//   interlinked pages, broken links, a slow page, blocklisted and off-site links.
//
// Run it
//   npx tsx examples/crawler/main.ts [--pages N] [--json]
//   npx troupe dev --app examples/crawler/troupe.app.ts --once
//   npx troupe graph --app examples/crawler/troupe.app.ts
import { createSystem } from 'troupe'
import { crawl } from './crawl.js'
import { runCrawl, type CrawlReport } from './run.js'
import { readFlags, wholeNumberFlag } from '../shared/flags.js'

const USAGE = `Usage: tsx examples/crawler/main.ts [options]

Starts a generated site on three local hosts and crawls it: pages per host, the broken
links (dead letters) and the links the filter dropped.

Options
  --pages N    pages per host (default 100)
  --json       print the report as JSON
  -h, --help   show this help
`

const values = readFlags(USAGE, { pages: { type: 'string' }, json: { type: 'boolean' } })
const pages = wholeNumberFlag(USAGE, 'pages', values.pages, 100, 2, 5_000)

const system = createSystem({ actors: crawl.actors, logLevel: 'error' })
let report: CrawlReport
try {
  report = await runCrawl(system, { pagesPerHost: pages })
} finally {
  await system.stop()
}
const { site: _site, ...plain } = report
if (values.json) process.stdout.write(`${JSON.stringify(plain, null, 2)}\n`)
else process.stdout.write(format(report))

function format(r: CrawlReport): string {
  const lines = [`crawled in ${(r.ms / 1000).toFixed(1)} s`, 'host                  pages   KB  most at once']
  for (const h of r.hosts) lines.push(`${h.host.padEnd(20)} ${String(h.pages).padStart(6)} ${String(Math.round(h.bytes / 1024)).padStart(4)}  ${h.maxConcurrent}`)
  lines.push(`slow page crawled: ${r.slowPageCrawled ? 'yes' : 'no'}; links dropped by the filter: ${r.filtered}; blocklisted requests: ${r.blockedRequests}`)
  lines.push(`broken links (dead letters): ${r.broken.length}`)
  for (const b of r.broken) lines.push(`  ${b.url}  ← ${b.from}`)
  return `${lines.join('\n')}\n`
}
