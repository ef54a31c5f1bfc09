// The final report: its shape (what runAnalytics returns and --json prints) and its
// rendering as tables.

import Table from 'cli-table3'
import { GEO_ATTRIBUTION } from './geo.js'
import type { PageStatsState } from './messages.js'

/** One page's counters, as PageStats kept them. */
export interface PageReport extends PageStatsState {
  url: string
}

/** One actor type's counts from `system.inspect()`. */
export interface ActorReport {
  kind: 'keyed' | 'singleton' | 'stateless'
  accepted: number
  done: number
  filtered: number
  /** Retries scheduled (a message retried twice counts twice). */
  retried: number
  dead: number
}

export interface DeadLetterReport {
  actor: string
  messageId: string
  /** The id the API answered for the page view this message came from. */
  correlationId: string
  /** The IP address the failed message carried, when it had one. */
  ip: string | undefined
  errorName: string
  error: string
  attempts: number
}

export interface RejectedReport {
  status: number
  /** Why the generator seeded this request. */
  note: string
  error: string
}

export interface GeoQueryReport {
  ip: string
  status: number
  body: unknown
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface Report {
  /** Good page views generated (crawlers and malformed ones come on top). */
  views: number
  seed: number
  /** HTTP requests posted to /pageview. */
  posted: number
  /** Answered 202: accepted by PageView. */
  accepted: number
  /** Answered 400: rejected at the API. */
  rejectedAtApi: number
  rejected: RejectedReport[]
  /** Accepted views dropped by PageView's filter (crawlers). */
  filtered: number
  /** Views counted by PageStats, summed over pages. */
  counted: number
  /** Of those, views whose join was incomplete, counted under "unknown" for what was missing. */
  incomplete: number
  /** Most viewed first. */
  pages: PageReport[]
  /**
   * By actor type: pageView, geoIpLookup, resolveUserAgent, enrichedPageView, pageStats, and
   * troupe's own (troupe.joiner: one instance per fork, gathering its replies).
   */
  actors: Record<string, ActorReport>
  deadLetters: DeadLetterReport[]
  /** GET /geo requests made to show `ask`. */
  geoQueries: GeoQueryReport[]
  /** Whether every accepted message reached a final status within the time limit. */
  settled: boolean
  checks: Check[]
  /** Every check passed. */
  ok: boolean
  durationMs: number
  timings: {
    /** Loading the IP-to-country data. */
    loadGeoDataMs: number
    /** Starting the API and posting every request. */
    postMs: number
    /** From the last answer until every message was final (includes the GET /geo queries). */
    settleMs: number
  }
}

export interface PrintOptions {
  /** Colour table headers. */
  color: boolean
  /** Pages shown in the table; the rest are summed in the total row. @default 6 */
  topPages?: number
}

/** The report as tables and lines, ready to write to a terminal. */
export function formatReport(report: Report, options: PrintOptions): string {
  const style = { head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [] }
  const out: string[] = []
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const rate = report.timings.postMs > 0 ? Math.round((report.posted / report.timings.postMs) * 1000) : 0
  out.push(
    `Posted ${report.posted} page views to the API in ${seconds(report.timings.postMs)} (${rate}/s; whole run ${seconds(report.durationMs)}): ` +
      `${report.accepted} accepted, ${report.rejectedAtApi} rejected, ` +
      `${report.counted} counted (${report.incomplete} from an incomplete join, without a country), ` +
      `${report.filtered} crawlers filtered, ${report.deadLetters.length} dead letters.`,
    '',
  )

  const top = options.topPages ?? 6
  out.push(`Top pages (views by country, browser and OS)`)
  const pages = new Table({ head: ['Page', 'Views', 'Countries', 'Browsers', 'OS'], style })
  for (const page of report.pages.slice(0, top)) {
    pages.push([path(page.url), page.views, breakdown(page.byCountry), breakdown(page.byBrowser), breakdown(page.byOs)])
  }
  const all = total(report.pages)
  const rest = report.pages.length - Math.min(top, report.pages.length)
  pages.push([
    `all ${report.pages.length} pages${rest > 0 ? `\n(${rest} more in --json)` : ''}`,
    all.views,
    breakdown(all.byCountry),
    breakdown(all.byBrowser),
    breakdown(all.byOs),
  ])
  out.push(pages.toString(), '')

  out.push('Messages per actor')
  const actors = new Table({ head: ['Actor', 'Kind', 'Accepted', 'Done', 'Filtered', 'Retried', 'Dead'], style })
  for (const [type, a] of Object.entries(report.actors)) {
    if (type.startsWith('troupe.') && a.accepted === 0) continue // troupe's own actors, when unused
    actors.push([type, a.kind, a.accepted, a.done, a.filtered, a.retried, a.dead])
  }
  out.push(actors.toString(), '')

  const missing = Object.entries(all.missing)
  out.push(
    `Incomplete joins (${report.incomplete}): counted under "unknown" for what was missing` +
      (missing.length > 0 ? `; missing: ${missing.map(([what, n]) => `${what} × ${n}`).join(', ')}` : ''),
    '',
  )

  out.push(`Dead letters (${report.deadLetters.length})`)
  if (report.deadLetters.length > 0) {
    const width = (values: string[]) => Math.max(...values.map((v) => v.length)) + 2
    const colWidths = [width(['Actor', ...report.deadLetters.map((d) => d.actor)]), width(report.deadLetters.map((d) => d.messageId)), 10, 62]
    const dead = new Table({ head: ['Actor', 'Message id', 'Attempts', 'Error'], colWidths, wordWrap: true, style })
    for (const d of report.deadLetters) dead.push([d.actor, d.messageId, d.attempts, `${d.errorName}: ${d.error}`])
    out.push(dead.toString())
  }
  out.push('')

  out.push(`Rejected at the API (${report.rejectedAtApi})`)
  if (report.rejected.length > 0) {
    const rejected = new Table({ head: ['Status', 'Seeded as', 'Error'], colWidths: [8, 24, 80], wordWrap: true, style })
    for (const r of report.rejected) rejected.push([r.status, r.note, r.error])
    out.push(rejected.toString())
  }
  out.push('')

  out.push('GET /geo (system.ask)')
  for (const q of report.geoQueries) out.push(`  ${q.ip.padEnd(16)} → ${q.status} ${JSON.stringify(q.body)}`)
  out.push('')

  out.push(`Checks: ${report.ok ? 'all passed' : 'FAILED'}`)
  for (const c of report.checks) out.push(`  ${c.ok ? '✔' : '✘'} ${c.name}: ${c.detail}`)
  out.push('', GEO_ATTRIBUTION, '')
  return out.join('\n')
}

function path(url: string): string {
  try {
    return new URL(url).pathname
  } catch {
    return url
  }
}

/** The largest entries, one a line, the rest summed. */
function breakdown(counts: Record<string, number>, shown = 4): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  const lines = entries.slice(0, shown).map(([name, n]) => `${name} ${n}`)
  const rest = entries.slice(shown)
  if (rest.length > 0) lines.push(`+${rest.length} more ${rest.reduce((sum, [, n]) => sum + n, 0)}`)
  return lines.join('\n')
}

function total(pages: readonly PageReport[]): Omit<PageReport, 'url'> {
  const sum: Omit<PageReport, 'url'> = { views: 0, byCountry: {}, byBrowser: {}, byOs: {}, incomplete: 0, missing: {} }
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n
  }
  for (const p of pages) {
    sum.views += p.views
    add(sum.byCountry, p.byCountry)
    add(sum.byBrowser, p.byBrowser)
    add(sum.byOs, p.byOs)
    sum.incomplete += p.incomplete
    add(sum.missing, p.missing)
  }
  return sum
}
