// A type's rate on the local Lambda path: the bundled handler in LocalFunction's environments,
// fed by the local event source mapping from a stream of two shards with ParallelizationFactor 4
// (up to eight batches at once, each claiming from the type's bucket), and ticked as the
// scheduled rule does, so the wake-ups of the messages that wait fire. From the backlog's start the
// type never runs more than burst + rate × time (a turn never runs before its token; it may run up
// to a second after it, so a later window may hold the turns of tokens earned just before it), the
// whole backlog runs at the rate within 10 %, and no message is lost or applied twice.
//
// A key's messages run one after another, each a few hops (park, wake-up, tick, batch, commit), so
// with L keys waiting and W seconds a turn the type can run at most L / W turns a second (Little's
// law), whatever its rate. The test spreads the backlog over 240 keys, so L / W stays above the
// rate while W is under six seconds (on a busy machine it is a few), and what it measures is the
// rate. The test's looks at the table read only the keys not yet done, so they add little load.
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { bundleFixture, rig } from './fixtures/rig.js'
import { Fetch, FETCH_RATE } from './fixtures/throttled-actors.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'throttled')
})
t.teardown(() => stack?.stop())

const SITES = 240
// 920 turns past the burst: 23 s at the rate, so that a wake-up's designed lateness (up to a
// second past its token) at either end of the run is a few percent of it, not the whole 10 %.
const PER_SITE = 4
const WINDOW_MS = 5_000

t.test('two shards, ParallelizationFactor 4: the type holds its rate within 10 %, every message once, in order', async (t) => {
  const r = await rig(t, stack, bundle, {
    actors: [Fetch],
    shards: 2,
    esm: { parallelizationFactor: 4, batchSize: 100, tickEveryMs: 100 },
  })
  const sites = Array.from({ length: SITES }, (_, i) => `site-${i}.example`)
  // The backlog's start: no token of the type is taken before it.
  const backlogStart = Date.now()
  // Each site's messages in order (a system keeps a key's tells in order), the sites at once.
  await Promise.all(sites.map(async (site) => {
    for (let n = 0; n < PER_SITE; n++) await r.producer.tell(Fetch, { site, n })
  }))
  const total = SITES * PER_SITE
  let waiting = sites
  const look = async () => {
    const runs = await Promise.all(waiting.map(async (site) => (await r.producer.state(Fetch, site))?.runs.length ?? 0))
    waiting = waiting.filter((_, i) => runs[i]! < PER_SITE)
  }
  // Waits for the turns, reading the table: each read is a look, not a pause the test relies on.
  const until = Date.now() + 120_000
  while ((await look(), waiting.length > 0) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 500))
  const runs: number[] = []
  for (const site of sites) {
    const seen = (await r.producer.state(Fetch, site))?.runs ?? []
    t.same(seen.map(([n]) => n), Array.from({ length: PER_SITE }, (_, n) => n), `${site}: every message once, in order`)
    runs.push(...seen.map(([, at]) => at))
  }
  runs.sort((a, b) => a - b)
  const first = runs[0]!
  // The window starts at the backlog's start, not at the first turn: a turn runs up to a second
  // after its token, so the first turn's token may be older than the turn, and a window from the
  // first turn can hold the tokens of more than its own length (a CI run counted 244 there against
  // 240: four turns, a tenth of a second of the rate). No token is taken before the backlog is.
  const inWindow = runs.filter((at) => at < backlogStart + WINDOW_MS).length
  // The backlog outlasts the window: the type may run its burst and its rate all along, no more.
  // (How close to that the first window comes is the wake-ups' start-up on this machine — each may
  // wait up to a second past its token to run several at once — so the rate is checked below, over
  // the whole run, not there.)
  const most = FETCH_RATE.burst + (FETCH_RATE.ratePerSecond * WINDOW_MS) / 1000
  t.ok(inWindow <= most, `${inWindow} turns in the first ${WINDOW_MS} ms from the backlog's start, at most burst + rate × time = ${most}`)
  const spanS = (runs.at(-1)! - first) / 1000
  const rate = (total - FETCH_RATE.burst) / spanS
  t.ok(Math.abs(rate - FETCH_RATE.ratePerSecond) <= 0.1 * FETCH_RATE.ratePerSecond, `after the burst, ${total - FETCH_RATE.burst} turns in ${spanS.toFixed(2)} s: ${rate.toFixed(1)}/s, within 10 % of ${FETCH_RATE.ratePerSecond}/s`)
  t.comment(`${r.batches.length} batches, ${r.esm.stats().ticks} ticks`)
  await r.settle()
})
