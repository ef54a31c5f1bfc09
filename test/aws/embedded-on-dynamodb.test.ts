// The embedded system on the DynamoDB stores (dynalite): state and timers outlive a system.
import t from 'tap'
import { Actor, createSystem, type Context } from '../../lib/index.js'
import { clients, startLocalStack } from '../../lib/local/local-stack.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import { createTable, dynamodbStores } from '../../lib/store/dynamodb.js'

const stack = await startLocalStack()
const { dynamodb, kinesis } = clients(stack)
kinesis.destroy()
const counter = new RequestCounter()
countRequests(dynamodb, counter)
t.teardown(async () => {
  dynamodb.destroy()
  await stack.stop()
})
await createTable(dynamodb, 'embedded')
const stores = () => dynamodbStores({ client: dynamodb, tableName: 'embedded' })

class Visits extends Actor<{ page: string }, number, { views: number; seen: Map<string, Date> }> {
  static readonly type = 'visits'
  key(msg: Visits['In']) {
    return msg.page
  }
  initialState() {
    return { views: 0, seen: new Map<string, Date>() }
  }
  receive(msg: Visits['In'], ctx: Context<{ views: number; seen: Map<string, Date> }>) {
    ctx.state.views++
    ctx.state.seen.set(`v${ctx.state.views}`, new Date(0))
    return ctx.state.views
  }
}

const fired: string[] = []
class Ping extends Actor<{ note: string }> {
  static readonly type = 'ping'
  receive(msg: Ping['In']) {
    fired.push(msg.note)
  }
}

t.test('state kept by stop() carries over to a new system, superjson types intact', async (t) => {
  const one = createSystem({ actors: [Visits], stores: stores(), logLevel: 'error' })
  for (let i = 0; i < 3; i++) await one.ask(Visits, { page: '/home#top' })
  const before = counter.snapshot()
  await one.stop()
  t.strictSame(
    Object.fromEntries(Object.entries(counter.since(before).byApi).map(([api, c]) => [api, c.requests])),
    { 'DynamoDB.PutItem': 1 },
    'stop() wrote the instance once',
  )
  const two = createSystem({ actors: [Visits], stores: stores(), logLevel: 'error' })
  t.equal(await two.ask(Visits, { page: '/home#top' }), 4, 'the count went on')
  const state = await two.state(Visits, '/home#top')
  t.ok(state?.seen instanceof Map && state.seen.get('v1') instanceof Date, 'a Map of Dates came back as one')
  await two.stop()
})

t.test('a timer scheduled by one system fires in the next', async (t) => {
  const one = createSystem({ actors: [Ping], stores: stores(), logLevel: 'error' })
  await one.schedule(Ping, { note: 'later' }, { afterMs: 300, name: 'later' })
  await one.stop()
  t.strictSame(
    (await stores().timers.list()).map((x) => x.id),
    ['later'],
  )
  const two = createSystem({ actors: [Ping], stores: stores(), logLevel: 'error' })
  for (let i = 0; i < 100 && fired.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.strictSame(fired, ['later'])
  await two.stop()
  t.strictSame(await stores().timers.list(), [], 'a one-shot timer is gone once fired')
})

/** Polls by scheduling its next round under one name, from the turn its own firing runs. */
const polled = { rounds: [] as number[], done: undefined as (() => void) | undefined }
class Poll extends Actor<{ n: number }> {
  static readonly type = 'poll'
  receive(msg: Poll['In'], ctx: Context) {
    polled.rounds.push(msg.n)
    if (msg.n < 5) ctx.schedule(Poll, { n: msg.n + 1 }, { afterMs: 30, name: 'next' })
    else polled.done?.()
  }
}

t.test('a poll that schedules its next round under one name keeps polling on the DynamoDB timer store', async (t) => {
  const system = createSystem({ actors: [Poll], stores: stores(), logLevel: 'error' })
  const done = new Promise<void>((resolve) => (polled.done = resolve))
  await system.tell(Poll, { n: 0 })
  // Before the runner moved a firing on conditionally, its delete took away the round the firing's turn had just scheduled.
  const stalled = new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), 10_000).unref())
  t.equal(await Promise.race([done.then(() => 'done' as const), stalled]), 'done', 'the sixth round ran')
  await system.stop()
  t.strictSame(polled.rounds, [0, 1, 2, 3, 4, 5])
  t.strictSame(await stores().timers.list(), [], 'the last round scheduled nothing, and its firing is gone')
})
