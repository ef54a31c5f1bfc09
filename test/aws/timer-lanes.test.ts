// Due timers on the local Kinesis and DynamoDB, fired as a Lambda's scheduled tick fires them
// (`fireDueTimers`, in a process that consumes nothing): timers for different instances fire side
// by side, so their firings share PutRecords calls instead of waiting for each other's round
// trips; timers for one instance fire one after another, so it gets their messages in due order;
// every timer's message arrives once.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'

type Remind = { user: string; n: number }

class Reminders extends Actor<Remind, void, { got: number[] }> {
  static readonly type = 'lanes.reminders'
  key(m: Remind) {
    return m.user
  }
  initialState() {
    return { got: [] as number[] }
  }
  receive(m: Remind, ctx: Context<{ got: number[] }>) {
    ctx.state.got.push(m.n)
  }
}

let stack: LocalStack
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

async function systems(t: Test) {
  // Clients of its own for each system: a system counts its requests on its clients.
  const [mine, theirs] = [clients(stack), clients(stack)]
  const name = `lanes-${process.pid}`
  await ensureResources({ ...mine, tableName: name, streams: [name], shards: 2 })
  const common = { actors: [Reminders], tableName: name, stream: name, pollMs: 250, lingerMs: 10, logLevel: 'error' as const }
  // The Lambda's side: sets timers and fires them when ticked, runs no turn.
  const ticked = new AwsSystem({ ...common, ...mine, consume: false, timers: false })
  const host = new AwsSystem({ ...common, ...theirs, timers: false })
  t.teardown(async () => {
    await Promise.all([ticked.stop(), host.stop()])
    for (const aws of [mine, theirs]) {
      aws.kinesis.destroy()
      aws.dynamodb.destroy()
    }
  })
  return { ticked, host }
}

const USERS = 120

t.test('a tick fires the timers of many instances side by side, and one instance’s in due order', async (t) => {
  const { ticked, host } = await systems(t)
  const now = Date.now()
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`)
  for (const user of users) await ticked.schedule(Reminders, { user, n: 0 }, { at: now - 1_000, idempotent: true })
  // One instance with timers due one after another: a lane of its own, in due order.
  for (let n = 1; n <= 5; n++) await ticked.schedule(Reminders, { user: 'user-0', n }, { at: now - 1_000 + n, idempotent: true })
  const before = ticked.requests.snapshot()
  await ticked.fireDueTimers()
  const puts = ticked.requests.since(before).byApi['Kinesis.PutRecords']?.requests ?? 0
  // One at a time, each firing waited for its own PutRecords call: USERS + 5 of them.
  t.ok(puts <= (USERS + 5) / 4, `${USERS + 5} firings went out in ${puts} PutRecords calls (at most a quarter as many)`)
  t.same(await ticked.timers(), [], 'every fired timer is gone')
  await host.idle()
  t.same((await host.state(Reminders, 'user-0'))?.got, [0, 1, 2, 3, 4, 5], "one instance's timers arrive in due order, each once")
  const others = await Promise.all(users.slice(1).map(async (user) => (await host.state(Reminders, user))?.got))
  t.same(others, users.slice(1).map(() => [0]), 'every other instance gets its timer once')
})
