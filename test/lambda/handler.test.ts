// The Lambda handler on the local Kinesis and DynamoDB, invoked in this process with events
// made from real records exactly as the event source mapping shapes them.
import t, { type Test } from 'tap'
import { Actor, RetryableError, TerminalError, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { clients } from '../../lib/local/local-stack.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { INVOKED } from '../../lib/hosts/durable/pending-receipts.js'
import { NOTICE_MS } from '../../lib/hosts/durable/recent-items.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { decode } from '../../lib/core/serialization.js'
import { createLambdaHandler } from '../../lib/lambda/handler.js'
import type { KinesisStreamEvent } from '../../lib/platform/lambda-events.js'
import { readEvent } from './fixtures/read-event.js'
import { defaultRecordCodec } from '../../lib/routing/record-codec.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'

type In = { k: string; by: number; poison?: boolean; slow?: boolean }
let slowFixed = false
let poisonFixed = false

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
    if (m.poison && !poisonFixed) throw new TerminalError(`poison for ${m.k}`)
    // Longer than the first invocations below have (half a second), too short to park (retry-parking.ts).
    if (m.slow && !slowFixed) throw new RetryableError('not yet', { retryAfterMs: 1_500 })
    ctx.state.n += m.by
    return ctx.state.n
  }
}

/** A state near the item's limit: the outbox of a commit goes to the overflow store. */
class Big extends Actor<{ k: string }, string, { fill: string }> {
  static readonly type = 'lh.big'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { fill: 'x'.repeat(390_000) }
  }
  receive() {
    return 'r'.repeat(20_000)
  }
}

/** A capped stateless actor whose every attempt asks to be tried again in two minutes. */
class Flaky extends Actor<{ n: number }, void> {
  static readonly type = 'lh.flaky'
  static readonly policy = { concurrency: 1, maxAttempts: 5 }
  receive() {
    throw new RetryableError('not now', { retryAfterMs: 120_000 })
  }
}

const { stack, aws } = await localStackFor(t)

let made = 0
const context = (remainingMs = 60_000) => ({ getRemainingTimeInMillis: () => remainingMs, functionName: 'troupe-host', awsRequestId: `r${made}` })

/** A DynamoDB client of the local stack that notes each command it sends (countRequests' own counter is the handler's). */
function countedClient(t: Test): { client: DynamoDBClient; calls: string[] } {
  const client = clients(stack).dynamodb
  t.teardown(() => client.destroy())
  const calls: string[] = []
  client.middlewareStack.add((next, context) => (args) => {
    calls.push(String(context.commandName).replace(/Command$/, ''))
    return next(args)
  }, { step: 'initialize', name: 'testCalls' })
  return { client, calls }
}

/** A table and a one-shard stream, a producer system (no consumer) and a handler over them. */
async function setup(t: Test, handlerDynamodb = aws.dynamodb) {
  const name = `lh-${++made}`
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const producer = new AwsSystem({ actors: [Counter, Big, Flaky], ...aws, tableName: name, stream: name, consume: false, timers: false, logLevel: 'error', lingerMs: 0 })
  t.teardown(() => producer.stop())
  const handler = createLambdaHandler({ actors: [Counter, Big, Flaky], ...aws, dynamodb: handlerDynamodb, tableName: name, stream: name, logLevel: 'error', safetyMarginMs: 1_000 })
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
  const first = await handler(event, context(2_500))
  t.same(first, { batchItemFailures: [{ itemIdentifier: event.Records[1]!.kinesis.sequenceNumber }] }, 'retry from the slow key’s record')
  t.equal(await state('x'), 1)
  t.equal(await state('y'), 2, 'a key after the failure in the batch was applied')
  t.equal(await state('slow'), undefined, 'the slow key waits, in order')
  slowFixed = true
  // Lambda redelivers from the reported record; with a minute left, it waits out the retry's rest.
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
  t.same(await handler(event, context(2_500)), { batchItemFailures: [{ itemIdentifier: last.kinesis.sequenceNumber }] }, 'retry from the aggregate record')
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

t.test("a direct ask takes one DynamoDB request, its commit, once its environment has committed the instance: the answer's receipt entry travels in the commit and is written with the instance's next record", async (t) => {
  const { client, calls } = countedClient(t)
  const { name, handler, producer, nextEvent } = await setup(t, client)
  const journal = new DynamoDBJournalStore({ client: aws.dynamodb, tableName: name })
  const ask = (id: string, by: number) => {
    const envelope = makeEnvelope({ id: id as MessageId, type: Counter.type, key: 'd', body: { k: 'd', by }, correlationId: id as CorrelationId, sentAt: Date.now() })
    return handler({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context())
  }
  // What the asker writes while it invokes: the accepted entry that points a reader at the instance.
  const accepted = (id: string) => journal.putReceipts([{ id, actor: Counter.type, key: 'd', entry: { status: 'accepted', at: Date.now(), attempt: 0, reason: INVOKED }, expiresAt: Date.now() + 60_000 }])
  await ask('warm', 1)
  t.strictSame(calls, ['BatchGetItem', 'PutItem'], 'the first ask: a read of the instance and its type’s pause, and the commit')
  for (const [i, id] of ['d-1', 'd-2', 'd-3'].entries()) {
    await accepted(id)
    calls.length = 0
    const answer = await ask(id, 10)
    t.equal(decode((answer as { reply: string }).reply), 11 + 10 * i, `${id} answered`)
    t.strictSame(calls, ['PutItem'], `${id}: the commit alone, on the item this environment committed last`)
    t.equal((await journal.receipt(id, Date.now()))?.status, 'accepted', `${id}'s final entry is not written on its own`)
    t.match(await producer.receipt(id), { status: 'done', history: [{ status: 'accepted', reason: INVOKED }, { status: 'done' }] }, `${id}'s receipt reads final through the instance's item`)
  }
  // A repeated invocation of an answered ask answers from the item, and applies nothing.
  t.equal(decode(((await ask('d-3', 10)) as { reply: string }).reply), 31, 'a repeat answers the same')
  // The instance's next record in its shard writes what waited.
  await producer.tell(Counter, { k: 'd', by: 1 })
  t.strictSame(await handler(await nextEvent(), context()), { batchItemFailures: [] })
  for (const id of ['d-1', 'd-2', 'd-3']) t.equal((await journal.receipt(id, Date.now()))?.status, 'done', `${id}'s final entry is written now`)
  t.equal((await producer.state(Counter, 'd'))?.n, 32, 'each message applied once')
})

t.test('a direct ask on an item another environment changed since loses its conditional write, runs again on the item read then and applies once; that key is read first after that', async (t) => {
  const { client, calls } = countedClient(t)
  const { name, handler, state } = await setup(t, client)
  // A second warm environment of the same function.
  const other = createLambdaHandler({ actors: [Counter, Big, Flaky], ...aws, tableName: name, stream: name, logLevel: 'error', safetyMarginMs: 1_000 })
  const ask = (h: typeof handler, id: string, by: number) => {
    const envelope = makeEnvelope({ id: id as MessageId, type: Counter.type, key: 's', body: { k: 's', by }, correlationId: id as CorrelationId, sentAt: Date.now() })
    return h({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context()).then((a) => decode((a as { reply: string }).reply))
  }
  t.equal(await ask(handler, 's-1', 1), 1)
  t.equal(await ask(other, 's-2', 10), 11, 'the other environment read the item')
  calls.length = 0
  t.equal(await ask(handler, 's-3', 100), 111, 'the answer counts the other environment’s turn')
  t.strictSame(calls, ['PutItem', 'BatchGetItem', 'PutItem'], 'the commit on the item it left lost; the item was read and the turn ran again')
  calls.length = 0
  t.equal(await ask(handler, 's-4', 1_000), 1_111)
  t.strictSame(calls, ['BatchGetItem', 'PutItem'], 'a key another environment writes is read first')
  t.equal(await state('s'), 1_111, 'each ask applied once')
})

t.test('a pause of a whole type returns once a warm environment that asked it last would read it: its next direct ask is held, not run', async (t) => {
  const { client, calls } = countedClient(t)
  const { handler, producer, state } = await setup(t, client)
  const ask = (id: string) => {
    const envelope = makeEnvelope({ id: id as MessageId, type: Counter.type, key: 'pz', body: { k: 'pz', by: 1 }, correlationId: id as CorrelationId, sentAt: Date.now() })
    return handler({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context())
  }
  t.match(await ask('pz-1'), { status: 'done' })
  const began = performance.now()
  await producer.pause(Counter)
  t.ok(performance.now() - began >= NOTICE_MS, `the pause waited out the ${NOTICE_MS} ms a read that found the type unpaused stands for`)
  calls.length = 0
  t.match(await ask('pz-2'), { status: 'unfinished' }, 'the ask is held by the pause')
  t.equal(calls[0], 'BatchGetItem', 'the type’s pause item was read before the turn')
  t.equal(await state('pz'), 1, 'nothing ran while paused')
  t.match(await producer.receipt('pz-2'), { status: 'paused' })
})

t.test("the answer's final entry is written after the commit when the asker does not point readers at the item, or the item's outbox goes to the overflow store", async (t) => {
  const { client, calls } = countedClient(t)
  const { name, handler } = await setup(t, client)
  const journal = new DynamoDBJournalStore({ client: aws.dynamodb, tableName: name })
  const invocation = (id: string, type: string, keepReceipt: boolean) => {
    const envelope = makeEnvelope({ id: id as MessageId, type, key: 'w', body: { k: 'w', by: 1 }, correlationId: id as CorrelationId, sentAt: Date.now() })
    return { troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), ...(keepReceipt ? { keepReceipt } : {}) }
  }
  await handler(invocation('w-0', Counter.type, false), context())
  calls.length = 0
  t.match(await handler(invocation('w-1', Counter.type, false), context()), { status: 'done' })
  t.strictSame(calls, ['PutItem', 'BatchWriteItem'], 'an asker that wrote no accepted entry pointing at the item: the entry is written after the commit')
  t.equal((await journal.receipt('w-1', Date.now()))?.status, 'done')
  t.match(await handler(invocation('b-1', Big.type, true), context()), { status: 'done' })
  t.equal((await journal.receipt('b-1', Date.now()))?.status, 'done', 'an outbox spilled to the overflow store: the entry is written after the commit')
})

t.test("replaying the dead letter of a direct ask: what the instance's item kept of the old run's end does not come back", async (t) => {
  const { name, handler, producer, nextEvent } = await setup(t)
  const journal = new DynamoDBJournalStore({ client: aws.dynamodb, tableName: name })
  const envelope = makeEnvelope({ id: 'rp-1' as MessageId, type: Counter.type, key: 'rp', body: { k: 'rp', by: 5, poison: true }, correlationId: 'rp-1' as CorrelationId, sentAt: Date.now() })
  t.match(await handler({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context()), { status: 'dead' })
  t.same((await producer.deadLetters()).map((l) => l.envelope.id), ['rp-1'], 'the ask died: a dead letter')
  poisonFixed = true
  t.teardown(() => (poisonFixed = false))
  await producer.replay('rp-1')
  t.strictSame(await handler(await nextEvent(), context()), { batchItemFailures: [] })
  t.same(await producer.deadLetters(), [], 'the letter does not come back')
  t.equal((await journal.receipt('rp-1', Date.now()))?.status, 'done', "the replay's run ends the receipt")
  t.equal((await producer.state(Counter, 'rp'))?.n, 5, 'applied once, by the replay')
})

t.test("a direct ask of a capped stateless actor does not wait in place for a retry its slot's lease would not outlast: it is left unfinished", async (t) => {
  const { handler } = await setup(t)
  const envelope = makeEnvelope({ id: 'fl-1' as MessageId, type: Flaky.type, key: '', body: { n: 1 }, correlationId: 'fl-1' as CorrelationId, sentAt: Date.now() })
  const started = Date.now()
  // Ten minutes left in the invocation: only the lease (the attempt timeout and its margin) ends the wait.
  t.match(await handler({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context(600_000)), { troupe: 'answer', status: 'unfinished' })
  t.ok(Date.now() - started < 20_000, `answered in ${Date.now() - started} ms, not after the two-minute retry`)
})

t.test('receipts of direct asks wait in the item only while few: the run after 12 writes them in one request before its commit', async (t) => {
  const { client, calls } = countedClient(t)
  const { name, handler } = await setup(t, client)
  const journal = new DynamoDBJournalStore({ client: aws.dynamodb, tableName: name })
  const perAsk: number[] = []
  for (let i = 1; i <= 20; i++) {
    const envelope = makeEnvelope({ id: `m-${i}` as MessageId, type: Counter.type, key: 'm', body: { k: 'm', by: 1 }, correlationId: `m-${i}` as CorrelationId, sentAt: Date.now() })
    calls.length = 0
    await handler({ troupe: 'ask', envelope: defaultRecordCodec.encode(envelope).toString('base64'), keepReceipt: true }, context())
    perAsk.push(calls.length)
  }
  t.strictSame(perAsk, [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1], 'the first run reads and commits, the next commit alone; the 13th reads (a run that writes before its commit starts from the item as it stands), writes the 12 that waited (one BatchWriteItem, with their trace links), then commits')
  for (let i = 1; i <= 12; i++) t.equal((await journal.receipt(`m-${i}`, Date.now()))?.status, 'done', `m-${i} written`)
  for (const i of [13, 20]) t.equal(await journal.receipt(`m-${i}`, Date.now()), undefined, `m-${i} waits in the item`)
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

t.test('a batch no event source mapping sends is refused whole, naming why, and nothing of it runs', async (t) => {
  const { producer, handler, nextEvent, state } = await setup(t)
  for (const by of [1, 2, 4]) await producer.tell(Counter, { k: 'order', by })
  const event = await nextEvent()
  const refusal = async (e: unknown, c: unknown = context()) =>
    (handler as (e: unknown, c: unknown) => Promise<unknown>)(e, c).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    )
  const reversed = await refusal({ Records: [...event.Records].reverse() })
  t.equal(reversed?.code, 'TROUPE_BAD_INVOCATION', 'records out of their order')
  t.match(reversed?.message, /record 1 of lh-\d+\/shardId-000000000000 has sequence number \d+, lower than the record before it/)
  const otherShard = structuredClone(event)
  otherShard.Records[2]!.eventID = `shardId-000000000009:${otherShard.Records[2]!.kinesis.sequenceNumber}`
  t.match((await refusal(otherShard))?.message, /record 0 is of lh-\d+\/shardId-000000000000, record 2 of lh-\d+\/shardId-000000000009/, 'two shards in one batch')
  const noArn = structuredClone(event) as { Records: { eventSourceARN?: string }[] }
  delete noArn.Records[1]!.eventSourceARN
  t.match((await refusal(noArn))?.message, /record 1 names no Kinesis stream: its eventSourceARN is undefined/, 'a record naming no stream')
  t.match((await refusal({ Records: [event.Records[0], null] }))?.message, /record 1 is null/)
  t.match((await refusal(event, {}))?.message, /no Lambda context/, 'a context without the remaining time')
  t.match((await refusal({ Records: [] }))?.message, /this event has Records: an empty list of them/)
  t.match((await refusal({ Records: [{ eventSource: 'aws:sqs' }] }))?.message, /this event has Records from "aws:sqs"/)
  t.equal(await state('order'), undefined, 'nothing ran')
  t.same(await handler(event, context()), { batchItemFailures: [] }, 'the batch as the mapping sends it')
  t.equal(await state('order'), 7, 'applies each message once')
})
