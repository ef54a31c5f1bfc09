// `troupe graph` on its own: help, an app without pipelines, unknown pipelines and bad flags.
import t from 'tap'
import { troupeInProcess as troupe } from './fixtures/troupe-cli.js'

const COUNTER = 'test/cli/fixtures/counter.app.ts'

t.test('--help says what it draws and the formats', async (t) => {
  const help = await troupe('graph', '--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: troupe graph/)
  t.match(help.stdout, /--format <format>\s+mermaid/)
  t.match((await troupe('--help')).stdout, /graph\s+draw the app's pipelines/)
})

t.test('an app without pipelines is drawn as its actors alone', async (t) => {
  const run = await troupe('graph', '--app', COUNTER, '--json')
  t.equal(run.code, 0, run.stderr)
  const graph = JSON.parse(run.stdout)
  t.equal(graph.name, 'actors')
  t.same(graph.edges, [])
  t.ok(graph.nodes.length >= 2)
})

t.test('bad flags and unknown pipelines exit 2 with the reason', async (t) => {
  const unknown = await troupe('graph', '--app', COUNTER, '--pipeline', 'orders')
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /no pipeline "orders" .* it declares no pipelines/)
  const clash = await troupe('graph', '--app', COUNTER, '--json', '--format', 'dot')
  t.equal(clash.code, 2)
  t.match(clash.stderr, /--json and --format dot disagree/)
  const missing = await troupe('graph', '--app', 'no/such/app.ts')
  t.equal(missing.code, 2)
  t.match(missing.stderr, /no app at no\/such\/app.ts/)
})

t.test("an app whose pipeline's stages are not among its actors is refused, naming them", async (t) => {
  const { appProblem } = await import('../../lib/app/define-app.js')
  const { orders } = await import('../../examples/pipeline-dsl/orders.js')
  t.equal(appProblem({ actors: orders.actors, pipelines: [orders] }), undefined)
  t.match(appProblem({ actors: orders.actors.slice(0, 2), pipelines: [orders] }), /pipeline orders: add its stages to `actors` \(\.\.\.orders\.actors\); missing reserveStock, decide, customerLedger/)
  t.match(appProblem({ actors: orders.actors, pipelines: [{}] }), /pipelines\[0\] is not a pipeline/)
})
