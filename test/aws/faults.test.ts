// The AWS mode under the faults AWS has and the emulators never show, injected in SDK middleware
// against the real local servers: PutRecords records failing inside a 200, throttled calls,
// conditional writes that lose (ConditionalCheckFailed), and BatchGetItem leaving keys
// unprocessed. Nothing is lost and nothing is applied twice.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { injectPutRecordsFaults } from '../../lib/local/fault-injection.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'

type In = { k: string; i: number }
interface Tally {
  n: number
  seen: number[]
}

class Sink extends Actor<In, void, Tally> {
  static readonly type = 'fault.sink'
  key(m: In) {
    return m.k
  }
  initialState(): Tally {
    return { n: 0, seen: [] }
  }
  receive(m: In, ctx: Context<Tally>) {
    ctx.state.n++
    ctx.state.seen.push(m.i)
  }
}

class Counter extends Actor<In, void, Tally> {
  static readonly type = 'fault.counter'
  key(m: In) {
    return m.k
  }
  initialState(): Tally {
    return { n: 0, seen: [] }
  }
  receive(m: In, ctx: Context<Tally>) {
    ctx.state.n++
    ctx.state.seen.push(m.i)
    ctx.tell(Sink, m)
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack({ shardLimit: 1000 })
})
t.teardown(() => stack.stop())

const KEYS = Array.from({ length: 8 }, (_, i) => `key-${i}`)
const PER_KEY = 25

type Middleware = (next: (args: { input: unknown }) => Promise<{ output?: unknown }>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<{ output?: unknown }>

t.test('partial PutRecords failures, throttles, lost conditional writes and unprocessed keys lose nothing and apply nothing twice', async (t) => {
  const aws = clients(stack)
  t.teardown(() => {
    aws.kinesis.destroy()
    aws.dynamodb.destroy()
  })
  await ensureResources({ ...aws, tableName: 'faults', streams: ['faults'], shards: 2 })

  // Kinesis: every third record of a call fails inside the 200 (each record at most twice, so the
  // transport's attempts never run out however calls happen to be composed); every fourth call's
  // first HTTP attempt is throttled.
  const failedBefore = new Map<string, number>()
  const kinesisFaults = injectPutRecordsFaults(aws.kinesis, {
    failRecord: (r) => {
      if (r.index % 3 !== 1) return undefined
      const id = Buffer.from(r.data).toString('base64')
      const n = failedBefore.get(id) ?? 0
      if (n >= 2) return undefined
      failedBefore.set(id, n + 1)
      return r.call % 2 ? 'ProvisionedThroughputExceededException' : 'InternalFailure'
    },
    throttle: ({ call, attempt }) => call % 4 === 0 && attempt === 1,
  })
  // DynamoDB: every third state write is refused as if another host had moved first, and
  // BatchGetItem hands back half of its keys unprocessed.
  let puts = 0
  let conflicts = 0
  let unprocessed = 0
  const lose: Middleware = (next, context) => async (args) => {
    const input = args.input as { ConditionExpression?: string; Item?: { sk?: { S?: string } } }
    if (context.commandName === 'PutItemCommand' && input.Item?.sk?.S === 'state' && ++puts % 3 === 0) {
      conflicts++
      throw Object.assign(new Error('The conditional request failed (injected)'), { name: 'ConditionalCheckFailedException', $fault: 'client' })
    }
    return next(args)
  }
  const halve: Middleware = (next, context) => async (args) => {
    const result = await next(args)
    if (context.commandName !== 'BatchGetItemCommand') return result
    const out = result.output as { Responses?: Record<string, Record<string, { pk?: { S?: string }; sk?: { S?: string } }>[]>; UnprocessedKeys?: Record<string, { Keys?: unknown[] }> }
    for (const [table, items] of Object.entries(out.Responses ?? {})) {
      if (items.length < 2) continue
      const back = items.splice(0, Math.floor(items.length / 2))
      unprocessed += back.length
      out.UnprocessedKeys = { [table]: { Keys: back.map((i) => ({ pk: i.pk, sk: i.sk })) } }
    }
    return result
  }
  const stackOf = aws.dynamodb.middlewareStack as unknown as { add(m: Middleware, o: object): void }
  stackOf.add(lose, { step: 'initialize', name: 'injectLostWrites' })
  stackOf.add(halve, { step: 'initialize', name: 'injectUnprocessedKeys' })

  const system = new AwsSystem({ actors: [Counter, Sink], ...aws, tableName: 'faults', stream: 'faults', pollMs: 20, timerTickMs: 50, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  // Two rounds, so the second round's batches load instances that exist (BatchGetItem has something to leave out).
  for (const round of [0, 1]) {
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < PER_KEY; i++) for (const k of KEYS) sends.push(system.tell(Counter, { k, i: round * PER_KEY + i }))
    await Promise.all(sends)
    await system.idle()
  }

  t.ok(kinesisFaults.failedRecords > 0, `records failed inside a 200: ${kinesisFaults.failedRecords}`)
  t.ok(kinesisFaults.throttledAttempts > 0, `calls throttled: ${kinesisFaults.throttledAttempts}`)
  t.ok(conflicts > 0, `state writes lost: ${conflicts}`)
  t.ok(unprocessed > 0, `keys left unprocessed: ${unprocessed}`)
  const want = Array.from({ length: 2 * PER_KEY }, (_, i) => i)
  for (const k of KEYS) {
    const counter = await system.state(Counter, k)
    t.equal(counter?.n, 2 * PER_KEY, `${k}: every message applied once`)
    t.same(counter?.seen, want, `${k}: in send order`)
    const sink = await system.state(Sink, k)
    t.equal(sink?.n, 2 * PER_KEY, `${k}: the receiver counted every outgoing message once`)
    t.same([...(sink?.seen ?? [])].sort((a, b) => a - b), want, `${k}: the receiver got each one`)
  }
  t.same(await system.deadLetters(), [], 'no dead letters')
  kinesisFaults.remove()
})
