// OpenTelemetry traces through the AWS mode's Lambda path, with an SDK registered: an API
// request's span → AwsSystem.tell → Kinesis records → the Lambda handler (invoked in this process
// with the stream's batches) → the fork, its children and the join, one trace; an ask by direct
// Invoke; and the X-Ray header of an invocation for a message that carries no trace context.
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLambdaHandler } from '../../lib/lambda/handler.js'
import { xrayTrace } from '../../lib/lambda/xray-trace.js'
import { DynamoDBTimerStore } from '../../lib/store/dynamodb.js'
import { localStackFor } from '../fixtures/local-stack.js'
import { readEvent } from './fixtures/read-event.js'
import { inRequest, nameCounts, Order, orderActors, parentOf, Price, registerSdk, spanId, Summary, traceOf } from '../fixtures/otel.js'

const exporter = registerSdk()
const { aws } = await localStackFor(t)
const name = `otel-${process.pid}`
await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
const context = () => ({ getRemainingTimeInMillis: () => 60_000, functionName: 'troupe-host', awsRequestId: 'r' })
const handler = createLambdaHandler({ actors: orderActors, ...aws, tableName: name, stream: name, logLevel: 'error', safetyMarginMs: 1_000 })
// The API's system: it sends and asks; the handler runs the turns. Its asks invoke the handler here.
const api = new AwsSystem({
  actors: orderActors,
  ...aws,
  tableName: name,
  stream: name,
  consume: false,
  timers: false,
  logLevel: 'error',
  lingerMs: 0,
  invoke: { functionName: 'troupe-host', invoke: async (payload) => ({ payload: JSON.stringify(await handler(JSON.parse(payload), context())) }) },
})
t.teardown(() => api.stop())

let after: string | undefined
/** Feeds the handler the stream's new records, batch after batch, until none come. */
async function pump(): Promise<void> {
  for (;;) {
    const event = await readEvent(aws.kinesis, name, after)
    if (event.Records.length === 0) return
    after = event.Records.at(-1)!.kinesis.sequenceNumber
    t.same(await handler(event, context()), { batchItemFailures: [] })
  }
}

t.beforeEach(() => exporter.reset())

t.test('an API request, a tell, a fork, its children and the join are one trace across Kinesis and Lambda', async (t) => {
  const id = await inRequest('POST /orders', () => api.tell(Order, { id: 'o1' }))
  await pump()
  t.equal((await api.state(Summary))?.complete, 1)

  const spans = exporter.getFinishedSpans()
  t.same(nameCounts(spans), { 'POST /orders': 1, 'troupe tr.enrich': 1, 'troupe tr.order': 1, 'troupe tr.price': 1, 'troupe tr.summary': 1, 'troupe troupe.joiner': 3 })
  t.equal(new Set(spans.map(traceOf)).size, 1, 'one trace')
  const one = (n: string) => spans.find((s) => s.name === n)!
  const [request, order, enrich, price, summary] = ['POST /orders', 'troupe tr.order', 'troupe tr.enrich', 'troupe tr.price', 'troupe tr.summary'].map(one) as [typeof spans[0], typeof spans[0], typeof spans[0], typeof spans[0], typeof spans[0]]
  const joiners = spans.filter((s) => s.name === 'troupe troupe.joiner')
  t.equal(parentOf(order), spanId(request), "the turn is the child of the request's span, through the record")
  t.equal(parentOf(enrich), spanId(order))
  t.equal(parentOf(price), spanId(order))
  t.same(joiners.map(parentOf).sort(), [spanId(order), spanId(enrich), spanId(price)].sort(), "the joiner's open under the fork, each report under its child")
  const last = joiners.find((s) => spanId(s) === parentOf(summary))
  t.ok(last && parentOf(last) !== spanId(order), "the join is the child of the joiner's turn on the last report")
  t.equal(order.attributes['messaging.message.id'], id)
  t.equal(order.attributes['troupe.key'], 'o1')
  t.equal(order.attributes['troupe.outcome'], 'done')
})

t.test('an ask by direct Invoke carries the asking span', async (t) => {
  await inRequest('GET /price', async () => t.equal(await api.ask(Price, { id: 'p' }), 42))
  await pump()
  const spans = exporter.getFinishedSpans()
  t.same(nameCounts(spans), { 'GET /price': 1, 'troupe tr.price': 1 })
  const [request, turn] = [spans.find((s) => s.name === 'GET /price')!, spans.find((s) => s.name === 'troupe tr.price')!]
  t.equal(parentOf(turn), spanId(request))
  t.equal(traceOf(turn), traceOf(request))
})

t.test("a message from outside with no trace context runs under the invocation's X-Ray trace", async (t) => {
  const direct = (id: string) =>
    api.host.handleDirect(makeEnvelope({ id: id as MessageId, type: Price.type, key: '', body: { id }, correlationId: id as CorrelationId, sentAt: Date.now() }))
  api.host.outsideTrace = xrayTrace('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')
  t.equal((await direct('xray-1'))?.status, 'done')
  api.host.outsideTrace = xrayTrace('Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad9;Sampled=0')
  t.equal((await direct('xray-2'))?.status, 'done')
  api.host.outsideTrace = undefined
  await pump()
  const spans = exporter.getFinishedSpans()
  t.same(nameCounts(spans), { 'troupe tr.price': 1 }, 'an unsampled X-Ray parent makes the SDK sample the turn out')
  t.equal(traceOf(spans[0]!), '5759e988bd862e3fe1be46a994272793')
  t.equal(parentOf(spans[0]!), '53995c3f42cd8ad8')
  t.equal(spans[0]!.attributes['messaging.message.id'], 'xray-1')
})

t.test('a timer keeps the trace context of the span that set it', async (t) => {
  const timers = new DynamoDBTimerStore({ client: aws.dynamodb, tableName: name })
  const timer = { id: 'traced', target: Price.type, body: '{"json":{"id":"t"}}', dueAt: Date.now() + 60_000, correlationId: 'c', fired: 0 }
  const parent = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01'
  for (const trace of [undefined, { parent }, { parent, state: 'rojo=00f067aa0ba902b7' }]) {
    await timers.put(trace === undefined ? timer : { ...timer, trace })
    t.strictSame((await timers.get('traced'))?.trace, trace)
  }
  await timers.delete('traced')
})
