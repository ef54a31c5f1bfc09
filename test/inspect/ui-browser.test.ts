// The web view end to end: the flagship example serving inspection, `troupe ui --url` in front of
// it, Debian's Chromium driven by playwright-core, at 1280×800. The page says what it reads, draws
// the actor graph legibly, finds a page's stats in the state table and shows them whole with the
// messages that changed them, opens a trace, and replays a dead letter (after the geo data learns
// the address) and sees it processed.
// Set TROUPE_UI_SCREENSHOT=<file.png> to keep a screenshot of the page at the end.
import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { runAnalytics } from '../../examples/analytics/run.js'
import { openGeoDb } from '../../examples/analytics/lib/geo.js'
import { Actor, createSystem, type Context } from '../../lib/index.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import { startUi } from '../../lib/cli/ui.js'
import type { InspectionServer } from '../../lib/inspect/inspection-server.js'
import { LightLog, TrafficLight } from '../xstate/fixtures/machines.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** A public address the geo data has no range for: its lookup is dead-lettered. */
const UNKNOWN_IP = '102.197.33.7'

const VIEWPORT = { width: 1280, height: 800 }
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`
/** Away from CI a missing Chromium skips these tests, saying so; under CI (`CI` set) it fails them. */
const skip = missing !== undefined && !process.env.CI ? missing : false

interface Box {
  x: number
  y: number
  w: number
  h: number
}
interface Drawn {
  height: number
  ranks: number
  nodes: { id: string; box: Box; fonts: number[]; texts: Box[] }[]
  labels: { edge: string; text: string; font: number; box: Box }[]
}

/** Run in the page (as text: these tests compile without the DOM's types): what the actor graph looks like on screen. */
const MEASURE_GRAPH = `(() => {
  const svg = document.querySelector('#graph svg')
  // The size a text is drawn at on screen: its font size through every transform above it.
  const px = (t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a
  const box = (e) => {
    const r = e.getBoundingClientRect()
    return { x: r.x, y: r.y, w: r.width, h: r.height }
  }
  return {
    height: svg.getBoundingClientRect().height,
    ranks: Number(svg.dataset.ranks),
    nodes: [...svg.querySelectorAll('g.node')].map((g) => ({
      id: g.dataset.node,
      box: box(g.querySelector('rect')),
      fonts: [...g.querySelectorAll('text')].map(px),
      texts: [...g.querySelectorAll('text')].map(box),
    })),
    labels: [...svg.querySelectorAll('g.edge-label')].map((g) => ({ edge: g.dataset.edge, text: g.querySelector('text').textContent, font: px(g.querySelector('text')), box: box(g.querySelector('rect')) })),
  }
})()`

/** Opens every fold of the instance panel's JSON view. */
const OPEN_ALL = `document.querySelectorAll('#instance-state details').forEach((d) => (d.open = true))`

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
  const page: Page = await browser.newPage({ viewport: VIEWPORT })
  const failed: string[] = []
  page.on('requestfailed', (r) => failed.push(r.url()))
  page.on('pageerror', (e) => failed.push(`page error: ${e.message}`))
  await page.goto(`${ui!.url}/`)
  await page.locator('#actors tr[data-actor="pageStats"]').waitFor()
  await page.locator('#live', { hasText: 'live' }).waitFor()

  // The header says what the view reads: the example's one process, through the server at base.
  await page.locator('#source', { hasText: 'one process' }).waitFor()
  t.equal(await page.locator('#source').innerText(), `embedded one process at ${base}`, 'the header names the mode and the source')
  t.equal(await page.locator('#source').getAttribute('data-mode'), 'embedded')

  // The actor graph at its natural size: a row per step from the outside to pageStats, every
  // label at least 12 px on screen, every edge with its count, nothing on top of anything.
  const graphAnswer = (await (await fetch(`${base}/api/graph`)).json()) as { json: { graph: { edges: { from: string; to: string; count: number }[] } } }
  const edges = graphAnswer.json.graph.edges
  await page.locator('#graph g.node[data-node="pageStats"]').waitFor()
  const drawn = (await page.evaluate(MEASURE_GRAPH)) as Drawn
  const nodeIds = drawn.nodes.map((n) => n.id).sort()
  t.same(nodeIds, ['(outside)', 'enrichedPageView', 'geoIpLookup', 'pageStats', 'pageView', 'resolveUserAgent', 'troupe.joiner'], 'every actor that received a message, and the outside')
  t.equal(drawn.ranks, 6, 'six rows: outside, pageView, the two lookups, the join, enrichedPageView, pageStats')
  // Rows of 40 px nodes, 44 px between rows (an edge label and its margins), 16 px around.
  t.equal(drawn.height, 16 + 6 * 40 + 5 * 44 + 16, 'the graph is as tall as its six rows: 492 px')
  t.ok(drawn.nodes.every((n) => n.box.h === 40), 'every node is drawn 40 px high (not scaled down)')
  t.same([...new Set(drawn.nodes.flatMap((n) => n.fonts))].sort(), [12, 13], 'node names at 13 px and counts at 12 px, on screen')
  t.ok(drawn.labels.every((l) => l.font === 12), 'edge labels at 12 px, on screen')
  t.ok(drawn.nodes.every((n) => n.texts.every((x) => x.x >= n.box.x && x.x + x.w <= n.box.x + n.box.w)), 'every node label fits in its node')
  t.same(drawn.labels.map((l) => l.edge).sort(), edges.map((e) => `${e.from}->${e.to}`).sort(), 'a label on every edge')
  for (const e of edges) {
    const label = drawn.labels.find((l) => l.edge === `${e.from}->${e.to}`)
    t.match(label?.text, new RegExp(`^${e.count}( · [0-9.]+/s)?$`), `${e.from} → ${e.to} says its ${e.count} messages`)
  }
  const boxes = [...drawn.nodes.map((n) => ({ what: n.id, ...n.box })), ...drawn.labels.map((l) => ({ what: `label ${l.edge}`, ...l.box }))]
  const overlaps = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).map((b) => `${a.what} / ${b.what}`))
  t.same(overlaps, [], 'no node or label on top of another')

  // A page's stats in the state table, found by key; the instance panel shows them whole.
  const home = 'https://shop.example.com/'
  type Row = { state: { views: number; byCountry: Record<string, number> }; lastMessageId: string; recent: string[] }
  const answer = (await (await fetch(`${base}/api/instance?type=pageStats&key=${encodeURIComponent(home)}`)).json()) as { json: { instance: Row } }
  const expected = answer.json.instance
  await page.selectOption('#state-type', 'pageStats')
  await page.fill('#state-search', 'shop.example.com/')
  await page.click('#state-form button')
  const row = page.locator(`#state tr[data-key="${home}"]`)
  await row.waitFor()
  t.match(await row.locator('td.preview').innerText(), new RegExp(`^\\{"views": ${expected.state.views}, `), 'the row previews the state')
  await row.click()
  await page.locator('#instance-title', { hasText: `pageStats ${home}` }).waitFor()
  const view = page.locator('#instance-state .json-view')
  t.equal(await view.locator('[data-key="views"]').innerText(), `"views": ${expected.state.views},`, `the panel shows ${home} with ${expected.state.views} views`)
  t.ok(expected.state.views > 0)

  // A nested value starts folded, with a preview, and opens to show all of it.
  const byCountry = view.locator('details.j-node[data-key="byCountry"]')
  const countries = Object.keys(expected.state.byCountry).length
  t.equal(await byCountry.getAttribute('open'), null, 'byCountry starts folded')
  t.equal(await byCountry.locator(':scope > summary .j-size').innerText(), ` ${countries} keys`)
  t.equal(await byCountry.locator(':scope > .j-entries').isVisible(), false)
  await byCountry.locator(':scope > summary').click()
  t.equal(await byCountry.getAttribute('open'), '', 'and opens')
  const entries = (await byCountry.locator(':scope > .j-entries > .j-line').allInnerTexts()).map((line) => JSON.parse(`{${line.replace(/,$/, '')}}`) as Record<string, number>)
  t.same(Object.assign({}, ...entries), expected.state.byCountry, 'showing every country and its count')
  // Everything opened, the view reads as the state's JSON: nothing cut.
  await page.evaluate(OPEN_ALL)
  t.same(JSON.parse(await view.innerText()), expected.state, 'the whole state, opened, is the instance state')

  // The messages that changed it, newest first: the last 20 the inspector remembers.
  const listed = await page.locator('#instance-recent li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-message')))
  t.equal(listed.length, Math.min(20, expected.state.views), 'one message per view, the last 20 of them')
  t.same(listed, expected.recent, 'the messages the inspector gives, in its order')
  t.equal(listed[0], expected.lastMessageId, 'the newest first')
  const messages = await Promise.all(
    listed.map(async (id) => {
      const m = (await (await fetch(`${base}/api/message?id=${encodeURIComponent(id!)}`)).json()) as { json: { message: { message: { type: string; key: string; history: { status: string; at: number }[] } } } }
      return m.json.message.message
    }),
  )
  t.same(new Set(messages.map((m) => `${m.type} ${m.key}`)), new Set([`pageStats ${home}`]), 'each of them a message to this instance')
  const doneAt = messages.map((m) => m.history.findLast((h) => h.status === 'done')!.at)
  t.same(doneAt, [...doneAt].sort((a, b) => b - a), 'each done no later than the one before it in the list')

  // The newest, and the trace of the request it belongs to.
  await page.locator('#instance-recent li a.msg').first().click()
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
    await page.locator('#instance-recent li a.msg').first().click()
    await page.waitForTimeout(2_500) // a tick or two of live updates, for the graph's rates
    await page.evaluate('scrollTo(0, 0)')
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
  const page = await browser.newPage({ viewport: VIEWPORT })
  await page.goto(`${server.url}/`)
  await page.locator('#actors tr[data-actor="trafficLight"]').waitFor()
  await page.selectOption('#state-type', 'trafficLight')
  await page.click('#state-form button')
  await page.locator('#state tr[data-key="side"]').click()
  const chart = page.locator('#statechart')
  await page.locator('#instance-title', { hasText: 'trafficLight side' }).waitFor()
  t.equal(await chart.getAttribute('data-active'), 'flashing', 'side is flashing')
  await page.locator('#state tr[data-key="main"]').click()
  await page.locator('#instance-title', { hasText: 'trafficLight main' }).waitFor()
  t.equal(await chart.getAttribute('data-active'), 'green', 'main is green')
  t.ok(await chart.locator('canvas').count(), 'drawn')
})

/** An actor whose state has what a table cell cannot show: a long text and values five deep. */
class Notebook extends Actor<{ page: string; line: string }, void, { title: string; text: string; sections: { name: string; notes: { at: number; tags: string[]; more: { deep: { deeper: string } } }[] }[] }> {
  static readonly type = 'notebook'
  key(msg: Notebook['In']) {
    return msg.page
  }
  initialState() {
    return { title: '', text: '', sections: [] }
  }
  receive(msg: Notebook['In'], ctx: Context<Notebook['State']>) {
    ctx.state.title = msg.page
    ctx.state.text += msg.line
    ctx.state.sections.push({ name: `section ${ctx.state.sections.length + 1}`, notes: [{ at: ctx.state.sections.length, tags: ['a', 'b'], more: { deep: { deeper: msg.line.slice(0, 10) } } }] })
  }
}

t.test('an instance whole: a long text, deep values, and the messages that changed it', { skip }, async (t) => {
  needChromium()
  const system = createSystem({ actors: [Notebook], logLevel: 'silent' })
  const inspector = new SystemInspector(system, { actors: [Notebook] })
  const server = await serveInspection(inspector, { log: inspector.log })
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(async () => {
    await browser.close()
    await server.close()
    await inspector.close()
    await system.stop({ timeoutMs: 1_000 })
  })
  const lines = ['The first line of a long text, '.repeat(6), 'then a second, as long as the first one was, '.repeat(4), 'and a third.']
  const ids: string[] = []
  for (const line of lines) ids.push(await system.tell(Notebook, { page: 'p1', line }))
  await system.idle()
  const state = await system.state(Notebook, 'p1')

  const page = await browser.newPage({ viewport: VIEWPORT })
  await page.goto(`${server.url}/`)
  await page.locator('#source', { hasText: 'one process' }).waitFor()
  t.equal(await page.locator('#source').innerText(), 'embedded one process', 'the header names the mode and the source')
  await page.locator('#instance-title', { hasText: 'notebook p1' }).waitFor()

  t.same(await page.locator('#instance-recent li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-message'))), [...ids].reverse(), 'its three messages, newest first')

  const view = page.locator('#instance-state .json-view')
  const text = view.locator('details.j-long[data-key="text"]')
  t.equal(await text.getAttribute('open'), null, 'the long text starts folded')
  t.equal(await text.locator(':scope > summary .j-size').innerText(), ` ${state!.text.length} characters`)
  t.match(await text.locator(':scope > summary').innerText(), /^"text": "The first line of a long text, The first line.*…"/)
  await text.locator(':scope > summary').click()
  t.equal(await text.locator(':scope > .j-line').innerText(), `${JSON.stringify(state!.text)},`, 'and opens to all of it')

  // Three levels down: sections → the first → its notes, each opened in turn.
  const sections = view.locator('details.j-node[data-key="sections"]')
  await sections.locator(':scope > summary').click()
  const first = sections.locator(':scope > .j-entries > details.j-node').first()
  await first.locator(':scope > summary').click()
  const notes = first.locator(':scope > .j-entries > details.j-node[data-key="notes"]')
  t.equal(await notes.getAttribute('open'), null, 'a deep value starts folded')
  await notes.locator(':scope > summary').click()
  t.ok(await notes.locator(':scope > .j-entries').isVisible(), 'and opens')
  await page.evaluate(OPEN_ALL)
  t.same(JSON.parse(await view.innerText()), state, 'the whole state, opened, is the instance state')
})
