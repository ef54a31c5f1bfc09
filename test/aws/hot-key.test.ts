// One hot key on the local Kinesis and DynamoDB: a producer's many tells to one instance go out as
// aggregate records (a few PutRecords calls, not one per message) and arrive in send order,
// each applied once; a poison message among them dead-letters alone; a body kept in the payload
// store rides in an aggregate as its reference; a burst's memory of its messages stays small.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem, type AwsSystemOptions } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode } from '../../lib/core/serialization.js'
import type { InstanceMeta } from '../../lib/hosts/durable/instance-meta.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'

type In = { n: number; poison?: true; blob?: string }
interface Ledger {
  seen: number[]
  blobs: number
}

class HotLedger extends Actor<In, void, Ledger> {
  static readonly type = 'hot.ledger'
  static readonly policy = { maxAttempts: 2, initialDelayMs: 1 }
  key() {
    return 'hot'
  }
  initialState(): Ledger {
    return { seen: [], blobs: 0 }
  }
  receive(m: In, ctx: Context<Ledger>) {
    if (m.poison) throw new Error(`message ${m.n} is poison`)
    ctx.state.seen.push(m.n)
    if (m.blob !== undefined && m.blob === 'b'.repeat(20_000)) ctx.state.blobs++
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

let streams = 0

async function system(t: Test, options: Partial<AwsSystemOptions> = {}) {
  const aws = clients(stack)
  const name = `hot-${++streams}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 2 })
  const sys = new AwsSystem({ actors: [HotLedger], ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 10, logLevel: 'error', ...options })
  t.teardown(async () => {
    await sys.stop()
    aws.kinesis.destroy()
    aws.dynamodb.destroy()
  })
  return sys
}

const N = 400

t.test('a hot key’s tells arrive in send order, each applied once, in a few PutRecords calls', async (t) => {
  const sys = await system(t)
  const before = sys.requests.snapshot()
  await Promise.all(Array.from({ length: N }, (_, n) => sys.tell(HotLedger, { n })))
  await sys.idle()
  const puts = sys.requests.since(before).byApi['Kinesis.PutRecords']?.requests ?? 0
  t.ok(puts <= N / 20, `${puts} PutRecords calls for ${N} messages`)
  t.ok(sys.transport.stats.aggregatesSent >= 1, `${sys.transport.stats.aggregatesSent} aggregate records`)
  t.strictSame((await sys.state(HotLedger, 'hot'))?.seen, Array.from({ length: N }, (_, n) => n), 'every message once, in send order')
  t.strictSame(await sys.deadLetters(), [])
})

t.test('without aggregation, strict order costs a call per message of the hot key', async (t) => {
  const sys = await system(t, { aggregate: false })
  const before = sys.requests.snapshot()
  await Promise.all(Array.from({ length: 50 }, (_, n) => sys.tell(HotLedger, { n })))
  await sys.idle()
  t.equal(sys.requests.since(before).byApi['Kinesis.PutRecords']?.requests, 50)
  t.equal(sys.transport.stats.aggregatesSent, 0)
  t.strictSame((await sys.state(HotLedger, 'hot'))?.seen, Array.from({ length: 50 }, (_, n) => n))
})

t.test('a poison message inside an aggregate dead-letters alone; its neighbours apply once, in order', async (t) => {
  const sys = await system(t)
  const poison = 37
  await Promise.all(Array.from({ length: 100 }, (_, n) => sys.tell(HotLedger, n === poison ? { n, poison: true } : { n })))
  await sys.idle()
  t.ok(sys.transport.stats.aggregatesSent >= 1)
  t.strictSame(
    (await sys.state(HotLedger, 'hot'))?.seen,
    Array.from({ length: 100 }, (_, n) => n).filter((n) => n !== poison),
  )
  const dead = await sys.deadLetters()
  t.equal(dead.length, 1, 'one dead letter')
  t.match(dead[0], { envelope: { type: 'hot.ledger', body: { n: poison } }, error: { message: /message 37 is poison/ } })
})

t.test('a body kept in the payload store travels inside an aggregate as its reference and comes back whole', async (t) => {
  const sys = await system(t, { payloads: { aboveBytes: 4_096 } })
  await Promise.all(Array.from({ length: 60 }, (_, n) => sys.tell(HotLedger, n % 20 === 5 ? { n, blob: 'b'.repeat(20_000) } : { n })))
  await sys.idle()
  t.ok(sys.transport.stats.aggregatesSent >= 1)
  const ledger = await sys.state(HotLedger, 'hot')
  t.strictSame(ledger?.seen, Array.from({ length: 60 }, (_, n) => n), 'in order, once each')
  t.equal(ledger?.blobs, 3, 'the three large bodies came back whole')
  t.strictSame(await sys.deadLetters(), [])
})

class BurstCounter extends Actor<{ n: number }, void, { count: number; sum: number }> {
  static readonly type = 'hot.burst'
  initialState() {
    return { count: 0, sum: 0 }
  }
  receive(m: { n: number }, ctx: Context<{ count: number; sum: number }>) {
    ctx.state.count++
    ctx.state.sum += m.n
  }
}

t.test('a burst of 20,000 tells to one instance applies each once, and its memory of them stays a few bytes', async (t) => {
  const sys = await system(t, { actors: [BurstCounter] })
  const burst = 20_000
  // Every tell is taken before any is sent: the burst shares one fence, as a busy producer's do.
  const sent = Array.from({ length: burst }, (_, n) => sys.tell(BurstCounter, { n }))
  await Promise.all(sent)
  await sys.idle()
  t.strictSame(await sys.state(BurstCounter), { count: burst, sum: (burst * (burst - 1)) / 2 }, 'every message once')
  t.strictSame(await sys.deadLetters(), [])
  const stored = await new DynamoDBStateStore({ client: clients(stack).dynamodb, tableName: `hot-${streams}` }).get(BurstCounter.type, '')
  const seen = (decode(stored!.meta!) as InstanceMeta).seen!
  const lanes = Object.values(seen)
  t.equal(lanes.length, 1, "one lane: this process's")
  t.same(lanes[0]!.d, [], 'no position listed one by one')
  t.ok(lanes[0]!.r!.length <= 4, `the burst's positions kept as ${lanes[0]!.r!.length / 2} range(s): ${JSON.stringify(lanes[0]!.r)}`)
  t.ok(stored!.meta!.length < 1_000, `the item's bookkeeping is ${stored!.meta!.length} bytes`)
})
