// CloudWatch Embedded Metric Format: a log line that is a JSON object with an `_aws` member
// naming its metrics and dimensions; on Lambda, CloudWatch Logs turns each such line into metric
// data points, with no PutMetricData call. troupe's hosts write their counts this way, and
// `troupe dev` reads the same lines from its functions' output, as CloudWatch would.
import type { MetricsTake } from './actor-metrics.js'
import { BACKLOG_METRICS, type TypeBacklog } from './backlog.js'

/** Requests per AWS API, as a request counter gives them (lib/aws/request-counter.ts). */
export interface ApiCounts {
  /** `units`: billed units (Kinesis PUT payload units, DynamoDB request units); absent where none were counted. */
  byApi: Record<string, { requests: number; errors: number; requestBytes: number; responseBytes: number; units?: number }>
}

/** The requests made between two readings of a counter. */
export function requestsSince(now: ApiCounts, before: ApiCounts): ApiCounts {
  const byApi: ApiCounts['byApi'] = {}
  for (const [api, c] of Object.entries(now.byApi)) {
    const b = before.byApi[api]
    const units = (c.units ?? 0) - (b?.units ?? 0)
    byApi[api] = b
      ? { requests: c.requests - b.requests, errors: c.errors - b.errors, requestBytes: c.requestBytes - b.requestBytes, responseBytes: c.responseBytes - b.responseBytes, ...(units !== 0 ? { units } : {}) }
      : { ...c }
  }
  return { byApi }
}

/** The CloudWatch namespace of troupe's metrics. */
export const METRICS_NAMESPACE = 'troupe'

/** One metric directive of an EMF line: its namespace, dimension sets and metric names. */
interface Directive {
  Namespace: string
  Dimensions: string[][]
  Metrics: { Name: string; Unit?: string }[]
}

/** A data point read from an EMF line: a metric of a namespace, with its dimension values. */
export interface MetricPoint {
  namespace: string
  dimensions: Record<string, string>
  name: string
  value: number
  at: number
}

const TYPE_METRICS = ['processed', 'filtered', 'retried', 'throttled', 'dead'] as const
const REQUEST_METRICS = [
  ['Requests', 'requests', 'Count'],
  ['Errors', 'errors', 'Count'],
  ['RequestBytes', 'requestBytes', 'Bytes'],
  ['ResponseBytes', 'responseBytes', 'Bytes'],
  ['Units', 'units', 'Count'],
] as const

/**
 * The EMF lines of what a host counted: one per actor type (dimensions Service, Actor), one per
 * pair of types that messages went between (Service, From, To; metric Sent), one per AWS API
 * called (Service, Api; its billed units where it has any). Nothing for what did not happen.
 * With `backlog`, a type's line also carries the gauges the host read of it (backlog.ts:
 * Parked, OldestParkedAgeMs, Running, IteratorAgeMs), those it knows only; a type with gauges
 * and no counts gets a line of its gauges alone.
 */
export function emfLines(service: string, at: number, take: MetricsTake, requests?: ApiCounts, backlog?: ReadonlyMap<string, TypeBacklog>): string[] {
  const lines: string[] = []
  const line = (dimensions: Record<string, string>, metrics: [string, number, string][]) => {
    const directive: Directive = { Namespace: METRICS_NAMESPACE, Dimensions: [Object.keys(dimensions)], Metrics: metrics.map(([Name, , Unit]) => ({ Name, Unit })) }
    const values = Object.fromEntries(metrics.map(([name, value]) => [name, value]))
    lines.push(JSON.stringify({ _aws: { Timestamp: at, CloudWatchMetrics: [directive] }, ...dimensions, ...values }))
  }
  const gauges = (type: string): [string, number, string][] => {
    const b = backlog?.get(type)
    if (b === undefined) return []
    return BACKLOG_METRICS.flatMap(([name, field, unit]): [string, number, string][] => (b[field] === undefined ? [] : [[name, b[field], unit]]))
  }
  for (const [type, counts] of take.types) {
    line({ Service: service, Actor: type }, [...TYPE_METRICS.map((m): [string, number, string] => [m, counts[m], 'Count']), ...gauges(type)])
  }
  for (const type of backlog?.keys() ?? []) {
    if (take.types.has(type)) continue
    const only = gauges(type)
    if (only.length !== 0) line({ Service: service, Actor: type }, only)
  }
  for (const edge of take.traffic) line({ Service: service, From: edge.from, To: edge.to }, [['Sent', edge.sent, 'Count']])
  for (const [api, count] of Object.entries(requests?.byApi ?? {})) {
    if (count.requests === 0) continue
    // Units only where the API has any (APIs billed per request have none): fewer metrics to pay for.
    const metrics = REQUEST_METRICS.filter(([, field]) => field !== 'units' || (count.units ?? 0) > 0)
    line({ Service: service, Api: api }, metrics.map(([name, field, unit]) => [name, count[field] ?? 0, unit]))
  }
  return lines
}

/**
 * The data points of one log line, if it is an EMF line; undefined for any other line. A line
 * CloudWatch would reject (a directive naming a dimension or metric the line lacks, a value that
 * is not a number) gives no points for that metric, as CloudWatch extracts none.
 */
export function readEmf(line: string): MetricPoint[] | undefined {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return undefined
  let doc: unknown
  try {
    doc = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!isRecord(doc) || !isRecord(doc._aws) || !Array.isArray(doc._aws.CloudWatchMetrics)) return undefined
  const at = typeof doc._aws.Timestamp === 'number' ? doc._aws.Timestamp : Date.now()
  const points: MetricPoint[] = []
  for (const directive of doc._aws.CloudWatchMetrics as unknown[]) {
    if (!isRecord(directive) || typeof directive.Namespace !== 'string' || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) continue
    for (const set of directive.Dimensions as unknown[]) {
      if (!Array.isArray(set) || !set.every((d): d is string => typeof d === 'string' && typeof doc[d] === 'string')) continue
      const dimensions = Object.fromEntries(set.map((d) => [d, doc[d] as string]))
      for (const metric of directive.Metrics as unknown[]) {
        if (!isRecord(metric) || typeof metric.Name !== 'string') continue
        const raw = doc[metric.Name]
        for (const value of Array.isArray(raw) ? raw : [raw]) {
          if (typeof value === 'number' && Number.isFinite(value)) points.push({ namespace: directive.Namespace, dimensions, name: metric.Name, value, at })
        }
      }
    }
  }
  return points
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}
