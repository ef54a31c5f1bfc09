// The backlog gauges read back from CloudWatch: EMF lines as the Lambda hosts write them, given to
// the local CloudWatch (the real client's wire protocol), read through CloudWatchMetrics. A gauge
// is the Maximum of its latest minute with data in the last five, never a sum; the counts beside
// them are summed as before, without them.
import { CloudWatch } from '@aws-sdk/client-cloudwatch'
import t from 'tap'
import { withCounts } from '../../lib/inspect/metrics-view.js'
import { startLocalCloudWatch } from '../../lib/local/local-cloudwatch.js'
import type { TypeCounts } from '../../lib/metrics/actor-metrics.js'
import type { TypeBacklog } from '../../lib/metrics/backlog.js'
import { BACKLOG_LOOKBACK_MS, CloudWatchMetrics } from '../../lib/metrics/cloudwatch-metrics.js'
import { emfLines } from '../../lib/metrics/emf.js'

const MINUTE = 60_000
/** Half a minute into a minute, so which minute each point falls in is known. */
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000

const counts = (c: Partial<TypeCounts> = {}): TypeCounts => ({ processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0, ...c })

t.test('each type’s gauges: the most the hosts reported in the latest minute with data; counts summed without them', async (t) => {
  const cw = await startLocalCloudWatch()
  const client = new CloudWatch({ endpoint: cw.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 })
  t.teardown(async () => {
    client.destroy()
    await cw.stop()
  })
  const feed = (service: string, at: number, types: Record<string, Partial<TypeCounts>>, backlog: Record<string, TypeBacklog>) => {
    const take = { types: new Map(Object.entries(types).map(([k, v]) => [k, counts(v)])), traffic: [] }
    for (const line of emfLines(service, at, take, undefined, new Map(Object.entries(backlog)))) t.ok(cw.ingest(line))
  }
  // Three minutes ago: a larger backlog, since drained in part.
  feed('shop', NOW - 3 * MINUTE, { 'shop.fetch': { processed: 5, throttled: 40 } }, { 'shop.fetch': { parked: 40, oldestParkedAgeMs: 90_000, iteratorAgeMs: 3_000 } })
  // The current minute: two environments, each saying what it saw; the most counts.
  feed('shop', NOW - 20_000, { 'shop.fetch': { processed: 10 } }, { 'shop.fetch': { parked: 12, oldestParkedAgeMs: 30_000, iteratorAgeMs: 200 }, 'shop.capped': { running: 2 } })
  feed('shop', NOW - 5_000, {}, { 'shop.fetch': { parked: 7, oldestParkedAgeMs: 45_000 }, 'shop.capped': { running: 3, parked: 0, oldestParkedAgeMs: 0 } })
  // Older than the look-back: not the backlog now.
  feed('shop', NOW - BACKLOG_LOOKBACK_MS - MINUTE, {}, { 'shop.old': { parked: 99, iteratorAgeMs: 99 } })
  // Another stack in the same namespace.
  feed('other', NOW - 5_000, {}, { 'shop.fetch': { parked: 1_000 } })

  const metrics = new CloudWatchMetrics({ cloudwatch: client, service: 'shop', now: () => NOW })
  t.same(Object.fromEntries(await metrics.backlog()), {
    'shop.fetch': { parked: 12, oldestParkedAgeMs: 45_000, iteratorAgeMs: 200 },
    'shop.capped': { running: 3, parked: 0, oldestParkedAgeMs: 0 },
  }, 'the latest minute’s Maximum per gauge; older readings and other services left out')
  t.same(Object.fromEntries(await metrics.actors()), {
    'shop.fetch': counts({ processed: 15, throttled: 40 }),
  }, 'the counts are summed as ever; a gauge is no count')

  const rows = await withCounts([{ type: 'shop.fetch', instances: 3, dead: 0, paused: false, pausedKeys: [], parked: 4 }], metrics)
  t.match(rows.find((r) => r.type === 'shop.fetch'), { processed: 15, parked: 4, iteratorAgeMs: 200 }, 'inspect actors over the table: the iterator age from CloudWatch, the parked from the table')
})
