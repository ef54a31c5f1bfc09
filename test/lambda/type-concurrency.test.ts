// A type's concurrency on the local Lambda path: the bundled handler in LocalFunction's
// environments, fed by the local event source mapping from a stream of two shards with
// ParallelizationFactor 4 (up to eight batches at once in as many environments, each leasing the
// type's slots), and ticked as the scheduled rule does, so the wake-ups of the messages that found
// no slot fire. Each turn notes when it started and ended: at most three overlap, and three do;
// every message is applied once, in order per key.
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { bundleFixture, rig } from './fixtures/rig.js'
import { Work, WORK_CONCURRENCY } from './fixtures/capped-actors.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleFixture(t, 'capped')
})
t.teardown(() => stack?.stop())

const KEYS = 24
const PER_KEY = 4

t.test('two shards, ParallelizationFactor 4: at most three turns at once across the environments, three reached, every message once, in order', async (t) => {
  const r = await rig(t, stack, bundle, {
    actors: [Work],
    shards: 2,
    esm: { parallelizationFactor: 4, batchSize: 100, tickEveryMs: 100 },
  })
  const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`)
  await Promise.all(keys.map(async (key) => {
    for (let n = 0; n < PER_KEY; n++) await r.producer.tell(Work, { key, n })
  }))
  const total = KEYS * PER_KEY
  const ran = async () => {
    let n = 0
    for (const key of keys) n += (await r.producer.state(Work, key))?.runs.length ?? 0
    return n
  }
  // Waits for the turns, reading the table: each read is a look, not a pause the test relies on.
  const until = Date.now() + 120_000
  while ((await ran()) < total && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 250))
  const edges: [at: number, change: number][] = []
  for (const key of keys) {
    const seen = (await r.producer.state(Work, key))?.runs ?? []
    t.same(seen.map(([n]) => n), Array.from({ length: PER_KEY }, (_, n) => n), `${key}: every message once, in order`)
    for (const [, startedAt, endedAt] of seen) edges.push([startedAt, 1], [endedAt, -1])
  }
  // The most turns under way at one moment (an end before a start at the same millisecond).
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let most = 0
  for (const [, change] of edges) most = Math.max(most, (now += change))
  t.ok(most <= WORK_CONCURRENCY, `at most ${most} turns at once across the environments, no more than the type's concurrency (${WORK_CONCURRENCY})`)
  t.equal(most, WORK_CONCURRENCY, 'and the load reached it')
  await r.settle()
  const slots = await new DynamoDBTypeSlots({ client: r.aws.dynamodb, tableName: r.name }).read(Work.type)
  t.equal(slots?.used, 0, 'every slot given back')
  t.comment(`${r.batches.length} batches, ${r.esm.stats().ticks} ticks, ${r.fn.stats().inits} environments, ${r.fn.stats().invocations} invocations`)
})
