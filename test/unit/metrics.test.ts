// The hosts' metrics: what ActorMetrics counts from a host's events, the EMF lines they become,
// and what reading those lines back gives (troupe dev's collector reads them as CloudWatch would).
import t from 'tap'
import type { Envelope } from '../../lib/core/envelope.js'
import type { TroupeEvent } from '../../lib/core/inspection.js'
import { LocalMetrics } from '../../lib/local/local-metrics.js'
import { ActorMetrics, OUTSIDE } from '../../lib/metrics/actor-metrics.js'
import { emfLines, readEmf, requestsSince } from '../../lib/metrics/emf.js'

const envelope = (id: string, type: string, causationId?: string): Envelope =>
  ({ id, type, key: '', body: {}, correlationId: 'c', parentId: causationId, causationId, attempt: 1, sentAt: 0, replyTo: undefined, deadline: undefined }) as unknown as Envelope

t.test('counts per type and traffic from the events of a host, sender named where its turn ran', async (t) => {
  const m = new ActorMetrics()
  const at = 1
  const events: TroupeEvent[] = [
    // An outside message to visit, done; its turn told two tallies (accepted after its end, as the durable host says it).
    { type: '@troupe.done', at, envelope: envelope('v1', 'visit'), durationMs: 1 },
    { type: '@troupe.accepted', at, envelope: envelope('t1', 'tally', 'v1') },
    { type: '@troupe.accepted', at, envelope: envelope('t2', 'tally', 'v1') },
    // The embedded host says delivered first, then the sends, then done.
    { type: '@troupe.delivered', at, envelope: envelope('v2', 'visit') },
    { type: '@troupe.accepted', at, envelope: envelope('t3', 'tally', 'v2') },
    { type: '@troupe.done', at, envelope: envelope('v2', 'visit'), durationMs: 1 },
    { type: '@troupe.retried', at, envelope: envelope('t1', 'tally', 'v1'), error: new Error('x'), delayMs: 5 },
    { type: '@troupe.done', at, envelope: envelope('t1', 'tally', 'v1'), durationMs: 1 },
    { type: '@troupe.filtered', at, envelope: envelope('t2', 'tally', 'v1'), reason: 'no' },
    { type: '@troupe.dead', at, envelope: envelope('o1', 'tally'), error: new Error('x') },
    { type: '@troupe.throttled', at, actor: 'tally', key: '', waitMs: 3, scope: 'type' },
    // Told by a turn that ran elsewhere: not counted here (its host counted it).
    { type: '@troupe.accepted', at, envelope: envelope('t9', 'tally', 'elsewhere') },
    // An outside message counts as traffic where it ends, not where it is accepted.
    { type: '@troupe.accepted', at, envelope: envelope('v3', 'visit') },
  ]
  for (const e of events) m.listener(e)
  const take = m.take()
  t.same(Object.fromEntries(take.types), {
    visit: { processed: 2, filtered: 0, retried: 0, throttled: 0, dead: 0 },
    tally: { processed: 2, filtered: 1, retried: 1, throttled: 1, dead: 1 },
  })
  t.same(
    take.traffic.sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)),
    [
      { from: OUTSIDE, to: 'tally', sent: 1 },
      { from: OUTSIDE, to: 'visit', sent: 2 },
      { from: 'visit', to: 'tally', sent: 3 },
    ],
  )
  t.same(m.take(), { types: new Map(), traffic: [] }, 'a take starts the counts again')
})

t.test('EMF lines: one per type, edge and API; read back to the same numbers', async (t) => {
  const m = new ActorMetrics()
  m.listener({ type: '@troupe.done', at: 1, envelope: envelope('v1', 'visit'), durationMs: 1 })
  m.listener({ type: '@troupe.accepted', at: 1, envelope: envelope('t1', 'tally', 'v1') })
  const requests = { byApi: { 'DynamoDB.GetItem': { requests: 3, errors: 1, requestBytes: 30, responseBytes: 300 }, 'Kinesis.PutRecords': { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0 } } }
  const lines = emfLines('app-table', 1_700_000_000_000, m.take(), requests)
  t.equal(lines.length, 4, 'visit; outside → visit; visit → tally; one API (none for an API not called)')
  const first = JSON.parse(lines[0]!) as Record<string, any>
  t.same(first._aws, {
    Timestamp: 1_700_000_000_000,
    CloudWatchMetrics: [{ Namespace: 'troupe', Dimensions: [['Service', 'Actor']], Metrics: ['processed', 'filtered', 'retried', 'throttled', 'dead'].map((Name) => ({ Name, Unit: 'Count' })) }],
  })
  t.same([first.Service, first.Actor, first.processed], ['app-table', 'visit', 1])

  const local = new LocalMetrics(undefined, () => 1_700_000_000_000)
  for (const line of lines) t.equal(local.ingest(line), true, 'an EMF line is taken')
  t.equal(local.ingest('{"level":"info","msg":"a log line"}'), false, 'a log line is not')
  t.same(Object.fromEntries(await local.actors()), { visit: { processed: 1, filtered: 0, retried: 0, throttled: 0, dead: 0 } })
  t.same(
    (await local.traffic()).map(({ from, to, sent }) => [from, to, sent]),
    [
      [OUTSIDE, 'visit', 1],
      ['visit', 'tally', 1],
    ],
  )
  t.same(await local.requests(), { byApi: { 'DynamoDB.GetItem': { requests: 3, errors: 1, requestBytes: 30, responseBytes: 300 } } })
})

t.test('hostile and malformed EMF lines give no points and never throw', async (t) => {
  const bad = [
    '{"_aws": ',
    '{"_aws": 5}',
    '{"_aws": {"CloudWatchMetrics": "no"}}',
    '{"_aws": {"CloudWatchMetrics": [{"Namespace": "troupe", "Dimensions": [["Actor"]], "Metrics": [{"Name": "processed"}]}]}, "processed": 1}',
    '{"_aws": {"CloudWatchMetrics": [{"Namespace": "troupe", "Dimensions": [["Actor"]], "Metrics": [{"Name": "processed"}]}]}, "Actor": "a", "processed": "1"}',
    '{"_aws": {"CloudWatchMetrics": [{"Namespace": "troupe", "Dimensions": [["Actor"]], "Metrics": [{"Name": "processed"}]}]}, "Actor": "a", "processed": 1e999}',
    '{"_aws": {"CloudWatchMetrics": [null, 3, {"Namespace": 1}]}}',
    '{"__proto__": {"x": 1}, "_aws": {"CloudWatchMetrics": [{"Namespace": "troupe", "Dimensions": [["__proto__"]], "Metrics": [{"Name": "processed"}]}]}, "processed": 1}',
  ]
  for (const line of bad) t.same(readEmf(line) ?? [], [], line)
  t.equal(readEmf('plain text'), undefined)
  const arrays = readEmf('{"_aws": {"Timestamp": 5, "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [["A"]], "Metrics": [{"Name": "m"}]}]}, "A": "x", "m": [1, 2, "3"]}')
  t.same(arrays?.map((p) => p.value), [1, 2], 'an array of values gives a point each; what is not a number gives none')
})

t.test('requests between two readings of a counter', async (t) => {
  const before = { byApi: { a: { requests: 1, errors: 0, requestBytes: 10, responseBytes: 20 } } }
  const now = { byApi: { a: { requests: 4, errors: 1, requestBytes: 40, responseBytes: 80 }, b: { requests: 2, errors: 0, requestBytes: 5, responseBytes: 6 } } }
  t.same(requestsSince(now, before), { byApi: { a: { requests: 3, errors: 1, requestBytes: 30, responseBytes: 60 }, b: { requests: 2, errors: 0, requestBytes: 5, responseBytes: 6 } } })
})
