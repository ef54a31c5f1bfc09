// The Lambda handler on the local Kinesis and DynamoDB, invoked in this process with events
// made from real records exactly as the event source mapping shapes them.
import t, { type Test } from 'tap'
import { Actor, RetryableError, TerminalError, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode } from '../../lib/core/serialization.js'
import { createLambdaHandler } from '../../lib/hosts/lambda/handler.js'
import type { KinesisStreamEvent } from '../../lib/hosts/lambda/events.js'
import { readEvent } from './fixtures/read-event.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'

type In = { k: string; by: number; poison?: boolean; slow?: boolean }
let slowFixed = false

class Counter extends Actor<In, number, { n: number }> {
  static readonly type = 'lh.counter'
  static readonly policy = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 }
  key(m: In) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(m: In, ctx: Context<{ n: number }>) {
    if (m.poison) throw new TerminalError(`poison for ${m.k}`)
    if (m.slow && !slowFixed) throw new RetryableError('not yet', { retryAfterMs: 60_000 })
    ctx.state.n += m.by
    return ctx.state.n
  }
}

const { aws } = await localStackFor(t)

let made = 0
const context = (remainingMs = 60_000) => ({ getRemainingTimeInMillis: () => remainingMs, functionName: 'troupe-host', awsRequestId: `r${made}` })

/** A table and a one-shard stream, a producer system (no consumer) and a handler over them. */
async function setup(t: Test) {
  const name = `lh-${++made}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const producer = new AwsSystem({ actors: [Counter], ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'error', lingerMs: 0 })
  t.teardown(() => producer.stop())
  const handler = createLambdaHandler({ actors: [Counter], ...aws, tableName: name, stream: name, logLevel: 'error', safetyMarginMs: 1_000 })
  let after: string | undefined
  /** The records put since the last call, as one event source mapping batch. */
  const nextEvent = async (): Promise<KinesisStreamEvent> => {
    const event = await readEvent(aws.kinesis, name, after)
    after = event.Records.at(-1)?.kinesis.sequenceNumber ?? after
    return event
  }
  const state = async (k: string) => ((await producer.state(Counter, k)) as { n: number } | undefined)?.n
  return { name, producer, handler, nextEvent, state }
}

t.test('a batch is applied once, however often it is delivered, and answers with an empty failure list', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  for (let i = 1; i <= 10; i++) await producer.tell(Counter, { k: i % 2 ? 'odd' : 'even', by: i })
  const event = await nextEvent()
  t.equal(event.Records.length, 10)
  t.same(await handler(event, context()), { batchItemFailures: [] })
  t.same(await handler(event, context()), { batchItemFailures: [] }, 'a redelivery succeeds too')
  t.equal(await state('odd'), 1 + 3 + 5 + 7 + 9)
  t.equal(await state('even'), 2 + 4 + 6 + 8 + 10)
})

t.test('a poison message goes to dead letters and the batch goes on', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  await producer.tell(Counter, { k: 'a', by: 1 })
  const poison = await producer.tell(Counter, { k: 'a', by: 100, poison: true })
  await producer.tell(Counter, { k: 'a', by: 2 })
  await producer.tell(Counter, { k: 'b', by: 5 })
  t.same(await handler(await nextEvent(), context()), { batchItemFailures: [] })
  t.equal(await state('a'), 3, 'the poison message changed nothing; its neighbours ran')
  t.equal(await state('b'), 5)
  const letters = await producer.deadLetters()
  t.same(letters.map((l) => l.envelope.id), [poison])
  t.equal(letters[0]?.error.name, 'TerminalError')
})

t.test('a failing key holds only its own later messages; the failure is reported from its record', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  slowFixed = false
  await producer.tell(Counter, { k: 'x', by: 1 })
  await producer.tell(Counter, { k: 'slow', by: 10, slow: true })
  await producer.tell(Counter, { k: 'slow', by: 20 })
  await producer.tell(Counter, { k: 'y', by: 2 })
  const event = await nextEvent()
  const first = await handler(event, context())
  t.same(first, { batchItemFailures: [{ itemIdentifier: event.Records[1]!.kinesis.sequenceNumber }] }, 'retry from the slow key’s record')
  t.equal(await state('x'), 1)
  t.equal(await state('y'), 2, 'a key after the failure in the batch was applied')
  t.equal(await state('slow'), undefined, 'the slow key waits, in order')
  slowFixed = true
  // Lambda redelivers from the reported record.
  const tail: KinesisStreamEvent = { Records: event.Records.slice(1) }
  t.same(await handler(tail, context()), { batchItemFailures: [] })
  t.equal(await state('slow'), 30)
  t.equal(await state('y'), 2, 'the key already applied is not applied again')
})

t.test('an aggregate record whose member must wait is reported by the record’s own sequence number; the redelivery runs only the members not applied', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  slowFixed = false
  // Told without waiting: the key's messages that wait for its call in flight go as one aggregate record.
  await Promise.all([1, 2, 4, 8, 16].map((by) => producer.tell(Counter, { k: 'agg', by, ...(by === 8 ? { slow: true } : {}) })))
  t.ok(producer.transport.stats.aggregatesSent >= 1, 'an aggregate record was sent')
  const event = await nextEvent()
  const last = event.Records.at(-1)!
  const members = defaultRecordCodec.decodeAll(last.kinesis.data)
  t.match(members, { ok: true, aggregate: true }, 'the last record is an aggregate')
  t.same(await handler(event, context()), { batchItemFailures: [{ itemIdentifier: last.kinesis.sequenceNumber }] }, 'retry from the aggregate record')
  t.equal(await state('agg'), 7, 'the members before the slow one were applied')
  slowFixed = true
  t.same(await handler({ Records: event.Records.slice(-1) }, context()), { batchItemFailures: [] })
  t.equal(await state('agg'), 31, 'the redelivery ran the slow member and the one after it, and nothing twice')
})

t.test('with no time left, nothing starts and the whole batch is reported unfinished', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  await producer.tell(Counter, { k: 'late', by: 1 })
  const event = await nextEvent()
  t.same(await handler(event, context(500)), { batchItemFailures: [{ itemIdentifier: event.Records[0]!.kinesis.sequenceNumber }] })
  t.equal(await state('late'), undefined)
  t.same(await handler(event, context()), { batchItemFailures: [] })
  t.equal(await state('late'), 1)
})

t.test('an ask invoked directly answers with the reply, once per message id', async (t) => {
  const { handler, state } = await setup(t)
  const envelope = makeEnvelope({ id: 'ask-1' as MessageId, type: Counter.type, key: 'q', body: { k: 'q', by: 7 }, correlationId: 'ask-1' as CorrelationId, sentAt: Date.now() })
  const invocation = { troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64') }
  const answer = await handler(invocation, context())
  t.match(answer, { troupe: 'answer', status: 'done' })
  t.equal(decode((answer as { reply: string }).reply), 7)
  const again = await handler(invocation, context())
  t.equal(decode((again as { reply: string }).reply), 7, 'a repeated invocation answers the same')
  t.equal(await state('q'), 7, 'and is not applied twice')
})

t.test('a tick fires the timers that are due', async (t) => {
  const { producer, handler, nextEvent } = await setup(t)
  await producer.schedule(Counter, { k: 'timed', by: 4 }, { afterMs: 0 })
  t.same(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context()), { troupe: 'ticked' })
  const event = await nextEvent()
  t.equal(event.Records.length, 1, 'the timer’s message is on the stream')
  t.same(await producer.timers(), [], 'a one-shot timer is gone')
})

t.test('an event of no known shape is refused, naming what it has', async (t) => {
  const { handler } = await setup(t)
  await t.rejects(handler({ hello: 1 }, context()), { code: 'TROUPE_BAD_INVOCATION', message: /hello/ })
})
