// A retry that asks for minutes (a RetryableError's retryAfterMs) on a stateful actor, through the
// durable host on the local Kinesis and DynamoDB with a simulated clock: the failed message is
// parked in its instance's item with a wake-up at its retry time, so the shard moves on and other
// keys flow; the key's later messages wait behind it, in order; each next attempt runs no sooner
// than asked, when the wake-up fires (as the timer runner fires it: `runWaiting`); the message ends
// as its policy says. A batch delivered again while it waits runs nothing again.
import t, { type Test } from 'tap'
import { Actor, RetryableError, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { derivedId, type MessageId } from '../../lib/core/ids.js'
import { decode } from '../../lib/core/serialization.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { THROTTLE_WAKE, wakeTarget } from '../../lib/hosts/durable/instance-throttle.js'
import { Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches, type HostParts } from './fixtures/durable.js'

type In = { key: string; n: number; failures?: number }
type Seen = { seen: number[] }

const WAIT_MS = 10 * 60_000
/** When each attempt of each message started (simulated ms), by `key/n`. */
const attempts = new Map<string, number[]>()
let clock = new SimulatedClock()

class Booking extends Actor<In, void, Seen> {
  static readonly type = 'rp.booking'
  static readonly policy = { maxAttempts: 3 }
  key(m: In) {
    return m.key
  }
  initialState() {
    return { seen: [] as number[] }
  }
  receive(m: In, ctx: Context<Seen>) {
    const id = `${m.key}/${m.n}`
    const tried = [...(attempts.get(id) ?? []), clock.now()]
    attempts.set(id, tried)
    if (tried.length <= (m.failures ?? 0)) throw new RetryableError('the booking service says: come back in ten minutes', { retryAfterMs: WAIT_MS })
    ctx.state.seen.push(m.n)
  }
}

const { aws } = await localStackFor(t)
let tables = 0

/** A fresh table and stream holding key `a`'s messages (the first failing `failures` times) and two of key `b`, receipts asked for. */
async function scenario(failures: number) {
  const tableName = `rp-${++tables}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'rp-in')
  const output = await createStream(aws.kinesis, 1, 'rp-out')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const sent = [
    message(Booking.type, 'a', { key: 'a', n: 0, failures }),
    message(Booking.type, 'b', { key: 'b', n: 0 }),
    message(Booking.type, 'a', { key: 'a', n: 1 }),
    message(Booking.type, 'a', { key: 'a', n: 2 }),
    message(Booking.type, 'b', { key: 'b', n: 1 }),
  ]
  for (const e of sent) e.receipt = 'status'
  const report = await producer.send(sent)
  if (report.failed) throw new Error('could not fill the input stream')
  clock = new SimulatedClock()
  attempts.clear()
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName })
  const host = () => makeHost(aws, tableName, [Booking], { stream: output }, { clock })
  /** Fires every wake-up due now as the timer runner does; returns how many fired. */
  const fireDue = async (t: Test, parts: HostParts) => {
    const due = await timers.due(clock.now(), 100)
    for (const timer of due) {
      t.equal(timer.target, THROTTLE_WAKE)
      const { type, key } = wakeTarget(timer)
      t.ok(await parts.host.runWaiting(type, key, derivedId(timer.id as MessageId, 'flush'), input), 'the wake-up ran what waits')
      await timers.delete(timer.id)
    }
    return due.length
  }
  const deadline = () => clock.now() + 60_000
  return { tableName, sent, timers, host, fireDue, deadline, batches: await readBatches(aws.kinesis, input) }
}

async function seen(parts: HostParts, key: string): Promise<number[]> {
  const stored = await parts.state.get(Booking.type, key)
  // An item may hold parked messages before any turn gave it a state.
  return stored === undefined ? [] : (decode<Seen | undefined>(stored.state)?.seen ?? [])
}

t.test('a retry that asks for ten minutes parks its key, not its shard, and runs no sooner than asked', async (t) => {
  const s = await scenario(2)
  const parts = s.host()
  const start = clock.now()
  for (const b of s.batches) {
    const r = await parts.host.handle({ ...b, deadline: s.deadline() })
    t.equal(r.failedFrom, undefined, 'the shard moves on: nothing left for redelivery')
  }
  t.same(await seen(parts, 'b'), [0, 1], 'the other key flowed')
  t.same(await seen(parts, 'a'), [], 'the failing key waits, its later messages behind the failed one')
  const meta = decodeMeta((await parts.state.get(Booking.type, 'a'))?.meta)
  t.same(
    meta.parked?.map((e) => e.id),
    [s.sent[0]!.id, s.sent[2]!.id, s.sent[3]!.id],
    'parked in order, the failed message first',
  )
  t.same(meta.failing && { id: meta.failing.id, attempts: meta.failing.attempts.length, retryAt: meta.failing.retryAt }, { id: s.sent[0]!.id, attempts: 1, retryAt: start + WAIT_MS })
  const receipt = await parts.journal.receipt(s.sent[0]!.id, clock.now())
  t.equal(receipt?.status, 'retrying', 'its receipt says it is retrying')
  t.match(receipt?.history.at(-1)?.reason, /^\[TROUPE_RETRYABLE\] the booking service says: come back in ten minutes \(attempt 1 failed; the next runs in 600000 ms, at 2026-01-01T00:10:00.000Z;/, 'and why, and when')
  const wakes = await s.timers.list()
  t.same(
    wakes.map((w) => w.dueAt),
    [start + WAIT_MS],
    'one wake-up, at the retry time',
  )

  // The batch comes again (a host replaced, a lost checkpoint) while it waits: nothing runs again.
  const next = s.host()
  for (const b of s.batches) {
    const r = await next.host.handle({ ...b, deadline: s.deadline() })
    t.equal(r.applied, 0, 'nothing applied again')
    t.equal(r.failedFrom, undefined)
  }
  t.same(attempts.get('a/0'), [start], 'no attempt before its time')
  t.same(await seen(next, 'b'), [0, 1])

  await clock.advance(WAIT_MS - 1)
  t.equal(await s.fireDue(t, next), 0, 'nothing due a millisecond early')
  await clock.advance(1)
  t.equal(await s.fireDue(t, next), 1, 'the wake-up is due at the retry time')
  t.same(attempts.get('a/0'), [start, start + WAIT_MS], 'the second attempt ran then, and failed')
  t.same(await seen(next, 'a'), [], 'the later messages still wait behind it')
  t.same(
    (await s.timers.list()).map((w) => w.dueAt),
    [start + 2 * WAIT_MS],
    'a new wake-up at the next retry time',
  )

  await clock.advance(WAIT_MS)
  t.equal(await s.fireDue(t, next), 1)
  t.same(attempts.get('a/0'), [start, start + WAIT_MS, start + 2 * WAIT_MS], 'the third attempt at its time')
  t.same(await seen(next, 'a'), [0, 1, 2], 'it succeeded, then the rest ran, in order')
  const after = decodeMeta((await next.state.get(Booking.type, 'a'))?.meta)
  t.equal(after.parked, undefined, 'nothing parked')
  t.equal(after.failing, undefined, 'nothing failing')
  t.same(await s.timers.list(), [], 'no wake-up left')
  for (const e of [s.sent[0]!, s.sent[2]!, s.sent[3]!]) t.equal((await next.journal.receipt(e.id, clock.now()))?.status, 'done', `${e.id} done`)
  t.same(attempts.get('a/1'), [start + 2 * WAIT_MS], 'each later message ran once')
})

t.test('a message whose retries run out is a dead letter with every attempt; the key goes on', async (t) => {
  const s = await scenario(5)
  const parts = s.host()
  for (const b of s.batches) await parts.host.handle({ ...b, deadline: s.deadline() })
  for (let round = 0; round < 2; round++) {
    await clock.advance(WAIT_MS)
    t.equal(await s.fireDue(t, parts), 1, `wake-up ${round + 1}`)
  }
  t.equal(attempts.get('a/0')?.length, 3, 'three attempts, as its policy says')
  const letters = await parts.journal.deadLetters()
  t.same(
    letters.map((l) => [l.envelope.id, l.attempts.length]),
    [[s.sent[0]!.id, 3]],
    'one dead letter, with its three attempts',
  )
  t.same(await seen(parts, 'a'), [1, 2], 'the messages behind it ran after it, in order')
  t.same(await s.timers.list(), [], 'no wake-up left')
})

/** A stateless actor that tells the Booking actor; `m.failures` first attempts fail, asking for ten minutes. */
class Notify extends Actor<In> {
  static readonly type = 'rp.notify'
  static readonly policy = { maxAttempts: 3 }
  receive(m: In, ctx: Context) {
    const id = `notify/${m.n}`
    const tried = [...(attempts.get(id) ?? []), clock.now()]
    attempts.set(id, tried)
    if (tried.length <= (m.failures ?? 0)) throw new RetryableError('the mail service says: come back in ten minutes', { retryAfterMs: WAIT_MS })
    ctx.tell(Booking, { key: 'from-notify', n: m.n })
  }
}

/** A fresh table and stream holding two Notify messages, the first failing `failures` times, receipts asked for. */
async function notifyScenario(failures: number) {
  const tableName = `rp-${++tables}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'rp-in')
  const output = await createStream(aws.kinesis, 1, 'rp-out')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const sent = [message(Notify.type, '', { key: '', n: 0, failures }), message(Notify.type, '', { key: '', n: 1 })]
  // Sent by a producer's lane, as a troupe system sends them: a copy of a stateless message is known by its origin.
  for (const [n, e] of sent.entries()) {
    e.receipt = 'status'
    e.origin = { lane: 'p:producer', pos: String(n + 1), i: 0, fence: '1' }
  }
  if ((await producer.send(sent)).failed) throw new Error('could not fill the input stream')
  clock = new SimulatedClock()
  attempts.clear()
  const table = { client: aws.dynamodb, tableName }
  return { tableName, table, input, output, sent, start: clock.now(), timers: new DynamoDBTimerStore(table), batches: await readBatches(aws.kinesis, input) }
}

t.test('a stateless message whose retry asks for ten minutes waits in an item of its own; the shard moves on', async (t) => {
  const { tableName, output, sent, start, timers, batches, input } = await notifyScenario(2)
  const host = () => makeHost(aws, tableName, [Notify, Booking], { stream: output }, { clock })
  const parts = host()
  for (const b of batches) t.equal((await parts.host.handle({ ...b, deadline: clock.now() + 60_000 })).failedFrom, undefined, 'the shard moves on')
  t.same(attempts.get('notify/1'), [start], 'the message after it ran')
  t.same(attempts.get('notify/0'), [start], 'one attempt so far')
  t.equal((await parts.journal.receipt(sent[0]!.id, clock.now()))?.status, 'retrying')
  t.same(
    (await timers.list()).map((w) => [wakeTarget(w), w.dueAt]),
    [[{ type: Notify.type, key: `wait:${sent[0]!.id}` }, start + WAIT_MS]],
    'its waiting item wakes at the retry time',
  )

  // Delivered again to another host while it waits: nothing runs again.
  const next = host()
  for (const b of batches) t.equal((await next.host.handle({ ...b, deadline: clock.now() + 60_000 })).applied, 0, 'nothing applied again')
  t.same(attempts.get('notify/0'), [start])
  t.same(attempts.get('notify/1'), [start])

  for (let round = 1; round <= 2; round++) {
    await clock.advance(WAIT_MS)
    const due = await timers.due(clock.now(), 100)
    t.equal(due.length, 1, `wake-up ${round} due at its retry time`)
    for (const timer of due) {
      const { type, key } = wakeTarget(timer)
      t.ok(await next.host.runWaiting(type, key, derivedId(timer.id as MessageId, 'flush'), input), 'the wake-up ran what waits')
      await timers.delete(timer.id)
    }
  }
  t.same(attempts.get('notify/0'), [start, start + WAIT_MS, start + 2 * WAIT_MS], 'each attempt at its time, the third succeeding')
  t.equal((await next.journal.receipt(sent[0]!.id, clock.now()))?.status, 'done')
  t.same(await timers.list(), [], 'no wake-up left')
  t.same(await next.journal.deadLetters(), [], 'no dead letter')
})

/** `store` with its method `name` failing once, as a throttled or unreachable request fails. */
function failingOnce<T extends object>(store: T, name: keyof T & string): T {
  let failed = false
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      if (prop !== name || failed) return value.bind(target)
      return async () => {
        failed = true
        throw new Error(`${name}: ProvisionedThroughputExceededException (injected)`)
      }
    },
  })
}

t.test("a stateless message parked for its retry whose wake-up was not written gets it from the batch's redelivery", async (t) => {
  const { tableName, table, input, output, sent, start, timers, batches } = await notifyScenario(1)
  // The waiting item's commit lands; the put of its wake-up, after it, fails once.
  const parts = makeHost(aws, tableName, [Notify, Booking], { stream: output }, { clock, timers: failingOnce(new DynamoDBTimerStore(table), 'put') })
  const [batch] = batches
  const first = await parts.host.handle({ ...batch!, deadline: clock.now() + 60_000 })
  t.equal(first.failedFrom, batch!.records[0]!.sequenceNumber, 'the batch is left unfinished from the parked message')
  t.same(await timers.list(), [], 'no wake-up was written')
  const again = await parts.host.handle({ ...batch!, deadline: clock.now() + 60_000 })
  t.equal(again.failedFrom, undefined, 'the redelivery finishes it')
  t.same(attempts.get('notify/0'), [start], 'without running the parked message again')
  t.same(
    (await timers.list()).map((w) => w.dueAt),
    [start + WAIT_MS],
    'its wake-up is written, at the retry time',
  )
  await clock.advance(WAIT_MS)
  for (const timer of await timers.due(clock.now(), 100)) {
    const { type, key } = wakeTarget(timer)
    t.ok(await parts.host.runWaiting(type, key, derivedId(timer.id as MessageId, 'flush'), input))
  }
  t.same(attempts.get('notify/0'), [start, start + WAIT_MS], 'the second attempt ran at its time')
  t.equal((await parts.journal.receipt(sent[0]!.id, clock.now()))?.status, 'done')
})

t.test('a wake-up whose run committed but whose receipt write failed writes it when it fires again', async (t) => {
  const s = await scenario(1)
  const parts = s.host()
  for (const b of s.batches) await parts.host.handle({ ...b, deadline: s.deadline() })
  await clock.advance(WAIT_MS)
  const [timer] = await s.timers.due(clock.now(), 10)
  const { type, key } = wakeTarget(timer!)
  const flush = derivedId(timer!.id as MessageId, 'flush')
  const input = s.batches[0]!.stream
  // The run commits (the messages ran), then its receipts' write fails: the wake-up is unfinished and stays.
  const flaky = makeHost(aws, s.tableName, [Booking], { stream: input }, { clock, journal: failingOnce(parts.journal, 'putReceipts') })
  t.equal(await flaky.host.runWaiting(type, key, flush, input), false, 'the first firing did not finish')
  t.same(await seen(parts, 'a'), [0, 1, 2], 'its turns committed')
  t.equal((await parts.journal.receipt(s.sent[0]!.id, clock.now()))?.status, 'retrying', 'the journal does not say so yet')
  t.equal(await s.host().host.runWaiting(type, key, flush, input), true, 'the wake-up fires again, on another host')
  for (const e of [s.sent[0]!, s.sent[2]!, s.sent[3]!]) t.equal((await parts.journal.receipt(e.id, clock.now()))?.status, 'done', `${e.id}'s receipt says done`)
})
