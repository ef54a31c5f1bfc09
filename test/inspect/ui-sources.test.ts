// The web view tells what `troupe inspect` tells, over each source it reads: one process (the
// embedded mode, serving its own inspection), `troupe dev` on its default host (turns in local
// Lambda function processes; counts from the EMF lines they write, state from the table) at the
// inspection URL of its dev.json, and `troupe ui --table` over that run's local table (state
// alone: a table keeps no counts or traffic). After the traffic app's 12 visits over 3 pages
// (visit → tally), Debian's Chromium, driven by playwright-core, reads the page: the header's mode
// and source, the actors table (instances, processed), the graph's nodes and edge counts where
// the source has a graph, and tally's instances with their views; each equals what
// `troupe inspect actors --json` and `troupe inspect state tally --json` print for the same
// source in the same run, and the exact numbers of the app.
// Set TROUPE_UI_SCREENSHOT=1 to write the view over troupe dev's default host to
// docs/inspect-ui.png (1280×800), the README's picture.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createSystem } from '../../lib/index.js'
import { startUi } from '../../lib/cli/ui.js'
import { HttpInspector } from '../../lib/inspect/http-inspector.js'
import { serveInspection, type InspectionServer } from '../../lib/inspect/inspection-server.js'
import type { ActorRow, GraphView, InstanceRow, Page as Listing } from '../../lib/inspect/inspector.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import traffic, { PAGES, VISITS } from '../cli/fixtures/traffic.app.js'
import { runTroupe, startTroupe } from '../cli/fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('../cli/fixtures/traffic.app.ts', import.meta.url))
const SCREENSHOT = fileURLToPath(new URL('../../docs/inspect-ui.png', import.meta.url))
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const VIEWPORT = { width: 1280, height: 800 }
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** How long the visits may take to be processed and counted, and the page to show them. */
const WITHIN_MS = 40_000

const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`
/** Away from CI a missing Chromium skips these tests, saying so; under CI (`CI` set) it fails them. */
const skip = missing !== undefined && !process.env.CI ? missing : false

/** What the app's traffic comes to, on every source. */
const TALLIES = PAGES.map((key) => ({ key, views: VISITS / PAGES.length }))
const EDGES = [
  { edge: '(outside)->visit', count: VISITS },
  { edge: 'visit->tally', count: VISITS },
]
const own = (type: string) => type.startsWith('troupe.')

/** Polls `read` until `done` holds of what it gave; fails naming the last reading past the deadline. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WITHIN_MS
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WITHIN_MS} ms; last read ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** `troupe inspect <args> --json` over a source, in a child process as a user runs it. */
async function inspectJson<T>(t: Test, args: string[], source: { flags: string[]; cwd?: string }): Promise<T> {
  // Only local endpoints: the SDK's notice about future Node versions is noise (troupe dev quiets it too).
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
  const run = await runTroupe(['inspect', ...args, '--json', ...source.flags], { ...(source.cwd ? { cwd: source.cwd } : {}), env, timeoutMs: 30_000 })
  t.equal(run.code, 0, `troupe inspect ${[...args, '--json', ...source.flags].join(' ')}${source.cwd ? ' (in the folder of troupe dev)' : ''} exits 0${run.code !== 0 ? `: ${run.stderr}` : ''}`)
  return JSON.parse(run.stdout) as T
}

/** What `troupe inspect` printed for a source. */
interface Printed {
  actors: ActorRow[]
  tallies: Listing<InstanceRow>
}

async function printed(t: Test, source: { flags: string[]; cwd?: string }): Promise<Printed> {
  const [actors, tallies] = await Promise.all([inspectJson<ActorRow[]>(t, ['actors'], source), inspectJson<Listing<InstanceRow>>(t, ['state', 'tally'], source)])
  return { actors, tallies }
}

/** The actors table as the page shows it: per type, its instances and processed cells. */
const READ_ACTORS = `[...document.querySelectorAll('#actors tbody tr')].map((tr) => ({ type: tr.dataset.actor, instances: tr.cells[1].textContent, processed: tr.cells[2].textContent }))`
/** The actor graph as drawn: each node's count line and each edge label's count and text. */
const READ_GRAPH = `(() => {
  const svg = document.querySelector('#graph svg')
  if (!svg) return { empty: document.querySelector('#graph p.empty')?.textContent ?? null, nodes: [], edges: [] }
  return {
    empty: null,
    nodes: [...svg.querySelectorAll('g.node')].map((g) => ({ id: g.dataset.node, count: g.querySelector('text.count')?.textContent ?? '' })),
    edges: [...svg.querySelectorAll('g.edge-label')].map((g) => ({ edge: g.dataset.edge, count: Number(g.dataset.count), text: g.querySelector('text').textContent })),
  }
})()`
/** Tally's instances in the state table: key and the preview of its state. */
const READ_STATE = `[...document.querySelectorAll('#state tbody tr')].map((tr) => ({ key: tr.dataset.key, preview: tr.querySelector('td.preview').textContent }))`

type ShownActor = { type: string; instances: string; processed: string }
type ShownGraph = { empty: string | null; nodes: { id: string; count: string }[]; edges: { edge: string; count: number; text: string }[] }

interface Source {
  name: string
  /** The page. */
  url: string
  header: { mode: string; source: string }
  /** Whether the source knows counts and traffic (a local table alone does not). */
  counted: boolean
  /** The source's own graph answer, for the edges the page draws. */
  graph?: GraphView
}

const byKey = <T extends { key: string }>(list: T[]) => [...list].sort((a, b) => a.key.localeCompare(b.key))

/**
 * Opens the page over a source and checks what it shows against what `troupe inspect` printed
 * and against the app's numbers. Leaves the page open (on tally's first instance) and returns it.
 */
async function checkPage(t: Test, browser: Browser, source: Source, cli: Printed): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT })
  const failed: string[] = []
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`))
  page.on('pageerror', (e) => failed.push(`page error: ${e.message}`))
  await page.goto(`${source.url}/`)
  const name = source.name

  // The header: the mode and where the answers come from.
  const header = page.locator('#source')
  await header.locator('.mode').waitFor()
  t.equal(await header.getAttribute('data-mode'), source.header.mode, `${name}: the header's mode`)
  t.equal(await header.locator('.mode').innerText(), source.header.mode, `${name}: the mode, marked`)
  t.equal(await header.innerText(), `${source.header.mode} ${source.header.source}`, `${name}: the header says "${source.header.mode} · ${source.header.source}"`)

  // The actors table: a row per type the CLI lists, with its instances and processed counts.
  const expectedRows = cli.actors.map((r) => ({ type: r.type, instances: String(r.instances), processed: r.processed === undefined ? '' : String(r.processed) }))
  const sortRows = (rows: ShownActor[]) => [...rows].sort((a, b) => a.type.localeCompare(b.type))
  const rows = await until(
    async () => sortRows((await page.evaluate(READ_ACTORS)) as ShownActor[]),
    (shown) => JSON.stringify(shown) === JSON.stringify(sortRows(expectedRows)),
    `${name}: the actors table showing what troupe inspect actors --json printed`,
  )
  t.same(rows, sortRows(expectedRows), `${name}: the actors table shows each type's instances and processed as troupe inspect actors --json prints them`)
  const row = (type: string) => rows.find((r) => r.type === type)
  if (source.counted) {
    t.same(['visit', 'tally'].map((type) => row(type)?.processed), [String(VISITS), String(VISITS)], `${name}: visit and tally each processed ${VISITS}`)
  } else {
    // A table alone keeps no counts; it knows a type by its items, and visit, which keeps no
    // state, by when it last ran (the shards' memory of stateless messages).
    t.same(rows.filter((r) => r.processed !== ''), [], `${name}: no processed counts (a table alone keeps none), as the CLI prints none`)
    t.equal(row('visit')?.instances, '0', `${name}: visit, known by when it last ran, with no instance`)
  }
  t.equal(row('tally')?.instances, String(PAGES.length), `${name}: tally has ${PAGES.length} instances, one per page`)

  // The graph: an edge per pair of types with its count, each as the source answers; or none.
  const graph = await until(
    async () => (await page.evaluate(READ_GRAPH)) as ShownGraph,
    (g) => (source.counted ? EDGES.every((e) => g.edges.some((s) => s.edge === e.edge && s.count === e.count)) : g.empty !== null),
    `${name}: the graph drawn`,
  )
  if (source.counted) {
    const answered = source.graph!.edges.map((e) => ({ edge: `${e.from}->${e.to}`, count: e.count })).sort((a, b) => a.edge.localeCompare(b.edge))
    t.same(graph.edges.map(({ edge, count }) => ({ edge, count })).sort((a, b) => a.edge.localeCompare(b.edge)), answered, `${name}: a label on every edge of the source's graph, with its count`)
    t.same(
      graph.edges.filter((e) => !own(e.edge.split('->')[0]!) && !own(e.edge.split('->')[1]!)).map(({ edge, count }) => ({ edge, count })).sort((a, b) => a.edge.localeCompare(b.edge)),
      EDGES,
      `${name}: outside → visit → tally, ${VISITS} messages each`,
    )
    for (const e of graph.edges) t.match(e.text, new RegExp(`^${e.count}( · [0-9.]+/s)?$`), `${name}: the label of ${e.edge} says its ${e.count} messages`)
    t.same(
      ['visit', 'tally'].map((id) => graph.nodes.find((n) => n.id === id)?.count),
      [`${VISITS} received`, `${VISITS} received`],
      `${name}: the visit and tally nodes each say ${VISITS} received`,
    )
  } else {
    t.same(graph.nodes, [], `${name}: no graph drawn`)
    t.match(graph.empty, /no traffic graph/, `${name}: and the page says why`)
  }

  // Tally's instances: a row per page, its views in the preview, as the CLI prints its state.
  await page.selectOption('#state-type', 'tally')
  await page.click('#state-form button')
  const state = await until(
    async () => (await page.evaluate(READ_STATE)) as { key: string; preview: string }[],
    // Until the rows are tally's (those of the type listed before may show first).
    (items) => items.length === PAGES.length && items.every((i) => /^\{"views": \d+\}$/.test(i.preview)),
    `${name}: tally's instances listed`,
  )
  const shownTallies = byKey(state.map((s) => ({ key: s.key, views: (JSON.parse(s.preview) as { views: number }).views })))
  t.same(shownTallies, byKey(cli.tallies.items.map((i) => ({ key: i.key, views: (i.state as { views: number }).views }))), `${name}: tally's instances and views as troupe inspect state tally --json prints them`)
  t.same(shownTallies, TALLIES, `${name}: ${VISITS / PAGES.length} views on each of the ${PAGES.length} pages`)
  // An instance opens in the panel, whole.
  await page.locator('#instance-title', { hasText: /^tally \// }).waitFor({ timeout: WITHIN_MS })
  const opened = (await page.locator('#instance-title').innerText()).slice('tally '.length)
  t.ok(PAGES.includes(opened), `${name}: the panel opens one of tally's instances`)
  t.equal(await page.locator('#instance-state .json-view [data-key="views"]').innerText(), `"views": ${VISITS / PAGES.length}`, `${name}: the panel shows ${opened} with its views`)

  t.same(failed, [], `${name}: nothing the page asked for failed`)
  return page
}

let browser: Browser | undefined
t.before(async () => {
  if (skip) return
  if (missing !== undefined) throw new Error(`${missing} (CI is set, so the browser tests do not skip)`)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
})
t.teardown(async () => {
  await browser?.close()
})

t.test('one process: the embedded mode serving its own inspection', { skip }, async (t) => {
  const system = createSystem({ actors: traffic.actors, logLevel: 'silent' })
  const inspector = new SystemInspector(system, { actors: traffic.actors })
  let server: InspectionServer | undefined
  t.teardown(async () => {
    await server?.close()
    await inspector.close()
    await system.stop({ timeoutMs: 1_000 })
  })
  server = await serveInspection(inspector, { log: inspector.log })
  await traffic.start!(system, { dir: t.testdir(), once: false, log: () => {} })
  await system.idle()
  const graph = await until(
    () => inspector.graph(),
    (g) => EDGES.every((e) => g?.edges.some((s) => `${s.from}->${s.to}` === e.edge && s.count === e.count)),
    'embedded: the traffic of the visits',
  )
  const source = { flags: ['--url', server.url] }
  const cli = await printed(t, source)
  const page = await checkPage(t, browser!, { name: 'embedded', url: server.url, header: { mode: 'embedded', source: 'one process' }, counted: true, graph: graph! }, cli)
  await page.close()
})

t.test("troupe dev's default host, and --table over its local table", { skip }, async (t) => {
  const dir = t.testdir()
  const dev = startTroupe(['dev', '--app', APP], { cwd: dir })
  let ui: InspectionServer | undefined
  t.teardown(async () => {
    await ui?.close()
    if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL')
  })
  await dev.waitFor('Ctrl-C stops')
  const info = JSON.parse(readFileSync(join(dir, '.troupe', 'dev.json'), 'utf8')) as {
    inspect: { url: string }
    host: { kind: string }
    dynamodb: { endpoint: string; table: string }
    kinesis: { streams: { name: string }[] }
  }
  t.equal(info.host.kind, 'lambda', 'troupe dev ran on its default host, the Lambda functions')
  const { table, endpoint } = info.dynamodb
  const stream = info.kinesis.streams[0]!.name

  // Counted (the functions' EMF lines reach troupe dev after each invocation) and in the table.
  const inspector = new HttpInspector(info.inspect.url)
  await until(
    () => inspector.actors(),
    (rows) => ['visit', 'tally'].every((type) => rows.find((r) => r.type === type)?.processed === VISITS),
    `dev: visit and tally each processed ${VISITS}`,
  )
  const graph = await until(
    () => inspector.graph(),
    (g) => EDGES.every((e) => g?.edges.some((s) => `${s.from}->${s.to}` === e.edge && s.count === e.count)),
    `dev: the traffic of the visits`,
  )
  await until(
    async () => (await inspector.instances('tally')).items.map((i) => (i.state as { views: number }).views).reduce((n, v) => n + v, 0),
    (views) => views === VISITS,
    `dev: ${VISITS} views in the table`,
  )

  // troupe inspect over each: the running dev (no flags, in its folder) and the table itself.
  const devSource = { flags: [], cwd: dir }
  const tableSource = { flags: ['--table', table, '--endpoint', endpoint] }
  const [devCli, tableCli] = await Promise.all([printed(t, devSource), printed(t, tableSource)])

  const devPage = await checkPage(
    t,
    browser!,
    {
      name: 'troupe dev',
      url: info.inspect.url,
      header: { mode: 'aws', source: `table ${table}, stream ${stream}; metrics the functions wrote (EMF lines)` },
      counted: true,
      graph: graph!,
    },
    devCli,
  )

  // troupe ui --table, started in this process as the command starts it.
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream
  ui = await startUi(tableSource.flags, { stdout: quiet, stderr: quiet })
  const tablePage = await checkPage(t, browser!, { name: '--table', url: ui!.url, header: { mode: 'aws', source: `table ${table}` }, counted: false }, tableCli)
  await tablePage.close()

  if (process.env.TROUPE_UI_SCREENSHOT === '1') {
    // The view over troupe dev's default host as a reader first sees it: graph, actors, tally's instances.
    await devPage.evaluate('scrollTo(0, 0)')
    await devPage.screenshot({ path: SCREENSHOT })
    t.pass(`screenshot written to ${SCREENSHOT}`)
  }
  await devPage.close()

  dev.child.kill('SIGINT')
  t.equal((await dev.done).code, 0, 'troupe dev stopped cleanly')
})
