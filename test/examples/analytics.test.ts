// The flagship example, end to end: real HTTP, real geo data, real UA parsing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { runAnalytics } from '../../examples/analytics/run.js'

t.test('every valid view is counted once; every bad one is a 400 or a dead letter', async (t) => {
  const report = await runAnalytics({ views: 300, quiet: true, seed: 7 })
  t.equal(report.settled, true)
  t.equal(report.counted, 300)
  t.equal(report.pages.reduce((sum, p) => sum + p.views, 0), 300, 'page views add up')
  for (const page of report.pages) {
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
    t.equal(sum(page.byCountry), page.views, `${page.url}: views by country add up`)
    t.equal(sum(page.byBrowser), page.views, `${page.url}: views by browser add up`)
  }
  t.ok(report.rejectedAtApi >= 5, `${report.rejectedAtApi} malformed views were refused at the API`)
  t.ok(report.rejected.every((r) => /TROUPE_INVALID_MESSAGE|JSON/i.test(r.error)), 'each 400 says why')
  const deadIps = report.deadLetters.map((d) => d.ip).sort()
  t.same(deadIps, ['10.20.30.40', '102.197.33.7', '127.0.0.1', '172.20.4.2', '192.168.1.23'])
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
    spawnSync(process.execPath, ['--import', 'tsx', 'examples/analytics/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 })
  const help = run('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /--views/)
  const json = run('--views', '120', '--json')
  t.equal(json.status, 0, json.stderr)
  const report = JSON.parse(json.stdout)
  t.equal(report.counted, 120)
  t.equal(report.ok, true)
  const bad = run('--views', 'many')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /views/)
})
