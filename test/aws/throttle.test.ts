// Throttles in the durable host, on the local Kinesis and DynamoDB with a simulated clock: a key's
// messages beyond its tokens are parked in its item (not run, not retried, not lost) and run in
// order, as tokens come, when their wake-up timer fires; other keys flow. A host replaced while
// messages are parked, a batch delivered again and a wake-up fired twice run nothing twice; a
// paused key keeps them until its resume.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { DurablePauses } from '../../lib/aws/pauses.js'
import type { Envelope } from '../../lib/core/envelope.js'
import { decode } from '../../lib/core/serialization.js'
import { THROTTLE_WAKE, wakeTarget } from '../../lib/hosts/durable/instance-throttle.js'
import { Router } from '../../lib/routing/router.js'
import { createTable, DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import type { TroupeEvent } from '../../lib/core/inspection.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches, wakeUp } from './fixtures/durable.js'

type In = { host: string; n: number }
type Seen = { seen: number[] }

const RATE = 2 // tokens per second
const BURST = 3

class Polite extends Actor<In, void, Seen> {
  static readonly type = 'th.polite'
  static readonly policy = { throttlePerKey: { ratePerSecond: RATE, burst: BURST } }
  key(m: In) {
    return m.host
  }
  initialState() {
    return { seen: [] as number[] }
  }
  receive(m: In, ctx: Context<Seen>) {
    ctx.state.seen.push(m.n)
  }
}

const { aws } = await localStackFor(t)

const BUSY = 'busy.example'
const N = 12
const OTHERS = ['a.example', 'b.example', 'c.example']
let tables = 0

/** A fresh table and a stream holding N messages to the busy key and one to each other key, receipts asked for. */
async function scenario() {
  const tableName = `th-${++tables}`
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'th-in')
  const output = await createStream(aws.kinesis, 1, 'th-out')
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  const sent = [
    ...Array.from({ length: N }, (_, n) => message(Polite.type, BUSY, { host: BUSY, n })),
    ...OTHERS.map((host, n) => message(Polite.type, host, { host, n })),
  ]
  for (const e of sent) e.receipt = 'status'
  const report = await producer.send(sent)
  if (report.failed) throw new Error('could not fill the input stream')
  const clock = new SimulatedClock()
  const events: TroupeEvent[] = []
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName })
  const host = () => makeHost(aws, tableName, [Polite], { stream: output }, { clock, onEvent: (e) => events.push(e) })
  /** A wake-up timer fires: the first parked message goes on the input stream again, and its batch is handled by `parts`. */
  const wake = async (parts: ReturnType<typeof host>) => {
    const batch = await wakeUp(aws.kinesis, parts, producer, Polite.type, BUSY)
    if (batch) await parts.host.handle(batch)
  }
  return { tableName, sent, clock, events, timers, host, wake, batches: await readBatches(aws.kinesis, input) }
}

async function seen(parts: ReturnType<Awaited<ReturnType<typeof scenario>>['host']>, key: string): Promise<number[]> {
  const stored = await parts.state.get(Polite.type, key)
  return stored ? decode<Seen>(stored.state).seen : []
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

t.test('a key gets its burst, the rest wait parked and run in order as tokens come; other keys flow', async (t) => {
  const s = await scenario()
  const parts = s.host()
  for (const b of s.batches) {
    const r = await parts.host.handle(b)
    t.equal(r.failedFrom, undefined, 'the shard moves on: nothing left for redelivery')
  }
  t.same(await seen(parts, BUSY), range(0, BURST), `the busy key ran its burst (${BURST}) in the first moment, not all ${N}`)
  for (const [n, host] of OTHERS.entries()) t.same(await seen(parts, host), [n], `${host} flowed`)
  t.equal(parts.host.counts.get(Polite.type)!.throttled, N - BURST, 'every parked message counted as throttled')
  t.equal(s.events.filter((e) => e.type === '@troupe.throttled').length, N - BURST, 'and reported as @troupe.throttled')
  t.equal(parts.host.parkedMessages, N - BURST)
  const waiting = await parts.journal.receipt(s.sent[BURST]!.id, s.clock.now())
  t.equal(waiting?.status, 'throttled', 'a parked message’s receipt says throttled')

  // Fire the wake-ups as a timer runner would, one simulated second at a time.
  let wakes = 0
  for (let second = 1; second <= 2 * N && (await seen(parts, BUSY)).length < N; second++) {
    await s.clock.advance(1_000)
    for (const timer of await s.timers.due(s.clock.now(), 100)) {
      t.equal(timer.target, THROTTLE_WAKE)
      t.same(wakeTarget(timer), { type: Polite.type, key: BUSY })
      await s.wake(parts)
      await s.timers.delete(timer.id)
      wakes++
    }
    const ran = (await seen(parts, BUSY)).length
    t.ok(ran <= Math.min(N, BURST + RATE * second), `after ${second} s: ${ran} ran, at most burst + rate × time (${BURST + RATE * second})`)
  }
  t.same(await seen(parts, BUSY), range(0, N), 'every message ran once, in order')
  t.ok(wakes >= Math.ceil((N - BURST) / BURST), `${wakes} wake-ups, each running at most the burst`)
  t.equal(parts.host.parkedMessages, 0)
  t.same(await s.timers.list(), [], 'no wake-up left behind')
  t.equal((await parts.journal.receipt(s.sent[N - 1]!.id, s.clock.now()))?.status, 'done')
})

t.test('a host replaced while messages are parked, the batch delivered again and a wake-up fired twice: nothing lost, nothing twice', async (t) => {
  const s = await scenario()
  const first = s.host()
  for (const b of s.batches) await first.host.handle(b)
  t.same(await seen(first, BUSY), range(0, BURST))

  // The first host is gone; the stream delivers the same batch to the next one.
  const next = s.host()
  let duplicates = 0
  for (const b of s.batches) {
    const r = await next.host.handle(b)
    t.equal(r.applied, 0, 'nothing applied again')
    duplicates += r.duplicates
  }
  // Records may be aggregates of several messages: count messages.
  t.equal(duplicates, s.sent.length, 'parked and applied messages are all recognised')
  t.same(await seen(next, BUSY), range(0, BURST), 'nothing ran again, nothing was parked twice')
  const stored = await next.state.get(Polite.type, BUSY)
  t.ok(stored, 'the busy key has its item')

  for (let second = 1; second <= 2 * N && (await seen(next, BUSY)).length < N; second++) {
    await s.clock.advance(1_000)
    for (const timer of await s.timers.due(s.clock.now(), 100)) {
      // Two processes fire the same timer: the second finds nothing more to run.
      await s.wake(next)
      await s.wake(s.host())
      await s.timers.delete(timer.id)
    }
  }
  t.same(await seen(next, BUSY), range(0, N), 'every parked message ran exactly once, in order')
})

t.test('a message arriving while others are parked waits behind them, even when a token is there', async (t) => {
  const s = await scenario()
  const parts = s.host()
  for (const b of s.batches) await parts.host.handle(b)
  // Long after: the bucket is full again, but the parked messages are older than a new one.
  await s.clock.advance(60_000)
  const late = message(Polite.type, BUSY, { host: BUSY, n: N })
  const r = await parts.host.handleDirect(late)
  t.ok(r, 'the direct turn finished')
  t.same(await seen(parts, BUSY), range(0, BURST * 2), 'the parked ones ran first, as far as the tokens went')
  t.equal(r?.status, 'throttled', 'the new message waits behind the rest')
  for (let second = 1; second <= 2 * N && (await seen(parts, BUSY)).length < N + 1; second++) {
    await s.clock.advance(1_000)
    for (const timer of await s.timers.due(s.clock.now(), 100)) {
      await s.wake(parts)
      await s.timers.delete(timer.id)
    }
  }
  t.same(await seen(parts, BUSY), range(0, N + 1), 'all of them, in order')
})

t.test('a paused key keeps its parked messages through a wake-up; resume runs them first, in order', async (t) => {
  const s = await scenario()
  const parts = s.host()
  for (const b of s.batches) await parts.host.handle(b)
  const woken: Envelope[] = []
  const pauses = new DurablePauses(parts.state, async (e) => void woken.push(e), () => s.clock.now())
  await pauses.pause(Polite.type, BUSY)
  await s.clock.advance(10_000)
  for (const timer of await s.timers.due(s.clock.now(), 100)) {
    await s.wake(parts)
    await s.timers.delete(timer.id)
  }
  t.same(await seen(parts, BUSY), range(0, BURST), 'nothing ran while paused')
  t.same(await s.timers.list(), [], 'and no new wake-up was set: resume wakes the key')
  t.equal(parts.host.parkedMessages, 0, 'so idle() does not wait for a paused key')

  await pauses.resume(Polite.type, BUSY)
  t.same(
    woken.map((e) => [e.type, e.key, e.control]),
    [[Polite.type, BUSY, 'flush']],
    'resume puts a flush record for the key on the stream as the wake-up',
  )
  // The flush record arrives: it applies nothing, but the parked messages run as tokens allow.
  await parts.host.handleDirect(woken[0]!)
  t.same(await seen(parts, BUSY), range(0, 2 * BURST), 'the burst ran, oldest first')
  for (let second = 1; second <= 2 * N && (await seen(parts, BUSY)).length < N; second++) {
    await s.clock.advance(1_000)
    for (const timer of await s.timers.due(s.clock.now(), 100)) {
      await s.wake(parts)
      await s.timers.delete(timer.id)
    }
  }
  t.same(await seen(parts, BUSY), range(0, N), 'every message once, in order')
})
