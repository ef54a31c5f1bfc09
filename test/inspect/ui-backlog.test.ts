// The web view's actor table shows each type's backlog: the turns running, the messages parked and
// how long the oldest has waited, and the iterator age, as an inspector answers them (here a stub
// with fixed rows, served by the real inspection server), in Debian's Chromium via playwright-core.
import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium } from 'playwright-core'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import type { ActorRow, Inspector } from '../../lib/inspect/inspector.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`
/** Away from CI a missing Chromium skips these tests, saying so; under CI (`CI` set) it fails them. */
const skip = missing !== undefined && !process.env.CI ? missing : false

/** An inspector of fixed rows: what the table shows is what it was given. */
function stub(rows: () => ActorRow[]): Inspector {
  const none = async () => undefined
  return {
    actors: async () => rows(),
    instance: none,
    instances: async () => ({ items: [] }),
    message: none,
    trace: async () => [],
    dead: async () => [],
    replay: async () => '',
    joins: async () => [],
    timers: async () => [],
    cost: none,
    graph: none,
    pause: async () => {},
    resume: async () => {},
    pauses: async () => [],
    describe: async () => ({ mode: 'aws', source: 'a stub' }),
  }
}

t.test('running, parked with the oldest’s wait, and the iterator age per type', { skip }, async (t) => {
  if (missing) throw new Error(missing)
  const parkedAt = Date.now() - 42_000
  const rows = (): ActorRow[] => [
    { type: 'crawl.fetch', kind: 'keyed', instances: 3, processed: 10, dead: 0, paused: false, pausedKeys: [], running: 2, parked: 8, oldestParkedAt: parkedAt, iteratorAgeMs: 1_250 },
    { type: 'crawl.store', kind: 'stateless', instances: 0, processed: 4, dead: 0, paused: false, pausedKeys: [], running: 0, parked: 0 },
    { type: 'crawl.quiet', kind: 'keyed', instances: 1, dead: 0, paused: false, pausedKeys: [] },
  ]
  const server = await serveInspection(stub(rows))
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(async () => {
    await browser.close()
    await server.close()
  })
  const page = await browser.newPage()
  await page.goto(`${server.url}/`)
  await page.locator('#actors tr[data-actor="crawl.fetch"]').waitFor()
  const cell = (type: string, col: string) => page.locator(`#actors tr[data-actor="${type}"] td[data-col="${col}"]`).innerText()
  const headers = await page.locator('#actors thead th').allInnerTexts()
  t.same(headers.slice(6, 9), ['running', 'parked', 'iterator age'], 'the three columns, after queued')
  t.equal(await cell('crawl.fetch', 'running'), '2')
  t.match(await cell('crawl.fetch', 'parked'), /^8, oldest 4[2-9] s$/, 'eight parked, the oldest waiting some 42 s')
  t.equal(await cell('crawl.fetch', 'iterator-age'), '1.3 s', 'the iterator age, in seconds')
  t.equal(await cell('crawl.store', 'parked'), '0', 'none parked: 0, no age')
  t.equal(await cell('crawl.store', 'iterator-age'), '', 'unknown: blank')
  t.equal(await cell('crawl.quiet', 'running'), '', 'a source that does not know: blank')
  t.equal(await cell('crawl.quiet', 'parked'), '')
})
