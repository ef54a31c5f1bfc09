// A named timer's writes on AWS take effect in the order of the commits that made them
// (TimerOrder, docs/guarantees.md "Timers"): a write of an earlier commit that reaches the timer
// store late (its outbox sent again by another host behind its retries, or settled by a direct
// run that read the item before) does not undo a later commit's cancel, or its schedule. Here the
// late write is made by hand, with the timer as the earlier commit wrote it, on the local
// DynamoDB beside a system that runs the turns on the local Kinesis.
import t from 'tap'
import { Actor, type Context, type Joined } from '../../lib/index.js'
import { JOINER } from '../../lib/turn/join-protocol.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { DynamoDBTimerStore } from '../../lib/store/dynamodb-timer-store.js'
import type { TimerRecord } from '../../lib/store/index.js'

type Op = { user: string; op: 'set' | 'cancel'; inMs?: number }

class Ping extends Actor<{ user: string }> {
  static readonly type = 'order.ping'
  receive() {}
}

class Reminder extends Actor<Op, void, { ops: number }> {
  static readonly type = 'order.reminder'
  key(m: Op) {
    return m.user
  }
  initialState() {
    return { ops: 0 }
  }
  receive(m: Op, ctx: Context<{ ops: number }>) {
    ctx.state.ops++
    if (m.op === 'set') ctx.schedule(Ping, { user: m.user }, { name: 'remind', afterMs: m.inMs ?? 3_600_000 })
    else ctx.cancelSchedule('remind')
  }
}

class Step extends Actor<{ n: number }, number> {
  static readonly type = 'order.step'
  receive(m: { n: number }) {
    return m.n * 10
  }
}

class Done extends Actor<Joined<[typeof Step, typeof Step]>, void, { sum: number }> {
  static readonly type = 'order.done'
  initialState() {
    return { sum: 0 }
  }
  receive(m: Joined<[typeof Step, typeof Step]>, ctx: Context<{ sum: number }>) {
    ctx.state.sum = (m.replies[0] ?? 0) + (m.replies[1] ?? 0)
  }
}

/** Counts its turns; forks two steps when told to. */
class Saga extends Actor<{ id: string; fork: boolean }, void, { n: number }> {
  static readonly type = 'order.saga'
  key(m: { id: string }) {
    return m.id
  }
  initialState() {
    return { n: 0 }
  }
  receive(m: { id: string; fork: boolean }, ctx: Context<{ n: number }>) {
    ctx.state.n++
    if (m.fork) ctx.fork([[Step, { n: 1 }], [Step, { n: 2 }]]).join(Done, { timeoutMs: 3_600_000 })
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

t.test('a late write of an earlier commit does not bring back a cancelled timer, nor replace one scheduled again', async (t) => {
  const aws = clients(stack)
  const name = `timer-order-${process.pid}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  // timers: false: nothing fires here; what the store holds is the whole answer.
  const system = new AwsSystem({ actors: [Reminder, Ping], ...aws, tableName: name, stream: name, pollMs: 50, lingerMs: 5, timers: false, logLevel: 'error' })
  const store = new DynamoDBTimerStore({ client: aws.dynamodb, tableName: name })
  t.teardown(async () => {
    await system.stop()
    aws.kinesis.destroy()
    aws.dynamodb.destroy()
  })
  const turn = async (op: Op) => {
    await system.tell(Reminder, op)
    await system.idle()
  }
  const reminder = async (): Promise<TimerRecord | undefined> => (await system.timers()).find((x) => x.target === Ping.type)

  await turn({ user: 'ann', op: 'set' })
  const first = await reminder()
  t.match(first?.order, { owner: 'order.reminder#ann', v: 1 }, 'the timer carries its instance and the version of the commit that set it')

  await turn({ user: 'ann', op: 'cancel' })
  t.equal(await reminder(), undefined, 'commit 2 cancelled it')
  await store.put(first!)
  t.equal(await reminder(), undefined, "commit 1's put, landing after the cancel, is left out")

  await turn({ user: 'ann', op: 'set', inMs: 7_200_000 })
  const again = await reminder()
  t.equal(again?.order?.v, 3, 'commit 3 set it again')
  await store.put(first!)
  await store.delete(first!.id, { ...first!.order!, v: 2 })
  t.strictSame(await reminder(), again, "neither commit 1's put nor commit 2's cancel, landing late, touches commit 3's timer")
  t.equal((await system.state(Reminder, 'ann'))?.ops, 3, 'each turn ran once')
})

t.test("a fork's deadline, set by a parent many commits on, goes with its join: the joiner's cancel is not ordered against the parent's commits", async (t) => {
  const aws = clients(stack)
  const name = `timer-order-fork-${process.pid}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Saga, Step, Done], ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 2, timers: false, logLevel: 'error' })
  t.teardown(async () => {
    await system.stop()
    aws.kinesis.destroy()
    aws.dynamodb.destroy()
  })
  for (let i = 0; i < 5; i++) {
    await system.tell(Saga, { id: 'a', fork: false })
    await system.idle()
  }
  await system.tell(Saga, { id: 'a', fork: true })
  await system.idle()
  t.same(await system.state(Done), { sum: 30 }, 'joined')
  t.same((await system.timers()).filter((x) => x.target === JOINER), [], 'no deadline left after the join')
})
