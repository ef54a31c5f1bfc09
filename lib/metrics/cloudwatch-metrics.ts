// A deployed stack's metrics, read back from CloudWatch: the Lambda host writes its counts as EMF
// lines (emf.ts), CloudWatch Logs makes them metrics of the namespace `troupe`, and this sums them
// over a window. The client is passed in, so that troupe loads @aws-sdk/client-cloudwatch only
// where someone reads CloudWatch.
import type { TypeCounts } from './actor-metrics.js'
import { BACKLOG_FIELDS, type TypeBacklog } from './backlog.js'
import type { CloudWatchMetric as Metric, CloudWatchReader, MetricQuery as MetricDataQuery } from './cloudwatch-reader.js'
import { METRICS_NAMESPACE, type ApiCounts } from './emf.js'
import type { MetricsSource, TrafficTotal } from './metrics-source.js'

/** GetMetricData takes at most this many queries a call. */
const QUERIES_PER_CALL = 500
const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
/**
 * One reading serves the calls that follow it this long: `cost` asks for requests and counts at
 * once, the web view polls, and CloudWatch's data moves by the minute anyway.
 */
const REUSE_MS = 10_000
/**
 * The backlog gauges (Parked, OldestParkedAgeMs, Running, IteratorAgeMs) are readings, not counts:
 * each type's is the Maximum of its latest minute with data, looking back this far.
 */
export const BACKLOG_LOOKBACK_MS = 5 * MINUTE_MS

const TYPE_FIELDS = new Set<string>(['processed', 'filtered', 'retried', 'throttled', 'dead'])
const API_FIELDS: Record<string, keyof ApiCounts['byApi'][string]> = { Requests: 'requests', Errors: 'errors', RequestBytes: 'requestBytes', ResponseBytes: 'responseBytes', Units: 'units' }

export interface CloudWatchMetricsOptions {
  /** A client of CloudWatch: the `CloudWatch` class of @aws-sdk/client-cloudwatch (a CloudWatchClient with a method per operation). */
  cloudwatch: CloudWatchReader
  /** The `Service` dimension the hosts wrote: the table name. */
  service: string
  /** How far back the totals go. @default 24 hours */
  windowMs?: number
  now?: () => number
}

interface Totals {
  types: Map<string, TypeCounts>
  traffic: TrafficTotal[]
  requests: ApiCounts
  backlog: Map<string, TypeBacklog>
}

export class CloudWatchMetrics implements MetricsSource {
  readonly label: string
  private readonly windowMs: number
  private readonly now: () => number
  private last: { at: number; totals: Promise<Totals> } | undefined

  constructor(private readonly options: CloudWatchMetricsOptions) {
    this.windowMs = options.windowMs ?? DAY_MS
    if (!(this.windowMs >= MINUTE_MS)) throw new RangeError(`the CloudWatch window must be a minute or more, not ${this.windowMs} ms`)
    this.now = options.now ?? Date.now
    this.label = `CloudWatch ${METRICS_NAMESPACE}/${options.service}, last ${span(this.windowMs)}`
  }

  async actors(): Promise<Map<string, TypeCounts>> {
    return new Map([...(await this.totals()).types].map(([type, c]) => [type, { ...c }]))
  }

  async traffic(): Promise<TrafficTotal[]> {
    return (await this.totals()).traffic.map((e) => ({ ...e }))
  }

  async requests(): Promise<ApiCounts> {
    const { byApi } = (await this.totals()).requests
    return { byApi: Object.fromEntries(Object.entries(byApi).map(([api, c]) => [api, { ...c }])) }
  }

  /** Each type's backlog: the most any host reported in the latest minute with data of the last five. */
  async backlog(): Promise<Map<string, TypeBacklog>> {
    return new Map([...(await this.totals()).backlog].map(([type, b]) => [type, { ...b }]))
  }

  private totals(): Promise<Totals> {
    const now = this.now()
    if (this.last && now - this.last.at < REUSE_MS) return this.last.totals
    const totals = this.read(now)
    this.last = { at: now, totals }
    totals.catch(() => {
      if (this.last?.totals === totals) this.last = undefined
    })
    return totals
  }

  private async read(now: number): Promise<Totals> {
    const listed = await this.list()
    // The gauges are read apart (their latest Maximum); summing them would mean nothing.
    const isGauge = (m: Metric) => BACKLOG_FIELDS.has(m.MetricName!) && (m.Dimensions ?? []).some((d) => d.Name === 'Actor')
    const metrics = listed.filter((m) => !isGauge(m))
    const gauges = listed.filter(isGauge)
    // A period as long as the window, so each metric comes back as one or two sums. Data older
    // than 15 days is only kept by the 5 minutes and beyond, so long windows go by whole hours.
    const unit = this.windowMs > 15 * DAY_MS ? HOUR_MS : MINUTE_MS
    const period = (Math.ceil(this.windowMs / unit) * unit) / 1000
    const sums = await this.sum(metrics, period, now - this.windowMs, now)
    // The rate of each edge over the last whole minute (CloudWatch keeps whole minutes).
    const edges = metrics.filter((m) => m.MetricName === 'Sent')
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS
    const lastMinute = edges.length === 0 ? [] : await this.sum(edges, 60, minute - MINUTE_MS, minute)
    const edgeIndex = new Map(edges.map((m, i) => [m, i]))

    const types = new Map<string, TypeCounts>()
    const traffic: TrafficTotal[] = []
    const byApi: ApiCounts['byApi'] = {}
    metrics.forEach((metric, i) => {
      const d = Object.fromEntries((metric.Dimensions ?? []).map((x) => [x.Name, x.Value]))
      const name = metric.MetricName!
      const value = sums[i]!
      const only = (...names: string[]) => Object.keys(d).length === names.length + 1 && names.every((n) => d[n] !== undefined)
      if (only('Actor') && TYPE_FIELDS.has(name)) {
        let counts = types.get(d.Actor!)
        if (!counts) types.set(d.Actor!, (counts = { processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0 }))
        counts[name as keyof TypeCounts] += value
      } else if (only('From', 'To') && name === 'Sent') {
        const perSecond = Math.round((lastMinute[edgeIndex.get(metric)!]! / 60) * 10) / 10
        traffic.push({ from: d.From!, to: d.To!, sent: value, perSecond })
      } else if (only('Api') && API_FIELDS[name]) {
        const api = (byApi[d.Api!] ??= { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0 })
        const field = API_FIELDS[name]
        api[field] = (api[field] ?? 0) + value
      }
    })
    traffic.sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : 1) : a.from < b.from ? -1 : 1))
    const backlog = new Map<string, TypeBacklog>()
    const latest = gauges.length === 0 ? [] : await this.latestMaximum(gauges, now - BACKLOG_LOOKBACK_MS, now)
    gauges.forEach((metric, i) => {
      const value = latest[i]
      const type = metric.Dimensions?.find((d) => d.Name === 'Actor')?.Value
      if (value === undefined || type === undefined || (metric.Dimensions ?? []).length !== 2) return
      let b = backlog.get(type)
      if (!b) backlog.set(type, (b = {}))
      b[BACKLOG_FIELDS.get(metric.MetricName!)!] = value
    })
    return { types, traffic, requests: { byApi }, backlog }
  }

  /** Each metric's Maximum in its latest minute with data from `start` to `end` (undefined when none), in the order given. */
  private async latestMaximum(metrics: Metric[], start: number, end: number): Promise<(number | undefined)[]> {
    const latest: ({ at: number; value: number } | undefined)[] = metrics.map(() => undefined)
    for (let from = 0; from < metrics.length; from += QUERIES_PER_CALL) {
      const queries: MetricDataQuery[] = metrics.slice(from, from + QUERIES_PER_CALL).map((metric, i) => ({
        Id: `g${from + i}`,
        MetricStat: { Metric: metric, Period: 60, Stat: 'Maximum' },
        ReturnData: true,
      }))
      let token: string | undefined
      do {
        const page = await this.call('GetMetricData', () =>
          this.options.cloudwatch.getMetricData({ MetricDataQueries: queries, StartTime: new Date(start), EndTime: new Date(end), NextToken: token }),
        )
        for (const result of page.MetricDataResults ?? []) {
          const i = Number(result.Id?.slice(1))
          if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
            throw new Error(`CloudWatch GetMetricData for ${this.where()} answered ${result.StatusCode} for ${describe(metrics[i])}`)
          }
          const values = result.Values ?? []
          ;(result.Timestamps ?? []).forEach((ts, j) => {
            const at = new Date(ts).getTime()
            const value = values[j]
            if (value !== undefined && (latest[i] === undefined || at > latest[i]!.at)) latest[i] = { at, value }
          })
        }
        token = page.NextToken
      } while (token)
    }
    return latest.map((l) => l?.value)
  }

  /** Every metric of the namespace with this Service, page by page. */
  private async list(): Promise<Metric[]> {
    const metrics: Metric[] = []
    let token: string | undefined
    do {
      const page = await this.call('ListMetrics', () =>
        this.options.cloudwatch.listMetrics({ Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'Service', Value: this.options.service }], NextToken: token }),
      )
      metrics.push(...(page.Metrics ?? []))
      token = page.NextToken
    } while (token)
    return metrics
  }

  /** The sum of each metric's data points from `start` to `end`, in the order given. */
  private async sum(metrics: Metric[], period: number, start: number, end: number): Promise<number[]> {
    const sums = metrics.map(() => 0)
    for (let from = 0; from < metrics.length; from += QUERIES_PER_CALL) {
      const queries: MetricDataQuery[] = metrics.slice(from, from + QUERIES_PER_CALL).map((metric, i) => ({
        Id: `m${from + i}`,
        MetricStat: { Metric: metric, Period: period, Stat: 'Sum' },
        ReturnData: true,
      }))
      const input = { MetricDataQueries: queries, StartTime: new Date(start), EndTime: new Date(end) }
      let token: string | undefined
      do {
        const page = await this.call('GetMetricData', () => this.options.cloudwatch.getMetricData({ ...input, NextToken: token }))
        for (const result of page.MetricDataResults ?? []) {
          const i = Number(result.Id?.slice(1))
          if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
            throw new Error(`CloudWatch GetMetricData for ${this.where()} answered ${result.StatusCode} for ${describe(metrics[i])}`)
          }
          for (const v of result.Values ?? []) sums[i] = sums[i]! + v
        }
        token = page.NextToken
      } while (token)
    }
    return sums
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      const e = error as Error
      throw new Error(`CloudWatch ${operation} for ${this.where()} failed: ${e.name}: ${e.message}`, { cause: error })
    }
  }

  private where(): string {
    return `${METRICS_NAMESPACE}/${this.options.service}`
  }
}

function describe(metric: Metric | undefined): string {
  if (!metric) return 'a metric it was not asked for'
  return `${metric.MetricName} {${(metric.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(', ')}}`
}

function span(ms: number): string {
  if (ms % DAY_MS === 0 && ms > DAY_MS) return `${ms / DAY_MS} days`
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`
  return `${Math.round(ms / MINUTE_MS)} min`
}
