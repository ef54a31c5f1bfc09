// CloudWatch's ListMetrics and GetMetricData on loopback, over the data points of EMF lines, so
// that reading a deployed stack's metrics (lib/metrics/cloudwatch-metrics.ts) runs the real
// `@aws-sdk/client-cloudwatch` end to end in tests and `troupe dev`:
//
//   const cw = await startLocalCloudWatch()
//   cw.ingest(line) // an EMF line, as CloudWatch Logs takes it from a Lambda's output
//   new CloudWatch({ endpoint: cw.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })
//
// The wire protocol is the one the client uses: awsJson1_0 with awsQuery compatibility. A request
// is `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Operation>` and a JSON body
// (times in epoch seconds); an error is a 4xx with `{"__type": "com.amazonaws.cloudwatch#<Shape>",
// "message": …}` and `x-amzn-query-error: <awsQuery code>;Sender`, which the client turns into its
// exception class (InvalidParameterValueException, MissingRequiredParameterException, …).
//
// It refuses what CloudWatch refuses and troupe relies on: more than 500 queries a call, a query
// without its metric's namespace or name, a period that is not a multiple of 60, an unknown
// statistic, a bad or duplicate query Id, StartTime not before EndTime, a bad NextToken.
// Where it deviates from CloudWatch:
// - signatures are not checked, and there is one account and one region;
// - data points are kept as ingested, with no retention limit, no delay before they can be read,
//   and no aggregation to whole minutes (sums, counts, minimum and maximum come out the same);
// - ListMetrics lists every metric ever ingested, not only those of the last two weeks;
// - GetMetricData has no metric math (Expression) and no percentiles, and repeats every result on
//   every page (with the data points of that page); error messages say what CloudWatch's say, not
//   word for word;
// - the page sizes can be made smaller (options), to exercise pagination.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readEmf } from '../metrics/emf.js'
import { listenLoopback } from './listen-loopback.js'

export interface LocalCloudWatchOptions {
  /** @default 0 (a free port) */
  port?: number
  /** Metrics per ListMetrics page. @default 500, as CloudWatch */
  listPageSize?: number
  /** Data points per GetMetricData page when the request gives no MaxDatapoints. @default 100800, as CloudWatch */
  maxDatapoints?: number
}

export interface LocalCloudWatch {
  /** `http://127.0.0.1:<port>`: the `endpoint` of a CloudWatch client. */
  readonly endpoint: string
  /** Takes a line of a function's output: true if it was an EMF line (its data points are kept). */
  ingest(line: string): boolean
  /** Requests served so far, by operation (refused ones included). */
  stats(): Record<string, number>
  /** Stops listening and closes every connection. */
  stop(): Promise<void>
}

const TARGET_PREFIX = 'GraniteServiceVersion20100801.'
const MAX_QUERIES = 500
const MAX_DIMENSION_FILTERS = 10
const QUERY_ID = /^[a-z][a-zA-Z0-9_]{0,254}$/
const STATS = ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'] as const
/** A request body larger than this is refused (CloudWatch's own limit is of this order). */
const MAX_BODY_BYTES = 1024 * 1024

interface Dimension {
  Name: string
  Value: string
}
interface StoredMetric {
  Namespace: string
  MetricName: string
  Dimensions: Dimension[]
  points: { at: number; value: number }[]
}

/** A refusal in CloudWatch's shape: the JSON error type and the awsQuery code the client maps back. */
class Refusal extends Error {
  constructor(
    readonly type: string,
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}
const missing = (name: string) => new Refusal('MissingRequiredParameterException', 'MissingParameter', `The parameter ${name} is required.`)
const invalid = (message: string) => new Refusal('InvalidParameterValueException', 'InvalidParameterValue', message)

/** Starts the local CloudWatch on 127.0.0.1. */
export async function startLocalCloudWatch(options: LocalCloudWatchOptions = {}): Promise<LocalCloudWatch> {
  const metrics = new Map<string, StoredMetric>()
  const counts: Record<string, number> = {}
  const listPageSize = options.listPageSize ?? 500
  const defaultMaxDatapoints = options.maxDatapoints ?? 100_800

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Refusal) send(res, error.status, { __type: `com.amazonaws.cloudwatch#${error.type}`, message: error.message }, `${error.code};Sender`)
      else send(res, 500, { __type: 'com.amazonaws.cloudwatch#InternalServiceFault', Message: (error as Error).message }, 'InternalServiceError;Receiver')
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
    counts[operation] = (counts[operation] ?? 0) + 1
    if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
      throw new Refusal('UnknownOperationException', 'UnknownOperation', `no operation ${req.method} ${req.url} ${target}`)
    }
    if (body === undefined) throw new Refusal('RequestEntityTooLarge', 'RequestEntityTooLarge', `Request size exceeded ${MAX_BODY_BYTES} bytes`, 413)
    let input: unknown
    try {
      input = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'))
    } catch {
      throw new Refusal('SerializationException', 'SerializationException', 'the request body is not JSON')
    }
    if (!isRecord(input)) throw new Refusal('SerializationException', 'SerializationException', 'the request body is not a JSON object')
    if (operation === 'ListMetrics') return send(res, 200, listMetrics(input))
    if (operation === 'GetMetricData') return send(res, 200, getMetricData(input))
    throw new Refusal('UnknownOperationException', 'UnknownOperation', `operation ${operation} is not emulated here`)
  }

  function listMetrics(input: Record<string, unknown>): unknown {
    const filters = input.Dimensions === undefined ? [] : list(input.Dimensions, 'Dimensions')
    if (filters.length > MAX_DIMENSION_FILTERS) throw invalid(`The collection Dimensions must not have a size greater than ${MAX_DIMENSION_FILTERS}.`)
    const wanted = filters.map((f, i) => {
      if (!isRecord(f) || typeof f.Name !== 'string') throw missing(`Dimensions.member.${i + 1}.Name`)
      return { Name: f.Name, Value: typeof f.Value === 'string' ? f.Value : undefined }
    })
    const since = input.RecentlyActive === 'PT3H' ? Date.now() - 3 * 60 * 60_000 : -Infinity
    const found = [...metrics.values()].filter(
      (m) =>
        (input.Namespace === undefined || m.Namespace === input.Namespace) &&
        (input.MetricName === undefined || m.MetricName === input.MetricName) &&
        wanted.every((f) => m.Dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value))) &&
        m.points.some((p) => p.at >= since),
    )
    const from = offset(input.NextToken)
    const next = from + listPageSize
    return {
      Metrics: found.slice(from, next).map((m) => ({ Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions })),
      ...(next < found.length ? { NextToken: token(next) } : {}),
    }
  }

  function getMetricData(input: Record<string, unknown>): unknown {
    if (input.MetricDataQueries === undefined) throw missing('MetricDataQueries')
    const queries = list(input.MetricDataQueries, 'MetricDataQueries')
    if (queries.length === 0) throw missing('MetricDataQueries')
    if (queries.length > MAX_QUERIES) throw invalid(`The collection MetricDataQueries must not have a size greater than ${MAX_QUERIES}.`)
    if (input.StartTime === undefined) throw missing('StartTime')
    if (input.EndTime === undefined) throw missing('EndTime')
    const end = time(input.EndTime, 'EndTime')
    // CloudWatch rounds a start time of the last 15 days down to the whole minute.
    const start = Math.floor(time(input.StartTime, 'StartTime') / 60_000) * 60_000
    if (!(start < end)) throw invalid('The parameter StartTime must be less than the parameter EndTime.')
    const max = input.MaxDatapoints === undefined ? defaultMaxDatapoints : Number(input.MaxDatapoints)
    if (!Number.isInteger(max) || max < 1) throw invalid('The parameter MaxDatapoints must be a positive integer.')
    const ascending = input.ScanBy === 'TimestampAscending'
    if (input.ScanBy !== undefined && !ascending && input.ScanBy !== 'TimestampDescending') throw invalid(`The value ${String(input.ScanBy)} for parameter ScanBy is not valid.`)

    const ids = new Set<string>()
    const results = queries.map((q, i) => {
      const at = `MetricDataQueries.member.${i + 1}`
      if (!isRecord(q)) throw invalid(`The parameter ${at} is not a structure.`)
      if (typeof q.Id !== 'string') throw missing(`${at}.Id`)
      if (!QUERY_ID.test(q.Id)) throw invalid(`The value ${q.Id} for parameter ${at}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores.`)
      if (ids.has(q.Id)) throw invalid(`The value ${q.Id} for parameter ${at}.Id is not unique.`)
      ids.add(q.Id)
      if (q.Expression !== undefined) throw invalid(`${at}.Expression: metric math is not emulated by troupe's local CloudWatch.`)
      if (!isRecord(q.MetricStat)) throw new Refusal('InvalidParameterCombinationException', 'InvalidParameterCombination', `Exactly one of ${at}.MetricStat or ${at}.Expression must be given.`)
      const { Metric: metric, Period: period, Stat: stat } = q.MetricStat
      if (!isRecord(metric)) throw missing(`${at}.MetricStat.Metric`)
      if (typeof metric.Namespace !== 'string' || metric.Namespace === '') throw missing(`${at}.MetricStat.Metric.Namespace`)
      if (typeof metric.MetricName !== 'string' || metric.MetricName === '') throw missing(`${at}.MetricStat.Metric.MetricName`)
      if (period === undefined) throw missing(`${at}.MetricStat.Period`)
      if (typeof period !== 'number' || !Number.isInteger(period) || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(period))) {
        throw invalid(`The parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.`)
      }
      if (stat === undefined) throw missing(`${at}.MetricStat.Stat`)
      if (!STATS.includes(stat as (typeof STATS)[number])) throw invalid(`The value ${String(stat)} for parameter ${at}.MetricStat.Stat is not valid.`)
      const dimensions = (metric.Dimensions === undefined ? [] : list(metric.Dimensions, `${at}.MetricStat.Metric.Dimensions`)).map((d, j) => {
        if (!isRecord(d) || typeof d.Name !== 'string') throw missing(`${at}.MetricStat.Metric.Dimensions.member.${j + 1}.Name`)
        if (typeof d.Value !== 'string') throw missing(`${at}.MetricStat.Metric.Dimensions.member.${j + 1}.Value`)
        return { Name: d.Name, Value: d.Value }
      })
      const stored = metrics.get(keyOf(metric.Namespace, metric.MetricName, dimensions))
      const buckets = new Map<number, number[]>()
      for (const p of stored?.points ?? []) {
        if (p.at < start || p.at >= end) continue
        const bucket = start + Math.floor((p.at - start) / (period * 1000)) * period * 1000
        const values = buckets.get(bucket)
        if (values) values.push(p.value)
        else buckets.set(bucket, [p.value])
      }
      const points = [...buckets].sort(([a], [b]) => (ascending ? a - b : b - a)).map(([bucket, values]) => ({ at: bucket, value: statOf(stat as (typeof STATS)[number], values) }))
      return { Id: q.Id, Label: typeof q.Label === 'string' ? q.Label : metric.MetricName, points, returned: q.ReturnData !== false }
    })

    // A page holds `max` data points, taken in the queries' order.
    const from = offset(input.NextToken)
    const to = from + max
    let seen = 0
    const page = results
      .filter((r) => r.returned)
      .map((r) => {
        const first = seen
        seen += r.points.length
        const mine = r.points.slice(Math.max(0, from - first), Math.max(0, to - first))
        return {
          Id: r.Id,
          Label: r.Label,
          Timestamps: mine.map((p) => p.at / 1000),
          Values: mine.map((p) => p.value),
          StatusCode: seen > to ? 'PartialData' : 'Complete',
          Messages: [],
        }
      })
    return { MetricDataResults: page, Messages: [], ...(seen > to ? { NextToken: token(to) } : {}) }
  }

  const endpoint = await listenLoopback(server, options.port)
  let stopped: Promise<void> | undefined
  return {
    endpoint,
    ingest(line) {
      const points = readEmf(line)
      if (points === undefined) return false
      for (const p of points) {
        const dimensions = Object.entries(p.dimensions).map(([Name, Value]) => ({ Name, Value }))
        const key = keyOf(p.namespace, p.name, dimensions)
        let metric = metrics.get(key)
        if (!metric) metrics.set(key, (metric = { Namespace: p.namespace, MetricName: p.name, Dimensions: dimensions, points: [] }))
        metric.points.push({ at: p.at, value: p.value })
      }
      return true
    },
    stats: () => ({ ...counts }),
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })),
  }
}

/** A metric is its namespace, name and set of dimensions: the order of the dimensions does not matter. */
function keyOf(namespace: string, name: string, dimensions: readonly Dimension[]): string {
  const dims = dimensions.map((d) => `${d.Name}=${d.Value}`).sort()
  return JSON.stringify([namespace, name, ...dims])
}

function statOf(stat: (typeof STATS)[number], values: number[]): number {
  const sum = values.reduce((a, b) => a + b, 0)
  switch (stat) {
    case 'Sum':
      return sum
    case 'SampleCount':
      return values.length
    case 'Average':
      return sum / values.length
    case 'Minimum':
      return Math.min(...values)
    case 'Maximum':
      return Math.max(...values)
  }
}

/** A time on the wire: epoch seconds (the client's format), or an ISO 8601 string. */
function time(raw: unknown, name: string): number {
  const ms = typeof raw === 'number' ? raw * 1000 : typeof raw === 'string' ? Date.parse(raw) : NaN
  if (!Number.isFinite(ms)) throw invalid(`The parameter ${name} is not a valid timestamp.`)
  return ms
}

function list(raw: unknown, name: string): unknown[] {
  if (!Array.isArray(raw)) throw invalid(`The parameter ${name} must be a list.`)
  return raw
}

function token(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64')
}

function offset(raw: unknown): number {
  if (raw === undefined || raw === null) return 0
  try {
    const { offset } = JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8')) as { offset: unknown }
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset
  } catch {
    // refused below
  }
  throw new Refusal('InvalidNextToken', 'InvalidNextToken', 'The service returned an invalid NextToken.')
}

function send(res: ServerResponse, status: number, body: unknown, queryError?: string): void {
  const text = JSON.stringify(body)
  res
    .writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.0',
      'x-amzn-RequestId': randomUUID(),
      ...(queryError ? { 'x-amzn-query-error': queryError } : {}),
      'Content-Length': String(Buffer.byteLength(text)),
    })
    .end(text)
}

/** The body, or undefined when it passes the limit (the rest is read and dropped). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= MAX_BODY_BYTES) chunks.push(chunk)
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}
