// Two processes on one table: A consumes the stream and fires timers; B fires timers too (a
// Lambda's scheduled tick, or a second container). A parks a key's messages for its throttle; B's
// tick fires the wake-up first and runs them. A never hears of it from B: it reads the items of
// the keys it parked once their wake-ups are past (each timer tick, and in `idle()`), so its
// `inspect()` stops counting them and its `idle()` ("no message parked") resolves; before, both
// went on saying the messages waited, and `idle()` polled for good. A wake-up a host runs that
// finds nothing left to run (another host ran it first, or won the commit) commits nothing, and
// says so too.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode } from '../../lib/core/serialization.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { clients } from '../../lib/local/local-stack.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { Router } from '../../lib/routing/router.js'
import { createTable } from '../../lib/store/dynamodb.js'
import { KinesisTransport } from '../../lib/transport/kinesis.js'
import { createStream, message } from '../transport/fixtures/kinesis.js'
import { makeHost, readBatches } from './fixtures/durable.js'
import { inOrder } from '../fixtures/actors.js'

type Seen = { seen: number[] }

class Polite extends inOrder('phs.polite') {
  static readonly policy = { throttlePerKey: { ratePerSecond: 1, burst: 1 } }
}

const { stack, aws } = await localStackFor(t)

t.test("a wake-up another process ran: this process's inspect() and idle() know the messages ran", async (t) => {
  const name = 'phs-two'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const start = Date.now()
  const clockA = new SimulatedClock(start)
  const clockB = new SimulatedClock(start)
  const theirs = clients(stack)
  t.teardown(() => {
    theirs.kinesis.destroy()
    theirs.dynamodb.destroy()
  })
  const common = { actors: [Polite], tableName: name, stream: name, pollMs: 20, lingerMs: 0, logLevel: 'error' as const }
  const a = new AwsSystem({ ...common, ...aws, clock: clockA, timerTickMs: 50 })
  const b = new AwsSystem({ ...common, ...theirs, clock: clockB, consume: false, timers: false })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))

  // A's commit that parks two of the three, and says so in its events after it.
  const parked = new Promise<void>((resolve) => {
    let n = 0
    a.on((e) => {
      if (e.type === '@troupe.throttled' && ++n === 2) resolve()
    })
  })
  for (let n = 0; n < 3; n++) await a.tell(Polite, { k: 'k', n })
  await parked
  t.equal(a.inspect().actors.find((r) => r.type === Polite.type)?.parked, 2, 'A parked two')

  // B's tick comes first: its clock is past the wake-up, A's not yet.
  const state = new DynamoDBStateStore({ client: aws.dynamodb, tableName: name })
  // One token a second, one at a time: two ticks of B's, each past the next wake-up.
  for (let tick = 0; tick < 2; tick++) {
    await clockB.advance(5_000)
    await b.fireDueTimers()
  }
  const stored = await state.get(Polite.type, 'k')
  t.same(decode<Seen>(stored!.state).seen, [0, 1, 2], 'B ran the parked messages, in order')
  t.equal(decodeMeta(stored!.meta).parked, undefined, 'nothing is parked any more')

  // A's clock catches up: its runner finds the wake-up gone; its next timer ticks read the item.
  await clockA.advance(10_000)
  const until = Date.now() + 5_000
  while (a.inspect().actors.find((r) => r.type === Polite.type)?.parked !== undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  t.notOk(a.inspect().actors.find((r) => r.type === Polite.type)?.parked, "A's inspect() stops counting them within a few timer ticks")
  const idle = await Promise.race([a.idle().then(() => 'idle' as const), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000).unref())])
  t.equal(idle, 'idle', "A's idle() resolves: nothing it parked waits any more")
  t.notOk(a.inspect().actors.find((r) => r.type === Polite.type)?.parked, "A's inspect() shows nothing parked")
})

t.test('a wake-up that finds its messages run by another host says nothing is parked here any more', async (t) => {
  const tableName = 'phs-host'
  await createTable(aws.dynamodb, tableName)
  const input = await createStream(aws.kinesis, 1, 'phs-host-in')
  const output = await createStream(aws.kinesis, 1, 'phs-host-out')
  const clock = new SimulatedClock()
  const [a, b] = [makeHost(aws, tableName, [Polite], { stream: output }, { clock }), makeHost(aws, tableName, [Polite], { stream: output }, { clock })]
  const producer = new KinesisTransport({ client: aws.kinesis, router: new Router({ defaultStream: input }), lingerMs: 0 })
  for (let n = 0; n < 2; n++) t.notOk((await producer.send([message(Polite.type, 'k', { k: 'k', n })])).failed)
  for (const batch of await readBatches(aws.kinesis, input)) t.equal((await a.host.handle(batch)).failedFrom, undefined)
  t.equal(a.host.parkedMessages, 1, 'A parked one')
  await clock.advance(2_000)
  t.ok(await b.host.runWaiting(Polite.type, 'k', 'wake-b', output), 'B woke the key first')
  t.same(decode<Seen>((await b.state.get(Polite.type, 'k'))!.state).seen, [0, 1])
  t.ok(await a.host.runWaiting(Polite.type, 'k', 'wake-a', output), "A's own wake-up finds nothing to run, and writes nothing")
  t.equal(a.host.parkedMessages, 0, 'and A counts nothing parked')
})
