// Due timers on AWS fire in a lane per instance they reach (lib/aws/aws-timers.ts). On the local
// Kinesis and DynamoDB, fired as a Lambda's scheduled tick fires them (`fireDueTimers`, in a
// process that consumes nothing), timers for different instances fire side by side, so their
// firings share PutRecords calls instead of each waiting for its own; every timer's message
// arrives once. Which timers share a lane is checked on the lanes themselves.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { clients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { timerLanes } from '../../lib/aws/aws-timers.js'
import type { Envelope } from '../../lib/core/envelope.js'
import { encode } from '../../lib/core/serialization.js'
import { wakeTimer } from '../../lib/hosts/durable/instance-throttle.js'
import type { TimerRecord } from '../../lib/store/index.js'

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

class Notify extends Actor<{ to: string }> {
  static readonly type = 'lanes.notify'
  receive() {}
}

class Capped extends Actor<{ site: string }, void, { n: number }> {
  static readonly type = 'lanes.capped'
  static readonly policy = { concurrency: 3 }
  key(m: { site: string }) {
    return m.site
  }
  initialState() {
    return { n: 0 }
  }
  receive() {}
}

let stack: LocalStack
let made = 0
t.before(async () => {
  stack = await startLocalStack()
})
t.teardown(() => stack.stop())

async function systems(t: Test) {
  // Clients of its own for each system: a system counts its requests on its clients.
  const [mine, theirs] = [clients(stack), clients(stack)]
  const name = `lanes-${process.pid}-${++made}`
  await ensureResources({ ...mine, tableName: name, streams: [name], shards: 2 })
  // A put waits 50 ms for others to share its PutRecords call: long enough for every lane's next
  // firing to join it on a busy machine (with 10 ms, two busy processes beside the test made the
  // lanes' calls 28–38 instead of 13), while one lane still makes a call per firing.
  const common = { actors: [Reminders, Notify, Capped], tableName: name, stream: name, pollMs: 250, lingerMs: 50, logLevel: 'error' as const }
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

t.test('a lane is the instance a timer reaches', async (t) => {
  const { ticked } = await systems(t)
  const lanes = timerLanes((type) => ticked.host.typeOf(type))
  const now = Date.now()
  const to = (id: string, target: string, body: unknown): TimerRecord => ({ id, target, body: encode(body), dueAt: now, correlationId: 'c', fired: 0 })
  const head = { id: 'm1', correlationId: 'c1' } as Envelope
  const wake = (type: string, key: string, version: number) => wakeTimer(type, key, head, version, now)
  const lane = (timer: TimerRecord) => lanes.of(timer)
  t.equal(lane(to('t1', Reminders.type, { user: 'a', n: 1 })), lane(to('t2', Reminders.type, { user: 'a', n: 2 })), "one instance's timers share a lane, so it gets their messages in due order")
  t.equal(lane(wake(Reminders.type, 'a', 1)), lane(to('t1', Reminders.type, { user: 'a', n: 1 })), 'and its wake-ups with them')
  t.equal(lane(wake(Reminders.type, 'a', 1)), lane(wake(Reminders.type, 'a', 2)))
  t.not(lane(to('t1', Reminders.type, { user: 'a', n: 1 })), lane(to('t2', Reminders.type, { user: 'b', n: 1 })), 'another instance fires beside them')
  t.not(lane(wake(Reminders.type, 'a', 1)), lane(wake(Reminders.type, 'b', 1)))
  t.not(lane(to('t1', Notify.type, { to: 'a' })), lane(to('t2', Notify.type, { to: 'a' })), 'a stateless target has no instance: each of its timers is a lane')
  const cappedLanes = new Set(Array.from({ length: 200 }, (_, i) => lane(wake(Capped.type, `site-${i}`, 1))))
  t.equal(cappedLanes.size, 3, "a type capped at 3 has 3 lanes: wake-ups past its free slots would only park again")
  t.equal(lane(wake(Capped.type, 'site-7', 1)), lane(wake(Capped.type, 'site-7', 2)), "a key's wake-ups keep to one of them")
  t.equal(lane({ ...wake(Reminders.type, 'a', 1), body: 'not superjson' }), '', 'a timer that cannot be read fires in a lane apart, where fire() reports it')
  t.equal(lane(to('t1', 'lanes.unknown', { to: 'a' })), '', 'and so does one for a type the system does not have')
})
