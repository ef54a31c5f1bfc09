// The backlog as metrics, on the local Kinesis and DynamoDB: two Lambda environments (handlers in
// this process over one table and one stream, invoked with events made from the real records as
// the event source mapping shapes them) write after each invocation, beside their counts, each
// type's Parked, OldestParkedAgeMs, Running and IteratorAgeMs. A keyed type throttled per key and
// a capped type whose slots another host holds park their messages: the environment that parked
// them says how many and how old, the one whose tick ran their wake-up says what is left, and the
// first stops counting them once their wake-up is two minutes past (it ran elsewhere), saying 0 once.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import type { Clock, TimerHandle } from '../../lib/core/clock.js'
import { createLambdaHandler, type LambdaHandler } from '../../lib/lambda/handler.js'
import type { KinesisStreamEvent } from '../../lib/platform/lambda-events.js'
import { readEmf } from '../../lib/metrics/emf.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { readEvent } from './fixtures/read-event.js'

class Slow extends Actor<{ n: number }, void, { n: number[] }> {
  static readonly type = 'bm.slow'
  // Two at once, then one every ten seconds: the rest wait parked.
  static readonly policy = { throttlePerKey: { ratePerSecond: 0.1, burst: 2 } }
  key() {
    return 'only'
  }
  initialState() {
    return { n: [] as number[] }
  }
  receive(m: { n: number }, ctx: Context<{ n: number[] }>) {
    ctx.state.n.push(m.n)
  }
}

class Capped extends Actor<{ k: string }, void, { seen: number }> {
  static readonly type = 'bm.capped'
  static readonly policy = { concurrency: 3 }
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { seen: 0 }
  }
  receive(_m: { k: string }, ctx: Context<{ seen: number }>) {
    ctx.state.seen++
  }
}

class Other extends Actor<{ n: number }> {
  static readonly type = 'bm.other'
  receive() {}
}

const actors = [Slow, Capped, Other]
const MINUTE = 60_000

const { aws } = await localStackFor(t)

/** Real time moved on by `offset`: what both environments read, so the test can jump ahead. */
let offset = 0
const clock: Clock = {
  now: () => Date.now() + offset,
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
}
// Room for the jumps: a turn starts only before the invocation's deadline, read on this clock.
const context = { getRemainingTimeInMillis: () => 10 * MINUTE, functionName: 'troupe-host', awsRequestId: 'r' }

type Gauges = Record<string, Record<string, number>>

/** One invocation; the EMF lines it wrote on stdout (caught, not shown), as metric name → value per actor type. */
async function invoke(handler: LambdaHandler, event: unknown): Promise<{ metrics: Gauges; before: number; after: number }> {
  const write = process.stdout.write.bind(process.stdout)
  const caught: string[] = []
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (!text.includes('"_aws"')) return write(chunk, ...rest)
    caught.push(text)
    return true
  }) as typeof process.stdout.write
  const before = clock.now()
  try {
    await handler(event, context)
  } finally {
    process.stdout.write = write
  }
  const after = clock.now()
  const metrics: Gauges = {}
  for (const line of caught.join('').split('\n').filter(Boolean)) {
    for (const p of readEmf(line) ?? []) {
      const type = p.dimensions.Actor
      if (type !== undefined) (metrics[type] ??= {})[p.name] = p.value
    }
  }
  return { metrics, before, after }
}

/** The oldest arrival of a type's records in an event, epoch ms (the producer's tells are one record each). */
function oldestArrival(event: KinesisStreamEvent, count: number, skip = 0): number {
  return Math.min(...event.Records.slice(skip, skip + count).map((r) => r.kinesis.approximateArrivalTimestamp * 1000))
}

t.test('parked, the oldest parked, running and the iterator age per type, from the environment that knows', async (t) => {
  const name = 'bm-backlog'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const producer = new AwsSystem({ actors, ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'error', lingerMs: 0 })
  t.teardown(() => producer.stop())
  const environment = () => createLambdaHandler({ actors, ...aws, tableName: name, stream: name, clock, logLevel: 'error', safetyMarginMs: 1_000 })
  const a = environment()
  const b = environment()
  let after: string | undefined
  const nextEvent = async () => {
    const event = await readEvent(aws.kinesis, name, after)
    after = event.Records.at(-1)?.kinesis.sequenceNumber ?? after
    return event
  }

  // Another host holds every slot of the capped type, for ten minutes.
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: name })
  t.ok((await slots.take(Capped.type, { holder: 'another-host', count: 3, expiresAt: Date.now() + 10 * MINUTE }, 3, [])).taken, 'another host holds the three slots')

  // One record each, in this order: ten for the throttled key, then one per capped key.
  const sent: { before: number; after: number }[] = []
  for (let n = 0; n < 10; n++) {
    const before = clock.now()
    await producer.tell(Slow, { n })
    sent.push({ before, after: clock.now() })
  }
  const cappedFrom = clock.now()
  for (let k = 0; k < 5; k++) await producer.tell(Capped, { k: `c${k}` })
  const cappedTo = clock.now()

  const first = await nextEvent()
  t.equal(first.Records.length, 15)
  const one = await invoke(a, first)
  const slow = one.metrics[Slow.type]!
  t.match(slow, { processed: 2, throttled: 8, Parked: 8 }, 'the burst ran, eight parked')
  // The oldest parked is the third message sent; its age is read at the end of the invocation.
  t.ok(slow.OldestParkedAgeMs! >= one.before - sent[2]!.after && slow.OldestParkedAgeMs! <= one.after - sent[2]!.before, `oldest parked ${slow.OldestParkedAgeMs} ms, the third message's age`)
  const slowArrived = oldestArrival(first, 10)
  t.ok(slow.IteratorAgeMs! >= one.before - slowArrived && slow.IteratorAgeMs! <= one.after - slowArrived, `iterator age ${slow.IteratorAgeMs} ms: the first record's time in the stream when the batch was taken in`)
  t.equal(slow.Running, undefined, 'no Running for a type without a cap')
  const capped = one.metrics[Capped.type]!
  t.match(capped, { processed: 0, throttled: 5, Parked: 5, Running: 3 }, 'no slot free: all five parked, the three slots held elsewhere running')
  t.ok(capped.OldestParkedAgeMs! >= one.before - cappedTo && capped.OldestParkedAgeMs! <= one.after - cappedFrom, `the capped type's oldest parked: ${capped.OldestParkedAgeMs} ms`)
  const cappedArrived = oldestArrival(first, 5, 10)
  t.ok(capped.IteratorAgeMs! >= one.before - cappedArrived && capped.IteratorAgeMs! <= one.after - cappedArrived, `its iterator age: ${capped.IteratorAgeMs} ms`)

  // Half a minute on, the wake-ups are due but no tick has run them: A still counts what it parked.
  offset = 30_000
  await producer.tell(Other, { n: 1 })
  const two = await invoke(a, await nextEvent())
  t.match(two.metrics[Slow.type], { Parked: 8 }, 'within the grace, A still counts the eight')
  t.ok(two.metrics[Slow.type]!.OldestParkedAgeMs! >= 30_000, 'and their age goes on')
  t.equal(two.metrics[Slow.type]!.IteratorAgeMs, undefined, 'no iterator age for a type with no record in the batch')
  t.match(two.metrics[Capped.type], { Parked: 5 })
  t.type(two.metrics[Other.type]?.IteratorAgeMs, 'number', 'the type in the batch has its iterator age')

  // Three minutes on, B's tick runs the wake-ups: two more tokens for the key, no slot for the capped type.
  offset = 3 * MINUTE
  const three = await invoke(b, { troupe: 'tick' })
  t.match(three.metrics[Slow.type], { processed: 2, Parked: 6 }, 'B ran the two the bucket had and tells the six left')
  t.ok(three.metrics[Slow.type]!.OldestParkedAgeMs! >= three.before - sent[4]!.after && three.metrics[Slow.type]!.OldestParkedAgeMs! <= three.after - sent[4]!.before, 'the oldest left is the fifth message sent')
  t.match(three.metrics[Capped.type], { Parked: 5, Running: 3 }, 'B parked the capped five again: the slots are still held')

  // A never heard: their wake-ups are two minutes past, so it counts them no more, and says 0 once.
  await producer.tell(Other, { n: 2 })
  const four = await invoke(a, await nextEvent())
  t.match(four.metrics[Slow.type], { Parked: 0, OldestParkedAgeMs: 0 }, 'A: the key it parked is no longer its to count')
  t.match(four.metrics[Capped.type], { Parked: 0, OldestParkedAgeMs: 0 })
  await producer.tell(Other, { n: 3 })
  const five = await invoke(a, await nextEvent())
  t.equal(five.metrics[Slow.type], undefined, 'and then nothing for the type')
  t.equal(five.metrics[Capped.type], undefined)
})
