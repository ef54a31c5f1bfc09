// A named timer's writes on AWS take effect in the order of the commits that made them
// (TimerOrder, docs/guarantees.md "Timers"): a write of an earlier commit that reaches the timer
// store late (its outbox sent again by another host behind its retries, or settled by a direct
// run that read the item before) does not undo a later commit's cancel, or its schedule. Here the
// late write is made by hand, with the timer as the earlier commit wrote it, on the local
// DynamoDB beside a system that runs the turns on the local Kinesis.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
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
  t.equal(first?.order?.v, 1, 'the timer carries the version of the commit that set it')

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
