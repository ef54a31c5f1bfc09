// What inspection shows from the hosts' metrics (lib/metrics): the counts of each actor type, the
// graph of who sends to whom, and the cost per message. A table alone knows state, not traffic;
// with a metrics source beside it, a deployed stack answers what one process does.
import type { TypeBacklog } from '../metrics/backlog.js'
import type { MetricsSource } from '../metrics/metrics-source.js'
import type { ActorRow, CostView, GraphView } from './inspector.js'

/**
 * The table's rows with the metrics' counts; types only the metrics know get a row too. Where the
 * source reads the backlog gauges, each row gets its type's iterator age from them; what is parked
 * and running stays the table's (it counts every item, the hosts each what they saw).
 */
export async function withCounts(rows: ActorRow[], metrics: MetricsSource): Promise<ActorRow[]> {
  const [counts, backlog] = await Promise.all([metrics.actors(), metrics.backlog?.() ?? new Map<string, TypeBacklog>()])
  const out = rows.map((row) => {
    const c = counts.get(row.type)
    return c ? { ...row, processed: c.processed, retried: c.retried, throttled: c.throttled } : { ...row, processed: 0, retried: 0, throttled: 0 }
  })
  for (const [type, c] of counts) {
    if (!rows.some((r) => r.type === type)) out.push({ type, instances: 0, processed: c.processed, retried: c.retried, throttled: c.throttled, dead: 0, paused: false, pausedKeys: [] })
  }
  for (const row of out) {
    const age = backlog.get(row.type)?.iteratorAgeMs
    if (age !== undefined) row.iteratorAgeMs = age
  }
  return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
}

export async function graphOf(metrics: MetricsSource): Promise<GraphView> {
  const traffic = await metrics.traffic()
  const nodes = new Map<string, number>()
  for (const e of traffic) nodes.set(e.to, (nodes.get(e.to) ?? 0) + e.sent)
  return {
    nodes: [...nodes].map(([type, count]) => ({ type, count })),
    edges: traffic.map((e) => ({ from: e.from, to: e.to, count: e.sent, perSecond: e.perSecond ?? 0 })),
  }
}

/** Requests of every process that wrote metrics, per message processed. */
export async function costOf(metrics: MetricsSource): Promise<CostView> {
  const [requests, counts] = await Promise.all([metrics.requests(), metrics.actors()])
  let messages = 0
  for (const c of counts.values()) messages += c.processed + c.dead
  const byApi: CostView['byApi'] = {}
  let total = 0
  for (const [api, c] of Object.entries(requests.byApi)) {
    if (c.requests === 0) continue
    byApi[api] = { ...c }
    total += c.requests
  }
  // Only the Lambda host writes counts (a consuming process writes its backlog gauges alone).
  return { messages, requests: total, ...(messages !== 0 ? { requestsPerMessage: Math.round((total / messages) * 100) / 100 } : {}), byApi, compute: 'lambda' }
}
