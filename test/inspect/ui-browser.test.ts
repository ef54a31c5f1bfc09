// The web view end to end: the flagship example serving inspection, `troupe ui --url` in front of
// it, Debian's Chromium driven by playwright-core. The page finds a page's stats in the state table, opens a trace, and replays
// a dead letter (after the geo data learns the address) and sees it processed.
// Set TROUPE_UI_SCREENSHOT=<file.png> to keep a screenshot of the page at the end.
import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { runAnalytics } from '../../examples/analytics/run.js'
import { openGeoDb } from '../../examples/analytics/lib/geo.js'
import { createSystem } from '../../lib/index.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import { startUi } from '../../lib/cli/ui.js'
import type { InspectionServer } from '../../lib/inspect/inspection-server.js'
import { LightLog, TrafficLight } from '../xstate/fixtures/machines.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** A public address the geo data has no range for: its lookup is dead-lettered. */
const UNKNOWN_IP = '102.197.33.7'

const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`
/** Away from CI a missing Chromium skips these tests, saying so; under CI (`CI` set) it fails them. */
const skip = missing !== undefined && !process.env.CI ? missing : false

/** Fails the test, with the reason, when it runs without a browser (under CI). */
function needChromium(): void {
  if (missing !== undefined) throw new Error(`${missing} (CI is set, so the browser tests do not skip)`)
}

t.test('the web view over the running flagship example', { skip }, async (t) => {
  needChromium()
  let stop!: () => void
  const until = new Promise<void>((resolve) => (stop = resolve))
  let serving!: (url: string) => void
  const url = new Promise<string>((resolve) => (serving = resolve))
  const run = runAnalytics({ views: 200, seed: 7, quiet: true, inspect: { onServing: (u) => serving(u), until } })
  run.catch(() => stop())
  let browser: Browser | undefined
  let ui: InspectionServer | undefined
  t.teardown(async () => {
    await browser?.close()
    await ui?.close()
    stop()
    await run.catch(() => {})
  })
  const base = await Promise.race([url, run.then(() => Promise.reject(new Error('the example ended before serving')))])
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream
  ui = await startUi(['--url', base], { stdout: quiet, stderr: quiet })

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  })
  const page: Page = await browser.newPage({ viewport: { width: 1500, height: 1250 } })
  const failed: string[] = []
  page.on('requestfailed', (r) => failed.push(r.url()))
  page.on('pageerror', (e) => failed.push(`page error: ${e.message}`))
  await page.goto(`${ui!.url}/`)
  await page.locator('#actors tr[data-actor="pageStats"]').waitFor()
  await page.locator('#live', { hasText: 'live' }).waitFor()

  // A page's stats in the state table, found by key.
  const home = 'https://shop.example.com/'
  const answer = (await (await fetch(`${base}/api/instance?type=pageStats&key=${encodeURIComponent(home)}`)).json()) as { json: { instance: { state: { views: number } } } }
  const expected = answer.json.instance
  await page.selectOption('#state-type', 'pageStats')
  await page.fill('#state-search', 'shop.example.com/')
  await page.click('#state-form button')
  const row = page.locator(`#state tr[data-key="${home}"]`)
  await row.waitFor()
  const shown = JSON.parse(await row.locator('td.json .clip').innerText()) as { views: number }
  t.equal(shown.views, expected.state.views, `the state table shows ${home} with ${expected.state.views} views`)
  t.ok(shown.views > 0)

  // Its last message, and the trace of the request it belongs to.
  await row.locator('a.msg').click()
  await page.locator('[data-testid="message-status"]').waitFor()
  t.match(await page.locator('[data-testid="message-status"]').innerText(), /pageStats.*done/)
  const tree = page.locator('#trace li[data-trace-node]')
  await tree.first().waitFor()
  t.match(await page.locator('#trace').innerText(), /pageView/, 'the trace starts at the page view')
  t.ok((await page.locator('#trace ul ul ul li').count()) > 0, 'and is at least three deep')

  // A dead letter: the lookup of an address the data lacked. The data learns it; replay.
  const dead = page.locator('#dead tr[data-dead]', { hasText: UNKNOWN_IP })
  await dead.first().waitFor()
  const id = await dead.first().getAttribute('data-dead')
  ;(await openGeoDb()).learn(UNKNOWN_IP, 'ZA')
  await dead.first().locator('button[data-replay]').click()
  await page.locator('#notice', { hasText: `replayed ${id}` }).waitFor()
  for (let i = 0; i < 100; i++) {
    await page.fill('#message-id', id!)
    await page.click('#message-form button')
    await page.locator('[data-testid="message-status"]').waitFor()
    if (/done/.test(await page.locator('[data-testid="message-status"]').innerText())) break
    await page.waitForTimeout(100)
  }
  t.match(await page.locator('[data-testid="message-status"]').innerText(), /geoIpLookup.*done/, 'the replayed lookup was processed')
  await page.locator(`#dead tr[data-dead="${id}"]`).waitFor({ state: 'detached' })
  t.pass('and it left the dead letters')
  t.same(failed, [], 'nothing the page asked for failed')

  if (process.env.TROUPE_UI_SCREENSHOT) {
    await row.locator('a.msg').click()
    await page.waitForTimeout(2_500) // a tick or two of live updates, for the graph's rates
    await page.screenshot({ path: process.env.TROUPE_UI_SCREENSHOT })
  }
})

t.test("a machine actor's current state on its statechart", { skip }, async (t) => {
  needChromium()
  const system = createSystem({ actors: [TrafficLight, LightLog], logLevel: 'silent' })
  const inspector = new SystemInspector(system, { actors: [TrafficLight, LightLog] })
  const server = await serveInspection(inspector, { log: inspector.log })
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(async () => {
    await browser.close()
    await server.close()
    await inspector.close()
    await system.stop({ timeoutMs: 1_000 })
  })
  await system.ask(TrafficLight, { type: 'START', crossing: 'main' })
  await system.ask(TrafficLight, { type: 'START', crossing: 'side' })
  await system.ask(TrafficLight, { type: 'EMERGENCY', crossing: 'side' })
  const page = await browser.newPage()
  await page.goto(`${server.url}/`)
  await page.locator('#actors tr[data-actor="trafficLight"]').waitFor()
  await page.selectOption('#state-type', 'trafficLight')
  await page.click('#state-form button')
  await page.locator('#state tr[data-key="side"]').click()
  const chart = page.locator('#statechart')
  await page.locator('#statechart-title', { hasText: 'trafficLight side' }).waitFor()
  t.equal(await chart.getAttribute('data-active'), 'flashing', 'side is flashing')
  await page.locator('#state tr[data-key="main"]').click()
  await page.locator('#statechart-title', { hasText: 'trafficLight main' }).waitFor()
  t.equal(await chart.getAttribute('data-active'), 'green', 'main is green')
  t.ok(await chart.locator('canvas').count(), 'drawn')
})
