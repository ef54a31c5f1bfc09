// Timers fire 100 at a time, earliest first (timer-runner.ts `BATCH`), and a run that had a failed
// firing used to stop there, trying the same earliest ones again a second later. A wake-up that can
// never finish fails on every tick: one for an actor type this app no longer runs (a deploy removed
// a throttled type while keys of it had messages parked; `runWaiting` throws UnknownActorError),
// where a plain timer for an unknown type is dead-lettered at once. With 100 of them due, no other
// timer of the table fired again, on any host: a user's timer, every other key's wake-up. Now a
// run reads past the timers it could not fire.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { encode } from '../../lib/core/serialization.js'
import { emptyMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { wakeTimer } from '../../lib/hosts/durable/instance-throttle.js'
import { DynamoDBStateStore, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { localStackFor } from '../fixtures/local-stack.js'

class Kept extends Actor<{ k: string }, void, { n: number }> {
  static readonly type = 'was.kept'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(_m: { k: string }, ctx: Context<{ n: number }>) {
    ctx.state.n++
  }
}

const { aws } = await localStackFor(t)
const GONE = 'was.removed'

t.test("wake-ups of a type the app no longer runs do not keep the table's other timers from firing", async (t) => {
  const name = 'was-stall'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const table = { client: aws.dynamodb, tableName: name }
  const state = new DynamoDBStateStore(table)
  const timers = new DynamoDBTimerStore(table)
  const now = Date.now()
  // What the earlier deploy left: 100 keys of its throttled type, each with a message parked and a wake-up due.
  for (let i = 0; i < 100; i++) {
    const key = `k${i}`
    const parked = makeEnvelope({ id: `m${i}` as MessageId, type: GONE, key, body: { key }, correlationId: `m${i}` as CorrelationId, sentAt: now - 60_000 })
    const timer = wakeTimer(GONE, key, parked, 1, now - 10_000 + i)
    await state.put(GONE, key, { state: encode({ n: 0 }), version: 1, updatedAt: now - 60_000, meta: encodeMeta({ ...emptyMeta(), parked: [parked], wake: { id: timer.id, dueAt: timer.dueAt } }) }, undefined)
    await timers.put(timer)
  }
  const system = new AwsSystem({ actors: [Kept], ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'silent', lingerMs: 0 })
  t.teardown(() => system.stop())
  const id = await system.schedule(Kept, { k: 'a' }, { at: now - 1_000, name: 'reminder' })
  for (let n = 0; n < 3; n++) await system.fireDueTimers()
  const left = await system.timers()
  t.notOk(left.some((timer) => timer.id === id), "the app's own due timer fired")
  t.equal(left.length, 100, 'the wake-ups it cannot run stay due')
})
