// A deployed stack's metrics read back from CloudWatch: EMF lines as the Lambda host writes them,
// given to the local CloudWatch (which answers in the wire protocol of the real client), read
// through CloudWatchMetrics with a real CloudWatch client.
import { CloudWatch, type MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import t, { type Test } from 'tap'
import { startLocalCloudWatch, type LocalCloudWatch } from '../../lib/local/local-cloudwatch.js'
import { costOf, graphOf } from '../../lib/inspect/metrics-view.js'
import type { TypeCounts } from '../../lib/metrics/actor-metrics.js'
import { CloudWatchMetrics } from '../../lib/metrics/cloudwatch-metrics.js'
import { emfLines, type ApiCounts } from '../../lib/metrics/emf.js'

const MINUTE = 60_000
/** Half a minute into a minute, so that where the data points fall is known (below). */
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000
/** The start of the last whole minute before NOW: the minute edge rates are read over. */
const LAST_MINUTE = Math.floor(NOW / MINUTE) * MINUTE - MINUTE

const counts = (c: Partial<TypeCounts>): TypeCounts => ({ processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0, ...c })
const api = (requests: number, errors: number, requestBytes: number, responseBytes: number) => ({ requests, errors, requestBytes, responseBytes })

function clientOf(cw: LocalCloudWatch): CloudWatch {
  return new CloudWatch({ endpoint: cw.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 })
}

async function started(t: Test, options?: Parameters<typeof startLocalCloudWatch>[0]): Promise<{ cw: LocalCloudWatch; client: CloudWatch }> {
  const cw = await startLocalCloudWatch(options)
  const client = clientOf(cw)
  t.teardown(async () => {
    client.destroy()
    await cw.stop()
  })
  return { cw, client }
}

t.test('totals per type, per edge and per API over the last 24 hours, for one Service only', async (t) => {
  const { cw, client } = await started(t)
  const feed = (service: string, at: number, types: Record<string, Partial<TypeCounts>>, traffic: [string, string, number][], byApi: ApiCounts['byApi'] = {}) => {
    const take = { types: new Map(Object.entries(types).map(([k, v]) => [k, counts(v)])), traffic: traffic.map(([from, to, sent]) => ({ from, to, sent })) }
    for (const line of emfLines(service, at, take, { byApi })) t.ok(cw.ingest(line), 'an EMF line')
  }
  // Three invocations of the shop's hosts within the window, one the day before.
  feed('shop', NOW - 3 * 60 * MINUTE, { 'shop.order': { processed: 3, filtered: 1, retried: 1 }, 'shop.email': { processed: 2 } }, [['(outside)', 'shop.order', 3], ['shop.order', 'shop.email', 2]], {
    'DynamoDB.UpdateItem': api(5, 1, 500, 200),
    'Kinesis.PutRecords': api(2, 0, 300, 40),
  })
  feed('shop', LAST_MINUTE + 30_000, { 'shop.order': { processed: 2, dead: 1 }, 'shop.email': { throttled: 2 } }, [['shop.order', 'shop.email', 6]], { 'DynamoDB.UpdateItem': api(3, 0, 250, 90) })
  feed('shop', NOW - 10 * MINUTE, { 'shop.email': { processed: 4, retried: 2 } }, [['shop.order', 'shop.email', 4]])
  // In the current minute: past the first day-long period, which starts at the whole minute
  // before NOW - 24 h, so the window's sums come in two periods.
  feed('shop', NOW - 10_000, { 'shop.order': { processed: 1 } }, [['(outside)', 'shop.order', 1]])
  feed('shop', NOW - 25 * 60 * MINUTE, { 'shop.order': { processed: 100 } }, [['(outside)', 'shop.order', 100]], { 'DynamoDB.UpdateItem': api(100, 0, 1, 1) })
  // Another stack writing to the same namespace: not counted.
  feed('other', NOW - 5 * MINUTE, { 'shop.order': { processed: 50, dead: 5 } }, [['shop.order', 'shop.email', 7]], { 'DynamoDB.UpdateItem': api(9, 9, 9, 9) })
  t.equal(cw.ingest('a log line'), false, 'a log line is no EMF line')

  const metrics = new CloudWatchMetrics({ cloudwatch: client, service: 'shop', now: () => NOW })
  t.equal(metrics.label, 'CloudWatch troupe/shop, last 24 h')
  t.same(
    Object.fromEntries(await metrics.actors()),
    {
      'shop.order': counts({ processed: 6, filtered: 1, retried: 1, dead: 1 }),
      'shop.email': counts({ processed: 6, retried: 2, throttled: 2 }),
    },
    'counts per type',
  )
  t.strictSame(
    await metrics.traffic(),
    [
      { from: '(outside)', to: 'shop.order', sent: 4, perSecond: 0 },
      { from: 'shop.order', to: 'shop.email', sent: 12, perSecond: 0.1 },
    ],
    'messages per edge, with the rate of the last whole minute (6 in 60 s)',
  )
  t.strictSame(await metrics.requests(), { byApi: { 'DynamoDB.UpdateItem': api(8, 1, 750, 290), 'Kinesis.PutRecords': api(2, 0, 300, 40) } }, 'requests per API')
  t.same(await costOf(metrics), { messages: 13, requests: 10, requestsPerMessage: 0.77, byApi: { 'DynamoDB.UpdateItem': api(8, 1, 750, 290), 'Kinesis.PutRecords': api(2, 0, 300, 40) }, compute: 'lambda' }, 'cost, counted by Lambda hosts')
  t.same((await graphOf(metrics)).nodes, [{ type: 'shop.order', count: 4 }, { type: 'shop.email', count: 12 }], 'graph')
  t.same(cw.stats(), { ListMetrics: 1, GetMetricData: 2 }, 'one reading serves every call that follows it: a list, the sums and the rates')

  const lastHour = new CloudWatchMetrics({ cloudwatch: client, service: 'shop', now: () => NOW, windowMs: 60 * MINUTE })
  t.equal(lastHour.label, 'CloudWatch troupe/shop, last 1 h')
  t.same((await lastHour.actors()).get('shop.email'), counts({ processed: 4, retried: 2, throttled: 2 }), 'a shorter window sums less')
  t.same(Object.fromEntries(await new CloudWatchMetrics({ cloudwatch: client, service: 'nobody', now: () => NOW }).actors()), {}, 'a Service with no metrics has no counts')
})

t.test('more than 500 metrics: GetMetricData in batches of 500, both operations paginated', async (t) => {
  const { cw, client } = await started(t, { listPageSize: 200, maxDatapoints: 150 })
  // 120 types × 5 metrics = 600 metrics, two data points each.
  const types = Array.from({ length: 120 }, (_, i) => `t${String(i).padStart(3, '0')}`)
  for (const at of [NOW - 60 * MINUTE, NOW - 2 * MINUTE]) {
    const take = { types: new Map(types.map((type, i) => [type, counts({ processed: i + 1, dead: i % 3 })])), traffic: [] }
    for (const line of emfLines('big', at, take)) cw.ingest(line)
  }
  const metrics = new CloudWatchMetrics({ cloudwatch: client, service: 'big', now: () => NOW })
  const read = await metrics.actors()
  t.equal(read.size, 120, 'every type')
  t.ok(
    types.every((type, i) => {
      const c = read.get(type)
      return c?.processed === 2 * (i + 1) && c.dead === 2 * (i % 3) && c.filtered === 0 && c.retried === 0 && c.throttled === 0
    }),
    'each type its exact sums',
  )
  t.equal([...read.values()].reduce((n, c) => n + c.processed, 0), 120 * 121, 'processed in all')
  // 3 pages of 200 metrics; one sum per metric: 500 in 4 pages of 150, then 100 in 1.
  t.same(cw.stats(), { ListMetrics: 3, GetMetricData: 5 }, 'the calls it took')
})

t.test('what CloudWatch refuses, the local CloudWatch refuses in its shape', async (t) => {
  const { cw, client } = await started(t)
  const query = (i: number, metric: Record<string, unknown> = { Namespace: 'troupe', MetricName: 'processed' }): MetricDataQuery => ({
    Id: `q${i}`,
    MetricStat: { Metric: metric, Period: 60, Stat: 'Sum' },
  })
  const window = { StartTime: new Date(NOW - 60 * MINUTE), EndTime: new Date(NOW) }
  const refused = async (what: string, run: () => Promise<unknown>, name: string, code: string, message: RegExp) => {
    const error = (await run().then(
      () => undefined,
      (e: unknown) => e,
    )) as { name: string; message: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined
    t.equal(error?.name, name, `${what}: ${name}`)
    t.equal(error?.Code, code, `${what}: awsQuery code ${code}`)
    t.equal(error?.$metadata?.httpStatusCode, 400, `${what}: 400`)
    t.match(error?.message, message, `${what}: says why`)
  }
  await refused(
    '501 queries',
    () => client.getMetricData({ ...window, MetricDataQueries: Array.from({ length: 501 }, (_, i) => query(i)) }),
    'InvalidParameterValueException',
    'InvalidParameterValue',
    /MetricDataQueries must not have a size greater than 500/,
  )
  t.ok(await client.getMetricData({ ...window, MetricDataQueries: Array.from({ length: 500 }, (_, i) => query(i)) }), '500 queries are taken')
  await refused('no namespace', () => client.getMetricData({ ...window, MetricDataQueries: [query(0, { MetricName: 'processed' })] }), 'MissingRequiredParameterException', 'MissingParameter', /MetricDataQueries\.member\.1\.MetricStat\.Metric\.Namespace is required/)
  await refused('a period of 90 s', () => client.getMetricData({ ...window, MetricDataQueries: [{ ...query(0), MetricStat: { ...query(0).MetricStat!, Period: 90 } }] }), 'InvalidParameterValueException', 'InvalidParameterValue', /Period/)
  await refused('an Id with a capital', () => client.getMetricData({ ...window, MetricDataQueries: [{ ...query(0), Id: 'Q0' }] }), 'InvalidParameterValueException', 'InvalidParameterValue', /Id is not valid/)
  await refused('the end before the start', () => client.getMetricData({ StartTime: window.EndTime, EndTime: window.StartTime, MetricDataQueries: [query(0)] }), 'InvalidParameterValueException', 'InvalidParameterValue', /StartTime must be less than/)
  await refused('a made-up NextToken', () => client.listMetrics({ Namespace: 'troupe', NextToken: 'not a token' }), 'InvalidNextToken', 'InvalidNextToken', /NextToken/)

  // Below the client: a body that is not JSON, an operation it does not know.
  const post = (target: string, body: string) => fetch(cw.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target }, body })
  const bad = await post('GraniteServiceVersion20100801.ListMetrics', '{"Namespace":')
  t.equal(bad.status, 400, 'malformed JSON: 400')
  t.equal(((await bad.json()) as { __type: string }).__type, 'com.amazonaws.cloudwatch#SerializationException', 'a SerializationException')
  const unknown = await post('GraniteServiceVersion20100801.PutMetricAlarm', '{}')
  t.equal(unknown.status, 400, 'an operation not emulated: 400')
  t.equal(unknown.headers.get('x-amzn-query-error'), 'UnknownOperation;Sender', 'with the awsQuery code')

  // CloudWatchMetrics says which call failed, for what.
  await cw.stop()
  await t.rejects(new CloudWatchMetrics({ cloudwatch: client, service: 'shop' }).actors(), /^CloudWatch ListMetrics for troupe\/shop failed: /, 'a CloudWatch that does not answer')
})
