// Timers fire 100 at a time, earliest first (timer-runner.ts `BATCH`), and a run that had a failed
// firing used to stop there, trying the same earliest ones again a second later. A wake-up that can
// never finish fails on every tick: one for an actor type this app no longer runs (a deploy removed
// a throttled type while keys of it had messages parked; `runWaiting` throws UnknownActorError),
// where a plain timer for an unknown type is dead-lettered at once. With 100 of them due, no other
// timer of the table fired again, on any host: a user's timer, every other key's wake-up. Now a
// run reads past the timers it could not fire; and a wake-up of an unknown type an hour overdue
// (no host of a rolling deploy's other version ran it) is a dead letter that says what waits, the
// instance's flush record, which wakes the parked messages when replayed once the type runs again.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { decode, encode } from '../../lib/core/serialization.js'
import { UNKNOWN_WAKE_MS } from '../../lib/aws/aws-timers.js'
import { emptyMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { wakeTimer } from '../../lib/hosts/durable/instance-throttle.js'
import { DynamoDBStateStore, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { counting } from '../fixtures/actors.js'

const { aws } = await localStackFor(t)
const GONE = 'was.removed'
const Kept = counting('was.kept')
/** The removed type, as a later deploy brings it back. */
const Back = counting(GONE)

/** What an earlier deploy left: `keys` keys of its throttled type, each with a message parked and a wake-up due at `dueAt` (+ i ms). */
async function leftBehind(state: DynamoDBStateStore, timers: DynamoDBTimerStore, keys: number, dueAt: number): Promise<void> {
  for (let i = 0; i < keys; i++) {
    const key = `k${i}`
    const parked = makeEnvelope({ id: `m${i}` as MessageId, type: GONE, key, body: { k: key }, correlationId: `m${i}` as CorrelationId, sentAt: dueAt - 60_000 })
    const timer = wakeTimer(GONE, key, parked, 1, dueAt + i)
    await state.put(GONE, key, { state: encode({ n: 0 }), version: 1, updatedAt: dueAt - 60_000, meta: encodeMeta({ ...emptyMeta(), parked: [parked], wake: { id: timer.id, dueAt: timer.dueAt } }) }, undefined)
    await timers.put(timer)
  }
}

t.test("wake-ups of a type the app no longer runs do not keep the table's other timers from firing", async (t) => {
  const name = 'was-stall'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const table = { client: aws.dynamodb, tableName: name }
  const state = new DynamoDBStateStore(table)
  const timers = new DynamoDBTimerStore(table)
  const now = Date.now()
  // What the earlier deploy left: 100 keys of its throttled type, each with a message parked and a wake-up due 10 s ago.
  await leftBehind(state, timers, 100, now - 10_000)
  const system = new AwsSystem({ actors: [Kept], ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'silent', lingerMs: 0 })
  t.teardown(() => system.stop())
  const id = await system.schedule(Kept, { k: 'a' }, { at: now - 1_000, name: 'reminder' })
  for (let n = 0; n < 3; n++) await system.fireDueTimers()
  const left = await system.timers()
  t.notOk(left.some((timer) => timer.id === id), "the app's own due timer fired")
  t.equal(left.length, 100, 'the wake-ups it cannot run stay due')
})

t.test('a wake-up of an unknown type an hour overdue is a dead letter, which wakes its messages once the type runs again', async (t) => {
  const name = 'was-orphan'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const table = { client: aws.dynamodb, tableName: name }
  const state = new DynamoDBStateStore(table)
  const timers = new DynamoDBTimerStore(table)
  await leftBehind(state, timers, 3, Date.now() - UNKNOWN_WAKE_MS - 60_000)
  const without = new AwsSystem({ actors: [Kept], ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'silent', lingerMs: 0 })
  await without.fireDueTimers()
  t.same(await without.timers(), [], 'the wake-ups are gone')
  const letters = await without.deadLetters()
  t.same(letters.map((l) => l.envelope.key).sort(), ['k0', 'k1', 'k2'], 'a letter for each key')
  t.ok(letters.every((l) => l.envelope.type === GONE && l.envelope.control === 'flush'), 'each the flush record of its instance')
  t.match(letters[0]!.error, { code: 'TROUPE_UNKNOWN_ACTOR', message: /1 parked message\(s\) of was\.removed#k\d wait in its item: replay this letter once was\.removed runs again/ })
  for (const k of ['k0', 'k1', 'k2']) t.equal(decode<{ parked?: unknown[] }>((await state.get(GONE, k))!.meta!).parked?.length, 1, `${k}'s message still waits parked`)
  await without.fireDueTimers()
  t.equal((await without.deadLetters()).length, 3, 'nothing more comes of them')
  await without.stop()

  // The type is back: a replayed letter wakes its key's parked message, which runs once.
  const back = new AwsSystem({ actors: [Kept, Back], ...aws, tableName: name, stream: name, pollMs: 250, logLevel: 'silent', lingerMs: 0 })
  t.teardown(() => back.stop())
  const k0 = letters.find((l) => l.envelope.key === 'k0')!
  await back.replay(k0.envelope.id)
  await back.idle()
  t.same(await back.state(Back, 'k0'), { n: 1 }, 'k0 ran its parked message once')
  t.equal(decode<{ parked?: unknown[] }>((await state.get(GONE, 'k0'))!.meta!).parked, undefined, 'and nothing waits in it')
  t.same(await back.state(Back, 'k1'), { n: 0 }, 'k1 waits for its own letter')
})
