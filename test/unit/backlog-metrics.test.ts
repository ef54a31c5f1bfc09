// The backlog gauges a host writes per actor type (lib/metrics/backlog.ts): the iterator age of a
// batch, the EMF document that carries them beside the counts, what a host's gauges give at each
// take (lib/aws/backlog-gauges.ts), troupe dev's reading of them (lib/metrics/gauge-window.ts), and
// the rows of `troupe inspect actors` and the web view that show them (lib/inspect/metrics-view.ts).
import t from 'tap'
import { BacklogGauges, PARKED_WAKE_GRACE_MS } from '../../lib/aws/backlog-gauges.js'
import type { ActorRow } from '../../lib/inspect/inspector.js'
import { withCounts } from '../../lib/inspect/metrics-view.js'
import { LocalMetrics } from '../../lib/local/local-metrics.js'
import type { TypeCounts } from '../../lib/metrics/actor-metrics.js'
import { arrivalMs, iteratorAgeMs, oldestArrivals, type TypeBacklog } from '../../lib/metrics/backlog.js'
import { emfLines, readEmf } from '../../lib/metrics/emf.js'
import { GAUGE_WINDOW_MS, GaugeWindow, withGauges } from '../../lib/metrics/gauge-window.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'

const counts = (c: Partial<TypeCounts> = {}): TypeCounts => ({ processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0, ...c })
const AT = 1_700_000_000_000

t.test('the iterator age of a batch: now less the oldest arrival, from the records of a Lambda event', async (t) => {
  t.equal(arrivalMs(1_700_000_000.123), 1_700_000_000_123, 'epoch seconds with a millisecond fraction, to ms')
  t.equal(arrivalMs(undefined), undefined)
  t.equal(arrivalMs('1700000000'), undefined, 'a string is no arrival')
  t.equal(arrivalMs(Number.NaN), undefined)
  t.equal(iteratorAgeMs([AT - 500, AT - 2_000, undefined, AT - 10], AT), 2_000, 'the oldest record sets it')
  t.equal(iteratorAgeMs([undefined], AT), undefined, 'no record says when it arrived')
  t.equal(iteratorAgeMs([], AT), undefined)
  t.equal(iteratorAgeMs([AT + 40], AT), 0, 'a record from a clock a little ahead is not negative')
  t.same(
    Object.fromEntries(oldestArrivals([
      { type: 'a', arrivedAt: AT - 5 },
      { type: 'b', arrivedAt: undefined },
      { type: 'a', arrivedAt: AT - 9 },
      { type: 'c', arrivedAt: AT },
    ])),
    { a: AT - 9, c: AT },
    'per type, its oldest record; a type whose records say nothing has none',
  )
})

t.test('EMF: the gauges ride on their type’s line with their units; a type with gauges alone gets a line of them', async (t) => {
  const take = { types: new Map([['visit', counts({ processed: 3, throttled: 2 })]]), traffic: [] }
  const backlog = new Map<string, TypeBacklog>([
    ['visit', { parked: 2, oldestParkedAgeMs: 1_500, iteratorAgeMs: 40 }],
    ['capped', { running: 3 }],
    ['empty', {}],
  ])
  const lines = emfLines('app', AT, take, undefined, backlog)
  t.equal(lines.length, 2, 'visit, and capped (which counted nothing); nothing for a type with neither')
  const visit = JSON.parse(lines[0]!) as Record<string, any>
  t.same(visit._aws.CloudWatchMetrics[0].Metrics, [
    ...['processed', 'filtered', 'retried', 'throttled', 'dead'].map((Name) => ({ Name, Unit: 'Count' })),
    { Name: 'Parked', Unit: 'Count' },
    { Name: 'OldestParkedAgeMs', Unit: 'Milliseconds' },
    { Name: 'IteratorAgeMs', Unit: 'Milliseconds' },
  ], 'a gauge the host does not know (Running) is left out, not written as 0')
  t.same([visit.Actor, visit.Parked, visit.OldestParkedAgeMs, visit.IteratorAgeMs, visit.Running], ['visit', 2, 1_500, 40, undefined])
  const capped = JSON.parse(lines[1]!) as Record<string, any>
  t.same(capped._aws.CloudWatchMetrics[0], { Namespace: 'troupe', Dimensions: [['Service', 'Actor']], Metrics: [{ Name: 'Running', Unit: 'Count' }] })
  t.same(readEmf(lines[1]!)!.map((p) => [p.dimensions, p.name, p.value]), [[{ Service: 'app', Actor: 'capped' }, 'Running', 3]], 'read back as CloudWatch would')
  t.same(emfLines('app', AT, take), emfLines('app', AT, take, undefined, new Map()), 'no backlog: the lines as before')

  // troupe dev's collector of counts takes the same lines and sums only the counts.
  const local = new LocalMetrics()
  for (const line of lines) local.ingest(line)
  t.same(Object.fromEntries(await local.actors()), { visit: counts({ processed: 3, throttled: 2 }), capped: counts() }, 'the gauges are not counted as counts')
})

t.test('a host’s gauges: what it parked (until a grace past the wake-up), the most slots and the oldest record seen since the last take', async (t) => {
  const clock = new SimulatedClock(AT)
  let parked = new Map<string, { count: number; oldestSentAt: number; wakeAt: number }>()
  let askedBefore: number | undefined
  const gauges = new BacklogGauges(clock, (wokenBefore) => {
    askedBefore = wokenBefore
    return new Map([...parked].filter(([, p]) => p.wakeAt >= wokenBefore))
  })
  t.same(gauges.take(), new Map(), 'nothing seen, nothing said')

  parked = new Map([['slow', { count: 8, oldestSentAt: AT - 300, wakeAt: AT + 10_000 }]])
  gauges.arrivals(new Map([['slow', AT - 120], ['fast', AT - 5]]))
  await clock.advance(100)
  gauges.arrivals(new Map([['slow', AT - 10]]))
  gauges.slotsSeen('capped', 3)
  gauges.slotsSeen('capped', 1)
  t.same(Object.fromEntries(gauges.take()), {
    slow: { parked: 8, oldestParkedAgeMs: 400, iteratorAgeMs: 120 },
    fast: { iteratorAgeMs: 5 },
    capped: { running: 3 },
  }, 'the oldest record and the most slots seen, each when it was seen; the parked as of now')
  t.equal(askedBefore, AT + 100 - PARKED_WAKE_GRACE_MS, 'keys whose wake-up was due more than the grace ago are left out')
  t.same(Object.fromEntries(gauges.take()), { slow: { parked: 8, oldestParkedAgeMs: 400 } }, 'ages and slots start again; the parked stay')

  // The wake-up ran elsewhere: once its grace is past, this host counts them no more, and says so once.
  await clock.advance(10_000 + PARKED_WAKE_GRACE_MS)
  t.same(Object.fromEntries(gauges.take()), { slow: { parked: 0, oldestParkedAgeMs: 0 } }, 'a backlog that ran out says 0 once')
  t.same(Object.fromEntries(gauges.take()), {}, 'then nothing')
})

t.test('troupe dev reads the gauges as CloudWatch would: the most any function reported in the last minute', async (t) => {
  let now = AT
  const window = new GaugeWindow(() => now)
  const line = (at: number, backlog: Record<string, TypeBacklog>, service = 'app') => emfLines(service, at, { types: new Map(), traffic: [] }, undefined, new Map(Object.entries(backlog)))
  for (const l of line(AT - GAUGE_WINDOW_MS - 1, { slow: { parked: 50, iteratorAgeMs: 9_000 } })) window.ingest(l)
  for (const l of line(AT - 30_000, { slow: { parked: 8, oldestParkedAgeMs: 1_000 } })) window.ingest(l)
  for (const l of line(AT - 1_000, { slow: { parked: 6, oldestParkedAgeMs: 31_000, iteratorAgeMs: 20 }, capped: { running: 2 } })) window.ingest(l)
  window.ingest('{"_aws": {"CloudWatchMetrics": [{"Namespace": "other", "Dimensions": [["Actor"]], "Metrics": [{"Name": "Parked"}]}]}, "Actor": "slow", "Parked": 99}')
  window.ingest(emfLines('app', AT, { types: new Map([['slow', counts({ processed: 7 })]]), traffic: [] })[0]!)
  window.ingest('a log line')
  t.same(Object.fromEntries(window.backlog()), { slow: { parked: 8, oldestParkedAgeMs: 31_000, iteratorAgeMs: 20 }, capped: { running: 2 } }, 'the last minute’s most; another namespace, counts and log lines are not gauges')
  now = AT + GAUGE_WINDOW_MS
  t.same(Object.fromEntries(window.backlog()), {}, 'a minute later, nothing is known')

  const source = withGauges(new LocalMetrics(), window)
  t.equal(source.label, 'metrics the functions wrote (EMF lines)', 'the counts’ source, with the gauges beside')
  t.same(await source.backlog!(), new Map())
})

t.test('inspect actors: a type’s iterator age from the metrics; what is parked and running stays the table’s', async (t) => {
  const rows: ActorRow[] = [{ type: 'slow', instances: 1, dead: 0, paused: false, pausedKeys: [], parked: 8, oldestParkedAt: AT - 400, running: 0 }]
  const metrics = {
    label: 'test',
    actors: async () => new Map([['slow', counts({ processed: 2 })], ['other', counts({ processed: 1 })]]),
    traffic: async () => [],
    requests: async () => ({ byApi: {} }),
    backlog: async () => new Map<string, TypeBacklog>([['slow', { parked: 3, oldestParkedAgeMs: 5, running: 7, iteratorAgeMs: 1_200 }], ['other', { iteratorAgeMs: 15 }]]),
  }
  const out = await withCounts(rows, metrics)
  t.match(out.find((r) => r.type === 'slow'), { processed: 2, parked: 8, oldestParkedAt: AT - 400, running: 0, iteratorAgeMs: 1_200 })
  t.match(out.find((r) => r.type === 'other'), { processed: 1, iteratorAgeMs: 15 })
  const { backlog: _none, ...countsOnly } = metrics
  t.equal((await withCounts(rows, countsOnly)).find((r) => r.type === 'slow')!.iteratorAgeMs, undefined, 'a source without gauges gives none')
})
