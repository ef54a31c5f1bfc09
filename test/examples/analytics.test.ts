// The flagship example, end to end: real HTTP, real geo data, real UA parsing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAnalytics } from '../../examples/analytics/run.js'
import { runTroupe } from '../cli/fixtures/troupe-cli.js'

// The 5 seeded views whose address no country can be found for: GeoIpLookup dead-letters them,
// their joins come incomplete, and they are counted all the same, under country "unknown".
const UNPLACEABLE = ['10.20.30.40', '102.197.33.7', '127.0.0.1', '172.20.4.2', '192.168.1.23']

t.test('every valid view is counted once, joined once; every bad one is a 400 or a dead letter', async (t) => {
  const report = await runAnalytics({ views: 300, quiet: true, seed: 7 })
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
  t.equal(report.settled, true)
  t.equal(report.counted, 305, '300 good views and the 5 unplaceable ones')
  t.equal(report.pages.reduce((sum, p) => sum + p.views, 0), 305, 'page views add up')
  for (const page of report.pages) {
    t.equal(sum(page.byCountry), page.views, `${page.url}: views by country add up`)
    t.equal(sum(page.byBrowser), page.views, `${page.url}: views by browser add up`)
    t.equal(page.byCountry.unknown ?? 0, page.incomplete, `${page.url}: the views without a country are those of incomplete joins`)
  }
  // Joins: one per counted view; exactly the unplaceable ones incomplete, for want of GeoIpLookup's
  // answer because it died (a timed-out join would say "running"), never ResolveUserAgent's.
  t.equal(report.incomplete, UNPLACEABLE.length)
  t.same(
    report.pages.reduce<Record<string, number>>((all, p) => {
      for (const [what, n] of Object.entries(p.missing)) all[what] = (all[what] ?? 0) + n
      return all
    }, {}),
    { 'geoIpLookup dead': UNPLACEABLE.length },
  )
  t.equal(report.pages.reduce((n, p) => n + (p.byCountry.unknown ?? 0), 0), UNPLACEABLE.length)
  t.match(report.actors.enrichedPageView, { accepted: 305, done: 305, dead: 0 })
  t.equal(report.actors.geoIpLookup?.accepted, 305 + 2, 'a lookup per view, and the two valid GET /geo asks')
  t.equal(report.actors.resolveUserAgent?.done, 305)
  t.equal(report.actors['troupe.joiner']?.dead, 0, "troupe's joiner ran clean")
  t.ok(report.rejectedAtApi >= 5, `${report.rejectedAtApi} malformed views were refused at the API`)
  t.ok(report.rejected.every((r) => /TROUPE_INVALID_MESSAGE|JSON/i.test(r.error)), 'each 400 says why')
  const deadIps = report.deadLetters.map((d) => d.ip).sort()
  t.same(deadIps, UNPLACEABLE)
  t.ok(report.deadLetters.every((d) => d.actor === 'geoIpLookup'), 'only lookups died, never a view, a join or a count')
  t.ok(report.deadLetters.filter((d) => d.ip !== '102.197.33.7').every((d) => d.attempts === 1 && d.errorName === 'TerminalError'))
  t.equal(report.deadLetters.find((d) => d.ip === '102.197.33.7')?.attempts, 3, 'the unknown address was retried, then dead')
  for (const [type, a] of Object.entries(report.actors)) {
    t.equal(a.done + a.filtered + a.dead, a.accepted, `${type}: every accepted message ended`)
  }
  t.equal(report.actors.pageView?.filtered, report.filtered)
  t.same(
    report.geoQueries.map((q) => [q.ip, q.status]),
    [['8.8.8.8', 200], ['85.214.132.117', 200], ['not-an-ip', 400]],
  )
  t.equal(report.ok, true)
})

t.test('the CLI prints --help, and one JSON report with --json', async (t) => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--conditions=troupe-source', '--import', 'tsx', 'examples/analytics/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 })
  const help = run('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /--views/)
  const json = run('--views', '120', '--json')
  t.equal(json.status, 0, json.stderr)
  const report = JSON.parse(json.stdout)
  t.equal(report.counted, 125, '120 good views and the 5 unplaceable ones')
  t.equal(report.incomplete, 5)
  t.equal(report.ok, true)
  const bad = run('--views', 'many')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /views/)
})

t.test('the AWS mode: troupe dev --once runs troupe.app.ts on the local Lambda, Kinesis and DynamoDB', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-analytics-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const run = await runTroupe(['dev', '--once', '--json', '--app', 'examples/analytics/troupe.app.ts', '--dir', dir], { timeoutMs: 120_000 })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /POST \/pageview https:\/\/example\.com\/ from 8\.8\.8\.8 → 202 \{"id":/)
  t.match(run.stderr, 'GET /geo?ip=85.214.132.117 → 200 {"country":"DE"}', 'the ask by Invoke answers from the geo data')
  t.match(run.stderr, 'pageStats https://example.com/ → 1 view(s), by country {"US":1}', 'the view was looked up, joined and counted')
  const stopped = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; deadLetters?: number; lambda?: { functionErrors: number } })
    .find((e) => e.event === 'stopped')
  t.equal(stopped?.deadLetters, 0)
  t.equal(stopped?.lambda?.functionErrors, 0)
})
