// A joined fork on AWS keeps a small record, to recognise a late reply or a redelivered open,
// and lets it expire through the table's TTL as a deleted instance's watermarks do: no timer is
// left to delete it, and no commit after the join is spent on it.
import t from 'tap'
import { Actor, type Context, type Joined } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb-state-store.js'
import { JOINER } from '../../lib/turn/join-protocol.js'

class Step extends Actor<{ n: number }, number> {
  static readonly type = 'saga.step'
  receive(m: { n: number }) {
    return m.n * 10
  }
}

class Done extends Actor<Joined<[typeof Step, typeof Step]>, void, { sum: number }> {
  static readonly type = 'saga.done'
  initialState() {
    return { sum: 0 }
  }
  receive(m: Joined<[typeof Step, typeof Step]>, ctx: Context<{ sum: number }>) {
    ctx.state.sum = (m.replies[0] ?? 0) + (m.replies[1] ?? 0)
  }
}

class Saga extends Actor<{ id: string }> {
  static readonly type = 'saga.start'
  key(m: { id: string }) {
    return m.id
  }
  receive(_m: { id: string }, ctx: Context) {
    ctx.fork([[Step, { n: 1 }], [Step, { n: 2 }]]).join(Done, { timeoutMs: 60_000 })
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

t.test('a joined fork keeps a record that expires by TTL, with no timer left for it', async (t) => {
  const aws = clients(stack)
  const name = `joined-${process.pid}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Saga, Step, Done], ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  const before = Date.now()
  await system.tell(Saga, { id: 'a' })
  await system.idle()
  t.same(await system.state(Done), { sum: 30 }, 'the join ran with both replies')
  const joiners = (await system.timers()).filter((timer) => timer.target === JOINER)
  t.same(joiners, [], 'no timer of the joiner is left: the deadline went at the join, and none deletes the record')
  const store = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  const forks = system.instances(JOINER)
  t.equal(forks.length, 1, 'one fork')
  const record = await store.get(JOINER, forks[0]!.key)
  t.match(JSON.parse(record!.state), { json: { joined: true } }, 'the record says the fork joined')
  t.ok(record!.expiresAt !== undefined && record!.expiresAt >= before + 24 * 3_600_000, `it expires by TTL, with a deleted instance's watermarks (at ${record!.expiresAt})`)
})
