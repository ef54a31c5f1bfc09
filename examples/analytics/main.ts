// troupe example: real-time page-view analytics.
//
// What it shows
// - A real HTTP API (node:http on 127.0.0.1, a free port) in front of actors:
//   POST /pageview calls `system.tell(PageView, body)` and answers 202 with the message id,
//   or 400 with the error when PageView's zod schema rejects the body (the error names the field);
//   GET /geo?ip=… calls `system.ask(GeoIpLookup, { ip }, { timeoutMs })` and answers its reply.
// - A pipeline of one-class-per-message actors, enriching each view with fork/join:
//     PageView (schema, filter drops crawlers)
//       ├─ GeoIpLookup       (country from real RIR data)     ┐ forked: both at once,
//       └─ ResolveUserAgent  (browser and OS with bowser)    ┘ plain request/reply actors
//     → EnrichedPageView (the join: gets [geo, agent] as a typed tuple, and the view as `value`)
//     → PageStats (keyed by url: counters per page)
//   PageView's turn is one line: ctx.fork([[GeoIpLookup, { ip }], [ResolveUserAgent, { ua }]] as const)
//   .join(EnrichedPageView, { timeoutMs, value: view }); the join runs exactly once per view.
// - Supervision: a private address makes GeoIpLookup throw TerminalError (dead letter at once);
//   an address missing from the data throws a plain Error, retried by the actor's policy, then
//   dead-lettered. The view's join then comes incomplete (`complete: false`, GeoIpLookup in
//   `missing` with status "dead"), at once, without waiting for the deadline; EnrichedPageView
//   still counts the view, under country "unknown", and PageStats tallies what was missing.
// - Inspection: live counts from `system.inspect()`, the dead letters from `system.deadLetters()`,
//   a clean `system.stop()`.
// The example feeds itself: it generates realistic traffic (real public addresses from a dozen
// countries, real browser user agents, a few crawlers and a handful of malformed views seeded on
// purpose), posts it to its own API, waits until every accepted message reached a final status,
// and prints what happened, checking that every request is accounted for.
//
// Run it
//   npm start                                        # ~2,000 views, tables on stdout
//   npx tsx examples/analytics/main.ts --views 500 --json
//   npx tsx examples/analytics/main.ts --help
//   npm start -- --inspect                           # then keeps serving the web view and
//                                                    # `troupe inspect --url` until Ctrl-C
// The work is in run.ts (`runAnalytics`), which tests call directly.

import { parseArgs } from 'node:util'
import { runAnalytics } from './run.js'

const USAGE = `Usage: tsx examples/analytics/main.ts [options]

Feeds generated page views to a local HTTP API backed by troupe actors, then reports
views per page by country, browser and OS, messages per actor, and the dead letters.

Options
  --views N    good page views to generate (default 2000); about one crawler view per
               200 and 11 bad ones are added on purpose: 6 refused with 400, and 5 with
               addresses no country can be found for (their lookup is dead-lettered;
               the view is counted under country "unknown")
  --seed N     seed of the traffic generator (default 42): same seed, same traffic
  --json       print the report as one JSON object on stdout instead of tables
  --quiet      no progress line on stderr
  --inspect    after the report, keep running and serve inspection on 127.0.0.1: open
               the printed address for the web view, or point troupe inspect --url at it;
               Ctrl-C stops
  -h, --help   show this help

Exit code: 0 when every check passed, 1 when one failed, 2 on bad options.
`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`)
  process.exit(2)
}

let values: { views?: string; seed?: string; json?: boolean; quiet?: boolean; inspect?: boolean; help?: boolean }
try {
  ;({ values } = parseArgs({
    options: {
      views: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      inspect: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }))
} catch (error) {
  fail((error as Error).message)
}

if (values.help) {
  process.stdout.write(USAGE)
} else {
  const views = wholeNumber('--views', values.views ?? '2000')
  const seed = wholeNumber('--seed', values.seed ?? '42')
  const inspect = values.inspect
    ? {
        onServing: (url: string) => process.stderr.write(`troupe analytics: inspection and the web view on ${url}/ (troupe inspect --url ${url}); Ctrl-C stops\n`),
        until: new Promise((resolve) => process.once('SIGINT', resolve)),
      }
    : undefined
  const report = await runAnalytics({ views, seed, json: values.json === true, progress: values.quiet !== true, ...(inspect ? { inspect } : {}) })
  if (!report.ok) process.exitCode = 1
}

function wholeNumber(option: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) fail(`${option} needs a whole number, got "${text}"`)
  if (option === '--views' && n > 1_000_000) fail(`--views is at most 1000000, got ${n}`)
  return n
}
