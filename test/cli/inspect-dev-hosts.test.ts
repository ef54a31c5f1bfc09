// `troupe dev` inspected on each host tells the same truth: after the same visits, `troupe inspect`
// over the default Lambda host (turns in function processes; counts from the EMF lines they write,
// state from the table) shows the processed counts, last activity, iterator age, traffic, state and
// cost that the in-process host shows; the cost of each is priced for what runs its turns. Both
// list instances from the table: a key paused before any turn of it shows on each.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HttpInspector } from '../../lib/inspect/http-inspector.js'
import type { ActorRow, CostView } from '../../lib/inspect/inspector.js'
import type { MessageCost } from '../../lib/cost/message-cost.js'
import { HELD, PAGES, VISITS } from './fixtures/traffic.app.js'
import { runTroupe, startTroupe } from './fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('./fixtures/traffic.app.ts', import.meta.url))
/** How long the visits may take to be processed and counted, from ready. */
const COUNTED_WITHIN_MS = 40_000

/** Polls `read` until `done` holds of what it gave; fails naming the last reading past the deadline. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + COUNTED_WITHIN_MS
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${COUNTED_WITHIN_MS} ms; last read ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

const processed = (rows: ActorRow[], type: string) => rows.find((r) => r.type === type)?.processed

interface Seen {
  actors: ActorRow[]
  cli: ActorRow[]
  edges: { from: string; to: string; count: number }[]
  tallies: { key: string; views: unknown }[]
  /** The tally paused before any turn of it, as `inspect state tally /held` shows it. */
  held: { paused: boolean | undefined } | undefined
  cost: { messages: number; requests: number; byApi: Record<string, { requests: number }> } | undefined
  /** `troupe inspect cost --json`: the counts priced. */
  priced: CostView & { dollars: MessageCost }
  trace: unknown[]
}

async function inspectDev(t: Test, host: 'lambda' | 'process'): Promise<Seen> {
  const dir = t.testdir()
  const dev = startTroupe(['dev', '--host', host, '--app', APP], { cwd: dir, env: { FIXTURE_HELD: '1' } })
  t.teardown(() => {
    if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL')
  })
  await dev.waitFor('Ctrl-C stops')
  const { inspect, app } = JSON.parse(readFileSync(join(dir, '.troupe', 'dev.json'), 'utf8')) as { inspect: { url: string }; app: { info: { first: string } } }
  const inspector = new HttpInspector(inspect.url)
  const actors = await until(
    () => inspector.actors(),
    (rows) => processed(rows, 'visit') === VISITS && processed(rows, 'tally') === VISITS,
    `${host}: visit and tally each processed ${VISITS}`,
  )
  const graph = await until(
    () => inspector.graph(),
    (g) => (g?.edges ?? []).filter((e) => !e.from.startsWith('troupe.') && !e.to.startsWith('troupe.')).reduce((n, e) => n + e.count, 0) === 2 * VISITS,
    `${host}: the traffic of ${2 * VISITS} messages`,
  )
  const cli = await runTroupe(['inspect', 'actors', '--json'], { cwd: dir, timeoutMs: 30_000 })
  t.equal(cli.code, 0, cli.stderr)
  const priced = await runTroupe(['inspect', 'cost', '--json'], { cwd: dir, timeoutMs: 30_000 })
  t.equal(priced.code, 0, priced.stderr)
  const page = await inspector.instances('tally')
  const held = await inspector.instance('tally', HELD)
  // The first visit's request: its id is its correlation id (told from outside a turn).
  const trace = await until(
    () => inspector.trace(app.info.first),
    (roots) => roots.length === 1 && roots[0]!.status === 'done' && roots[0]!.children.length === 1 && roots[0]!.children[0]!.status === 'done',
    `${host}: the first visit's trace, visit → tally, both done`,
  )
  const cost = await inspector.cost()
  dev.child.kill('SIGINT')
  t.equal((await dev.done).code, 0, `${host}: troupe dev stopped cleanly`)
  return {
    actors,
    cli: JSON.parse(cli.stdout) as ActorRow[],
    edges: graph!.edges.filter((e) => !e.from.startsWith('troupe.') && !e.to.startsWith('troupe.')).map(({ from, to, count }) => ({ from, to, count })),
    tallies: page.items.filter((i) => i.key !== HELD).map((i) => ({ key: i.key, views: (i.state as { views: number }).views })),
    held: held && { paused: held.paused },
    cost: cost && { messages: cost.messages, requests: cost.requests, byApi: cost.byApi },
    priced: JSON.parse(priced.stdout) as CostView & { dollars: MessageCost },
    trace: trace.map(function shape(n): unknown {
      return { type: n.type, status: n.status, children: n.children.map(shape) }
    }),
  }
}

t.test('after the same visits, the Lambda host and the in-process host show the same counts, traffic and state', async (t) => {
  const lambda = await inspectDev(t, 'lambda')
  const inProcess = await inspectDev(t, 'process')
  const expectedTallies = PAGES.map((page) => ({ key: page, views: VISITS / PAGES.length }))
  const expectedEdges = [
    { from: '(outside)', to: 'visit', count: VISITS },
    { from: 'visit', to: 'tally', count: VISITS },
  ]
  for (const [host, seen] of [['lambda', lambda], ['process', inProcess]] as const) {
    // A table is read in its scan order (by hash), one process in key order: compare as sets.
    t.same(seen.tallies.sort((a, b) => a.key.localeCompare(b.key)), expectedTallies, `${host}: every page's tally, from inspect state`)
    // The in-process host remembers only the instances whose turns ran in it: this one is in the table alone.
    t.same(seen.held, { paused: true }, `${host}: the tally paused before any turn of it, shown as paused`)
    t.equal(seen.cli.find((r) => r.type === 'tally')?.instances, PAGES.length + 1, `${host}: and counted among the instances`)
    t.same(seen.edges.sort((a, b) => a.from.localeCompare(b.from)), expectedEdges, `${host}: outside → visit → tally, once per visit`)
    t.same(
      ['visit', 'tally'].map((type) => processed(seen.cli, type)),
      [VISITS, VISITS],
      `${host}: troupe inspect actors --json shows what the inspection URL shows`,
    )
    t.same(
      ['visit', 'tally'].map((type) => seen.cli.find((r) => r.type === type)?.kind),
      ['keyed', 'keyed'],
      `${host}: and each type's kind, from the app`,
    )
    for (const type of ['visit', 'tally']) {
      const row = seen.cli.find((r) => r.type === type)
      t.ok(row?.iteratorAgeMs !== undefined && row.iteratorAgeMs >= 0, `${host}: ${type}'s iterator age (${row?.iteratorAgeMs} ms)`)
    }
    // The Lambda host's last activity is the table's: an instance's item for a type that keeps
    // state, the shard's memory of stateless messages for one that keeps none (visit).
    for (const type of ['visit', 'tally']) {
      const row = seen.cli.find((r) => r.type === type)
      t.ok(row?.lastActivityAt !== undefined && row.lastActivityAt > Date.now() - 10 * 60_000, `${host}: ${type}'s last activity (${row?.lastActivityAt})`)
    }
    t.ok(seen.cost, `${host}: inspect cost answers`)
    t.same(seen.trace, [{ type: 'visit', status: 'done', children: [{ type: 'tally', status: 'done', children: [] }] }], `${host}: a request's trace, whole`)
  }
  // The function processes' requests are counted with troupe dev's own: the host's reads of the
  // state table happen only there.
  t.equal(lambda.cost!.messages, 2 * VISITS + processedOwn(lambda.actors), 'lambda: cost counts every message the functions processed')
  t.equal(
    lambda.cost!.requests,
    Object.values(lambda.cost!.byApi).reduce((n, c) => n + c.requests, 0),
    'lambda: the requests are the sum over APIs',
  )
  t.ok(Object.keys(lambda.cost!.byApi).some((api) => api.startsWith('DynamoDB.')) && lambda.cost!.byApi['Kinesis.PutRecords'] !== undefined, 'lambda: both the functions\' and troupe dev\'s APIs')

  // Each host's cost is priced for what runs its turns: the functions pay Lambda compute; the
  // in-process host reads its streams itself, as a container does, and pays none.
  t.equal(lambda.priced.compute, 'lambda', 'lambda: the turns ran in host functions')
  t.ok(lambda.priced.dollars.perMillionMessages.byService.Lambda! > 0, 'lambda: Lambda compute is priced')
  t.equal(inProcess.priced.compute, 'process', 'process: the turns ran in troupe dev\'s process')
  t.equal(inProcess.priced.dollars.perMillionMessages.byService.Lambda, undefined, 'process: no Lambda compute is priced')
  t.match(inProcess.priced.dollars.assumptions, [/no Lambda compute: the turns ran in the process that counted the requests/], 'process: and it says why')
})

/** Messages of troupe's own actors (timers, joins) that the functions processed too. */
function processedOwn(rows: ActorRow[]): number {
  return rows.filter((r) => r.type.startsWith('troupe.')).reduce((n, r) => n + (r.processed ?? 0), 0)
}
