// The whole example as one function: start the actors and the HTTP API, feed the API
// generated traffic, wait until every accepted message has reached a final status,
// then report. main.ts is a thin CLI over it; tests call it directly.

import { setTimeout as sleep } from 'node:timers/promises'
import { createSystem, type System } from 'troupe'
import { EnrichedPageView, UNKNOWN } from './actors/EnrichedPageView.js'
import { GeoIpLookup } from './actors/GeoIpLookup.js'
import { PageStats } from './actors/PageStats.js'
import { PageView } from './actors/PageView.js'
import { ResolveUserAgent } from './actors/ResolveUserAgent.js'
import { openGeoDb } from './lib/geo.js'
import type { GeoIpLookupIn, PageStatsState, PageViewBody } from './lib/messages.js'
import { createProgress, type ProgressCounts } from './lib/progress.js'
import { formatReport, type ActorReport, type Check, type DeadLetterReport, type PageReport, type Report } from './lib/report.js'
import { startApiServer, type ApiServer } from './lib/server.js'
import { serveInspection, SystemInspector, type InspectionServer } from 'troupe/inspect'
import { seededRandom } from 'troupe/testing'
import { generateTraffic, type Request, type Traffic } from './lib/traffic.js'

export type { Report } from './lib/report.js'

export interface AnalyticsOptions {
  /** Good page views to generate; about one crawler view per 200 and 11 malformed ones come on top. */
  views: number
  /** Print the report as one JSON object on stdout instead of tables. */
  json?: boolean
  /** Print nothing at all (no progress, no report, no logs): just return the report. */
  quiet?: boolean
  /** The start line and the live progress line on stderr. @default !quiet */
  progress?: boolean
  /** Seed of the traffic generator: the same seed gives the same traffic. @default 42 */
  seed?: number
  /** Requests in flight at once. @default 32 */
  concurrency?: number
  /** How long to wait for the pipeline to settle after the last request. @default 30_000 */
  settleTimeoutMs?: number
  /** @default process.stdout */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean }
  /** @default process.stderr */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean }
  /**
   * Serve inspection (the API `troupe inspect --url` and `troupe ui` read, and the web view
   * itself) on loopback from the start, and keep the system up after the report until `until`.
   */
  inspect?: { port?: number; onServing?: (url: string) => void; until: Promise<unknown> }
}

/** One posted request and how the API answered it. */
interface Outcome {
  request: Request
  status: number
  /** The message id of a 202. */
  id?: string
  /** The error of a 4xx/5xx, or of a request that failed on the wire. */
  error?: string
}

/** The actors of the pipeline, in the order a view travels (the two lookups run at once). */
export const ACTORS = [PageView, GeoIpLookup, ResolveUserAgent, EnrichedPageView, PageStats] as const

/** No request of the example waits longer than this for its answer. */
const REQUEST_TIMEOUT_MS = 10_000

/** Addresses the example asks GET /geo about, and what it should answer. */
const GEO_QUERIES: readonly { ip: string; status: number; country?: string }[] = [
  { ip: '8.8.8.8', status: 200, country: 'US' },
  { ip: '85.214.132.117', status: 200, country: 'DE' },
  { ip: 'not-an-ip', status: 400 },
]

export async function runAnalytics(options: AnalyticsOptions): Promise<Report> {
  const { views, json = false, quiet = false, seed = 42, concurrency = 32, settleTimeoutMs = 30_000 } = options
  if (!Number.isInteger(views) || views < 0) throw new RangeError(`views must be a whole number from 0 up, got ${views}`)
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number from 1 up, got ${concurrency}`)
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const started = performance.now()

  await openGeoDb() // loaded once, before the first view needs it
  const loaded = performance.now()
  const system = createSystem({ actors: ACTORS, logLevel: quiet ? 'silent' : 'error', ...(options.inspect ? { receiptsForAll: true } : {}) })
  // Made before any traffic, so every message's trace is seen.
  const inspector = options.inspect && new SystemInspector(system, { actors: ACTORS })
  let server: ApiServer
  let inspection: InspectionServer | undefined
  try {
    server = await startApiServer(system)
    if (inspector) inspection = await serveInspection(inspector, { port: options.inspect!.port ?? 0, log: inspector.log })
  } catch (error) {
    await system.stop()
    throw error
  }
  const stopAll = async () => {
    await inspection?.close()
    await inspector?.close()
    await server.close()
    await system.stop({ timeoutMs: 5_000 })
  }
  const traffic = generateTraffic(views, seededRandom(seed))
  const total = traffic.requests.length
  const showProgress = !quiet && options.progress !== false
  if (showProgress) {
    const crawlers = traffic.requests.filter((r) => r.expect === 'filtered').length
    const invalid = traffic.requests.filter((r) => r.expect === 'rejected').length
    stderr.write(
      `troupe analytics: API on ${server.url}; posting ${total} requests ` +
        `(${views} page views, ${crawlers} crawlers, and on purpose ${invalid} invalid ones ` +
        `and ${total - views - crawlers - invalid} from addresses no country can be found for)\n`,
    )
  }

  const progress = createProgress(stderr, showProgress)
  const tally = { posted: 0, rejected: 0 }
  const counts = (): ProgressCounts => progressCounts(system, total, tally)
  const ticker = setInterval(() => progress.update(counts()), 250)

  let outcomes: Outcome[]
  let geoQueries: Report['geoQueries']
  let settled: boolean
  let pages: PageReport[]
  let deadLetters: DeadLetterReport[]
  let actors: Record<string, ActorReport>
  let postedAt = 0
  let settledAt = 0
  let finished = false
  try {
    outcomes = await postAll(
      server.url,
      traffic.requests,
      concurrency,
      () => tally.posted++,
      (outcome) => {
        if (outcome.status === 400) tally.rejected++
      },
    )
    postedAt = performance.now()
    geoQueries = await Promise.all(GEO_QUERIES.map((q) => getGeo(server.url, q.ip)))
    settled = await settle(system, settleTimeoutMs)
    settledAt = performance.now()
    progress.done(counts())

    pages = system
      .instances(PageStats)
      .map((inst) => ({ url: inst.key, ...(inst.state as PageStatsState) }))
      .sort((a, b) => b.views - a.views || a.url.localeCompare(b.url))
    deadLetters = (await system.deadLetters()).map((letter) => ({
      actor: letter.envelope.type,
      messageId: letter.envelope.id,
      correlationId: letter.envelope.correlationId,
      ip: (letter.envelope.body as Partial<GeoIpLookupIn> | undefined)?.ip,
      errorName: letter.error.name,
      error: letter.error.message,
      attempts: Math.max(letter.envelope.attempt, letter.attempts.length),
    }))
    actors = Object.fromEntries(
      system.inspect().actors.map((a) => [
        a.type,
        { kind: a.kind, accepted: a.counts.accepted, done: a.counts.done, filtered: a.counts.filtered, retried: a.counts.retried, dead: a.counts.dead },
      ]),
    )
    finished = true
  } finally {
    clearInterval(ticker)
    if (!options.inspect || !finished) await stopAll()
  }

  const accepted = outcomes.filter((o) => o.status === 202).length
  const rejected = outcomes.filter((o) => o.status === 400)
  const report: Report = {
    views,
    seed,
    posted: outcomes.length,
    accepted,
    rejectedAtApi: rejected.length,
    rejected: rejected.map((o) => ({ status: o.status, note: o.request.note, error: o.error ?? '' })),
    filtered: actors[PageView.type]?.filtered ?? 0,
    counted: pages.reduce((sum, p) => sum + p.views, 0),
    incomplete: pages.reduce((sum, p) => sum + p.incomplete, 0),
    pages,
    actors,
    deadLetters,
    geoQueries,
    settled,
    checks: [],
    ok: false,
    durationMs: Math.round(performance.now() - started),
    timings: {
      loadGeoDataMs: Math.round(loaded - started),
      postMs: Math.round(postedAt - loaded),
      settleMs: Math.round(settledAt - postedAt),
    },
  }
  report.checks = check(report, outcomes, traffic)
  report.ok = report.checks.every((c) => c.ok)

  if (!quiet) {
    if (json) stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else stdout.write(formatReport(report, { color: stdout.isTTY === true && !process.env.NO_COLOR }))
  }
  if (options.inspect) {
    options.inspect.onServing?.(inspection!.url)
    await options.inspect.until
    await stopAll()
  }
  return report
}

/** Posts every request with at most `concurrency` in flight. */
async function postAll(
  base: string,
  requests: readonly Request[],
  concurrency: number,
  onSend: () => void,
  onOutcome: (o: Outcome) => void,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(requests.length)
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const i = next++
      onSend()
      const outcome = await post(base, requests[i]!)
      outcomes[i] = outcome
      onOutcome(outcome)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker))
  return outcomes
}

async function post(base: string, request: Request): Promise<Outcome> {
  try {
    const res = await fetch(`${base}/pageview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    const body = (await res.json().catch(() => ({}))) as { id?: string; error?: string }
    return { request, status: res.status, ...(body.id ? { id: body.id } : {}), ...(body.error ? { error: body.error } : {}) }
  } catch (error) {
    return { request, status: 0, error: error instanceof Error ? error.message : String(error) }
  }
}

async function getGeo(base: string, ip: string): Promise<Report['geoQueries'][number]> {
  try {
    const res = await fetch(`${base}/geo?ip=${encodeURIComponent(ip)}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    return { ip, status: res.status, body: await res.json().catch(() => null) }
  } catch (error) {
    return { ip, status: 0, body: { error: error instanceof Error ? error.message : String(error) } }
  }
}

/**
 * Waits until every actor type is idle and every accepted message reached a final
 * status (done, filtered or dead). False when `timeoutMs` passed first.
 */
async function settle(system: System, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const idle = system
      .inspect()
      .actors.every((a) => a.queued === 0 && a.running === 0 && a.counts.done + a.counts.filtered + a.counts.dead === a.counts.accepted)
    if (idle) return true
    if (Date.now() >= deadline) return false
    await sleep(20)
  }
}

/** Posted and rejected as the client saw them; the rest as the actors report them. */
function progressCounts(system: System, total: number, tally: { posted: number; rejected: number }): ProgressCounts {
  const snapshot = system.inspect()
  let accepted = 0
  let filtered = 0
  let counted = 0
  for (const a of snapshot.actors) {
    filtered += a.counts.filtered
    if (a.type === PageView.type) accepted = a.counts.accepted
    if (a.type === PageStats.type) counted = a.counts.done
  }
  return { total, ...tally, accepted, counted, filtered, dead: snapshot.deadLetters }
}

/** Checks that the numbers add up: every request is accounted for, exactly where it should be. */
function check(report: Report, outcomes: readonly Outcome[], traffic: Traffic): Check[] {
  const checks: Check[] = []
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail })
  const expecting = (e: Request['expect']) => outcomes.filter((o) => o.request.expect === e)

  const unexpected = outcomes.filter((o) => o.status !== (o.request.expect === 'rejected' ? 400 : 202))
  add(
    'API answers',
    unexpected.length === 0,
    unexpected.length === 0
      ? `${report.accepted} × 202 and ${report.rejectedAtApi} × 400, the 400s exactly for the ${expecting('rejected').length} seeded invalid bodies`
      : `${unexpected.length} unexpected: ${unexpected
          .slice(0, 3)
          .map((o) => `${o.status} for ${o.request.note}${o.error ? ` (${o.error})` : ''}`)
          .join('; ')}`,
  )

  const pageView = report.actors[PageView.type]
  add(
    'accepted by PageView',
    pageView?.accepted === report.accepted,
    `${pageView?.accepted} messages accepted by ${PageView.type} for ${report.accepted} answers 202`,
  )

  const unfinished = Object.entries(report.actors).filter(([, a]) => a.done + a.filtered + a.dead !== a.accepted)
  add(
    'every message final',
    report.settled && unfinished.length === 0,
    report.settled
      ? 'every accepted message ended done, filtered or dead'
      : `not settled in time: ${unfinished.map(([t, a]) => `${t} ${a.done + a.filtered + a.dead}/${a.accepted}`).join(', ')}`,
  )

  const crawlers = expecting('filtered').length
  add('crawlers filtered', report.filtered === crawlers, `${report.filtered} of ${crawlers} crawler views dropped by ${PageView.type}'s filter`)

  // Every valid human view counted once, on its page, under the country of its address block;
  // the views GeoIpLookup cannot place (seeded on purpose) under "unknown", from an incomplete join.
  const unplaceable = [...expecting('dead'), ...expecting('dead-after-retries')]
  const expected = new Map<string, Map<string, number>>()
  const expectedMissing = new Map<string, number>()
  for (const o of [...expecting('counted'), ...unplaceable]) {
    const view = JSON.parse(o.request.body) as PageViewBody
    const byCountry = expected.get(view.url) ?? new Map<string, number>()
    const country = o.request.expect === 'counted' ? (traffic.visitors.get(view.ip) ?? '?') : UNKNOWN
    byCountry.set(country, (byCountry.get(country) ?? 0) + 1)
    expected.set(view.url, byCountry)
    if (o.request.expect !== 'counted') expectedMissing.set(view.url, (expectedMissing.get(view.url) ?? 0) + 1)
  }
  const wanted = expecting('counted').length + unplaceable.length
  const mismatched = [...new Set([...expected.keys(), ...report.pages.map((p) => p.url)])].filter((url) => {
    const page = report.pages.find((p) => p.url === url)
    const want = expected.get(url) ?? new Map<string, number>()
    const got = Object.entries(page?.byCountry ?? {})
    return got.length !== want.size || got.some(([country, n]) => want.get(country) !== n)
  })
  add(
    'every view counted',
    report.counted === wanted && report.actors[PageStats.type]?.done === wanted && mismatched.length === 0,
    mismatched.length === 0
      ? `${report.counted} of ${wanted} valid views counted by ${PageStats.type}, each under its page and country ` +
          `(${unplaceable.length} with no country to find, under "${UNKNOWN}")`
      : `${report.counted} of ${wanted} counted; per-country counts differ on ${mismatched.join(', ')}`,
  )

  // One join per counted view; complete but for the seeded unplaceable ones, and those lack
  // exactly GeoIpLookup's answer because it died (not because the join timed out).
  const joins = report.actors[EnrichedPageView.type]
  const missingOn = (p: PageReport) => Object.entries(p.missing)
  const wrongJoins = report.pages.filter(
    (p) =>
      p.incomplete !== (expectedMissing.get(p.url) ?? 0) ||
      missingOn(p).some(([what, n]) => what !== `${GeoIpLookup.type} dead` || n !== p.incomplete),
  )
  add(
    'every fork joined once',
    joins?.done === wanted && joins.accepted === wanted && report.incomplete === unplaceable.length && wrongJoins.length === 0,
    wrongJoins.length === 0 && joins?.done === wanted
      ? `${joins.done} joins for ${wanted} views: ${joins.done - report.incomplete} complete, ` +
          `${report.incomplete} without ${GeoIpLookup.type}'s answer (its message dead), exactly the seeded unplaceable addresses`
      : `${joins?.done} joins for ${wanted} views; ${report.incomplete} incomplete (want ${unplaceable.length})` +
          (wrongJoins.length === 0
            ? ''
            : `; unexpected on ${wrongJoins.map((p) => `${p.url} ${JSON.stringify(p.missing)}`).join(', ')}`),
  )

  // The seeded failures, and nothing else, in the dead letters.
  const maxAttempts = GeoIpLookup.policy.maxAttempts
  const missing: string[] = []
  for (const o of unplaceable) {
    const letter = report.deadLetters.find((d) => d.correlationId === o.id && d.actor === GeoIpLookup.type)
    const attempts = o.request.expect === 'dead' ? 1 : maxAttempts
    if (!letter) missing.push(`${o.request.note}: no dead letter`)
    else if (letter.attempts !== attempts) missing.push(`${o.request.note}: ${letter.attempts} attempts, not ${attempts}`)
  }
  const seededDead = unplaceable.length
  const retries = expecting('dead-after-retries').length * (maxAttempts - 1)
  const retried = report.actors[GeoIpLookup.type]?.retried
  add(
    'seeded failures dead-lettered',
    missing.length === 0 && report.deadLetters.length === seededDead && retried === retries,
    missing.length > 0
      ? missing.join('; ')
      : `${report.deadLetters.length} ${GeoIpLookup.type} dead letters for ${seededDead} seeded unplaceable addresses; ${retried} retries (expected ${retries})`,
  )

  const wrongGeo = GEO_QUERIES.filter((q, i) => {
    const got = report.geoQueries[i]
    return got?.status !== q.status || (q.country !== undefined && (got.body as { country?: string } | null)?.country !== q.country)
  })
  add(
    'GET /geo answers',
    wrongGeo.length === 0,
    wrongGeo.length === 0
      ? GEO_QUERIES.map((q) => `${q.ip} → ${q.status}${q.country ? ` ${q.country}` : ''}`).join(', ')
      : `unexpected answers for ${wrongGeo.map((q) => q.ip).join(', ')}`,
  )
  return checks
}
