// CloudWatch's side of the Embedded Metric Format, for `troupe dev`: the lines its functions write
// on stdout become data points, as CloudWatch Logs makes them from a Lambda's log, and are summed
// here for inspection. Only troupe's namespace is kept; other lines are the function's logs.
import type { TypeCounts } from '../metrics/actor-metrics.js'
import { METRICS_NAMESPACE, readEmf, type ApiCounts, type MetricPoint } from '../metrics/emf.js'
import type { MetricsSource, TrafficTotal } from '../metrics/metrics-source.js'

/** Rates are over this window. */
const RATE_WINDOW_MS = 10_000
/** Data points kept per edge for its rate: a bound, whoever reads or not. */
const MAX_RECENT = 10_000

export class LocalMetrics implements MetricsSource {
  readonly label = 'metrics the functions wrote (EMF lines)'
  private readonly types = new Map<string, TypeCounts>()
  private readonly edges = new Map<string, TrafficTotal & { recent: { at: number; n: number }[] }>()
  private readonly apis: ApiCounts['byApi'] = {}

  constructor(
    /** Requests this process made itself (troupe dev's own sends and reads), added to the functions'. */
    private readonly ownRequests?: () => ApiCounts,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a line of a function's output: true if it was an EMF line (kept here, not a log line). */
  ingest(line: string): boolean {
    const points = readEmf(line)
    if (points === undefined) return false
    for (const p of points) if (p.namespace === METRICS_NAMESPACE) this.add(p)
    return true
  }

  private add(p: MetricPoint): void {
    const d = p.dimensions
    if (d.Actor !== undefined) {
      const counts = this.typeOf(d.Actor)
      if (p.name in counts) counts[p.name as keyof TypeCounts] += p.value
    } else if (d.From !== undefined && d.To !== undefined && p.name === 'Sent') {
      const name = `${d.From}\u0000${d.To}`
      let edge = this.edges.get(name)
      if (!edge) this.edges.set(name, (edge = { from: d.From, to: d.To, sent: 0, recent: [] }))
      edge.sent += p.value
      edge.recent.push({ at: p.at, n: p.value })
      if (edge.recent.length > MAX_RECENT) edge.recent.shift()
    } else if (d.Api !== undefined) {
      const api = (this.apis[d.Api] ??= { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0 })
      if (p.name === 'Requests') api.requests += p.value
      else if (p.name === 'Errors') api.errors += p.value
      else if (p.name === 'RequestBytes') api.requestBytes += p.value
      else if (p.name === 'ResponseBytes') api.responseBytes += p.value
      else if (p.name === 'Units') api.units = (api.units ?? 0) + p.value
    }
  }

  private typeOf(type: string): TypeCounts {
    let counts = this.types.get(type)
    if (!counts) this.types.set(type, (counts = { processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 0 }))
    return counts
  }

  async actors(): Promise<Map<string, TypeCounts>> {
    return new Map([...this.types].map(([type, counts]) => [type, { ...counts }]))
  }

  async traffic(): Promise<TrafficTotal[]> {
    const since = this.now() - RATE_WINDOW_MS
    return [...this.edges.values()].map((e) => {
      while (e.recent.length !== 0 && e.recent[0]!.at < since) e.recent.shift()
      const inWindow = e.recent.reduce((n, r) => n + r.n, 0)
      return { from: e.from, to: e.to, sent: e.sent, perSecond: Math.round((inWindow / (RATE_WINDOW_MS / 1000)) * 10) / 10 }
    })
  }

  async requests(): Promise<ApiCounts> {
    const byApi: ApiCounts['byApi'] = Object.fromEntries(Object.entries(this.apis).map(([api, c]) => [api, { ...c }]))
    for (const [api, c] of Object.entries(this.ownRequests?.().byApi ?? {})) {
      const into = (byApi[api] ??= { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0 })
      into.requests += c.requests
      into.errors += c.errors
      into.requestBytes += c.requestBytes
      into.responseBytes += c.responseBytes
      if (c.units) into.units = (into.units ?? 0) + c.units
    }
    return { byApi }
  }
}
