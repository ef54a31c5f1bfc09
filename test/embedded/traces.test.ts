// OpenTelemetry traces in the embedded system, with an SDK registered: one trace from an API
// request's span through a tell, a fork, its children and the join; what turns schedule, asks and
// forks from outside; failed attempts; and no spans for what nobody traced.
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import t from 'tap'
import { Actor, createSystem, RetryableError, TerminalError, type Context } from '../../lib/index.js'
import { Enrich, inRequest, nameCounts, Order, orderActors, parentOf, Price, registerSdk, spanId, Summary, traceOf } from '../fixtures/otel.js'

const exporter = registerSdk()
t.beforeEach(() => exporter.reset())

t.test('an API request, a tell, a fork, its children and the join are one trace', async (t) => {
  const system = createSystem({ actors: orderActors, logLevel: 'error' })
  t.teardown(() => system.stop())
  const id = await inRequest('POST /orders', () => system.tell(Order, { id: 'o1' }))
  await system.idle()
  t.equal((await system.state(Summary))?.complete, 1)

  const spans = exporter.getFinishedSpans()
  t.same(nameCounts(spans), { 'POST /orders': 1, 'troupe tr.enrich': 1, 'troupe tr.order': 1, 'troupe tr.price': 1, 'troupe tr.summary': 1, 'troupe troupe.joiner': 3 })
  t.equal(new Set(spans.map(traceOf)).size, 1, 'one trace')
  const one = (name: string) => spans.find((s) => s.name === name)!
  const request = one('POST /orders')
  const order = one('troupe tr.order')
  const enrich = one('troupe tr.enrich')
  const price = one('troupe tr.price')
  const summary = one('troupe tr.summary')
  const joiners = spans.filter((s) => s.name === 'troupe troupe.joiner')
  t.equal(parentOf(order), spanId(request), 'the turn is the child of the span that told it')
  t.equal(parentOf(enrich), spanId(order), 'fork children are children of the forking turn')
  t.equal(parentOf(price), spanId(order))
  t.same(joiners.map(parentOf).sort(), [spanId(order), spanId(enrich), spanId(price)].sort(), "the joiner's open under the fork, each report under its child")
  const last = joiners.find((s) => s.spanContext().spanId === parentOf(summary))
  t.ok(last && parentOf(last) !== spanId(order), "the join is the child of the joiner's turn on the last report")

  t.equal(order.kind, SpanKind.CONSUMER)
  t.same(order.attributes, {
    'messaging.system': 'troupe',
    'messaging.operation.type': 'process',
    'messaging.destination.name': 'tr.order',
    'messaging.message.id': id,
    'messaging.message.conversation_id': id,
    'troupe.attempt': 1,
    'troupe.key': 'o1',
    'troupe.outcome': 'done',
  })
  t.equal(enrich.attributes['messaging.message.conversation_id'], id, 'the correlation id carries over')
  t.equal(enrich.attributes['troupe.key'], undefined, 'an unkeyed actor has no key attribute')
})

t.test('what nobody traced makes no span', async (t) => {
  const system = createSystem({ actors: orderActors, logLevel: 'error' })
  t.teardown(() => system.stop())
  await system.tell(Order, { id: 'o1' })
  await system.idle()
  t.equal((await system.state(Summary))?.complete, 1)
  t.same(exporter.getFinishedSpans(), [])
})

t.test("a turn runs under its own span, or none: never the span of whoever woke the worker", async (t) => {
  const seen: (string | undefined)[] = []
  class Probe extends Actor<{ n: number }> {
    static readonly type = 'tr.probe'
    receive() {
      seen.push(trace.getActiveSpan()?.spanContext().spanId)
    }
  }
  const system = createSystem({ actors: [Probe], logLevel: 'error' })
  t.teardown(() => system.stop())
  await inRequest('POST /probe', () => {
    const traced = system.tell(Probe, { n: 1 })
    // Untraced, queued behind the first before the worker its tell woke starts.
    return Promise.all([traced, context.with(ROOT_CONTEXT, () => system.tell(Probe, { n: 2 }))])
  })
  await system.idle()
  const turn = exporter.getFinishedSpans().find((s) => s.name === 'troupe tr.probe')!
  t.same(seen, [spanId(turn), undefined])
})

t.test('ask and system.fork from a request, and a schedule from a turn, carry their span', async (t) => {
  class Later extends Actor<{ n: number }> {
    static readonly type = 'tr.later'
    receive(m: { n: number }, ctx: Context) {
      if (m.n === 0) ctx.schedule(Later, { n: 1 }, { afterMs: 0 })
    }
  }
  const system = createSystem({ actors: [...orderActors, Later], logLevel: 'error' })
  t.teardown(() => system.stop())
  await inRequest('GET /price', async () => t.equal(await system.ask(Price, { id: 'p' }), 42))
  await inRequest('GET /both', async () => t.same((await system.fork([[Enrich, { id: 'e' }], [Price, { id: 'e' }]], { timeoutMs: 5_000 })).replies, [{ city: 'Lyon' }, 42]))
  await inRequest('POST /later', () => system.tell(Later, { n: 0 }))
  await system.idle()

  const spans = exporter.getFinishedSpans()
  const named = (name: string) => spans.filter((s) => s.name === name)
  const [getPrice, getBoth, postLater] = [named('GET /price')[0]!, named('GET /both')[0]!, named('POST /later')[0]!]
  const prices = named('troupe tr.price')
  t.equal(prices.length, 2)
  t.ok(prices.some((s) => parentOf(s) === spanId(getPrice)), 'the asked turn is the child of the request')
  t.ok(prices.some((s) => parentOf(s) === spanId(getBoth)), "a child of system.fork is the child of the request")
  t.equal(parentOf(named('troupe tr.enrich')[0]!), spanId(getBoth))
  t.ok(named('troupe troupe.forkResult').every((s) => traceOf(s) === traceOf(getBoth)), "system.fork's join stays in the request's trace")
  const later = named('troupe tr.later')
  t.equal(later.length, 2)
  const first = later.find((s) => parentOf(s) === spanId(postLater))!
  t.ok(first, 'the told turn is the child of the request')
  t.ok(later.some((s) => parentOf(s) === spanId(first)), 'the scheduled message runs under the turn that scheduled it')
})

t.test('each attempt is a span; a failure has error status, a dead letter says so', async (t) => {
  let tries = 0
  class Flaky extends Actor<{ fail: 'once' | 'always' }> {
    static readonly type = 'tr.flaky'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }
    receive(m: { fail: 'once' | 'always' }) {
      if (m.fail === 'always') throw new TerminalError('no way')
      if (tries++ === 0) throw new RetryableError('not yet')
    }
  }
  const system = createSystem({ actors: [Flaky], logLevel: 'error' })
  t.teardown(() => system.stop())
  await inRequest('once', () => system.tell(Flaky, { fail: 'once' }))
  await inRequest('always', () => system.tell(Flaky, { fail: 'always' }))
  await system.idle()

  const spans = exporter.getFinishedSpans()
  const turns = (request: string) => {
    const parent = spanId(spans.find((s) => s.name === request)!)
    return spans.filter((s) => parentOf(s) === parent).map((s) => [s.attributes['troupe.attempt'], s.attributes['troupe.outcome'], s.status.code, s.status.message])
  }
  t.same(turns('once'), [
    [1, 'retry', SpanStatusCode.ERROR, '[TROUPE_RETRYABLE] not yet'],
    [2, 'done', SpanStatusCode.UNSET, undefined],
  ])
  t.same(turns('always'), [[1, 'dead', SpanStatusCode.ERROR, '[TROUPE_TERMINAL] no way']])
  const dead = spans.find((s) => s.attributes['troupe.outcome'] === 'dead')!
  t.equal(dead.events[0]?.name, 'exception', 'the error is recorded on the span')
})
