// The backlog gauges of EMF lines (backlog.ts) as `troupe dev` reads them from its functions'
// output, as CloudWatch would: a reading per type and gauge, the most any function reported in the
// last minute. Counts go to the collector of counts (lib/local/local-metrics.ts); this keeps the
// gauges, which are not summed. A process that reads its streams itself keeps its own readings
// here too (process-view.ts), so it shows them as the Lambda host's do.
import { BACKLOG_FIELDS, type TypeBacklog } from './backlog.js'
import { METRICS_NAMESPACE, readEmf } from './emf.js'
import type { MetricsSource } from './metrics-source.js'

/** A reading counts this long after it was written. */
export const GAUGE_WINDOW_MS = 60_000
/** Readings kept per type and gauge: a bound, whoever reads or not. */
const MAX_READINGS = 1_000

export class GaugeWindow {
  /** `type\0field` → its readings, in the order they came. */
  private readonly readings = new Map<string, { type: string; field: keyof TypeBacklog; points: { at: number; value: number }[] }>()

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a line of a function's output: keeps its backlog gauges, if it is an EMF line with any. */
  ingest(line: string): void {
    for (const p of readEmf(line) ?? []) {
      const field = BACKLOG_FIELDS.get(p.name)
      const type = p.dimensions.Actor
      if (p.namespace !== METRICS_NAMESPACE || field === undefined || type === undefined) continue
      this.add(type, field, p.at, p.value)
    }
  }

  /** Keeps one reading of a type's gauge, taken at `at` (epoch ms): a host in this process reports its own without a line. */
  add(type: string, field: keyof TypeBacklog, at: number, value: number): void {
    const name = `${type}\u0000${field}`
    let r = this.readings.get(name)
    if (!r) this.readings.set(name, (r = { type, field, points: [] }))
    r.points.push({ at, value })
    if (r.points.length > MAX_READINGS) r.points.shift()
  }

  /** Each type's gauges: the most reported in the last minute; a gauge with no reading in it is absent. */
  backlog(): Map<string, TypeBacklog> {
    const since = this.now() - GAUGE_WINDOW_MS
    const out = new Map<string, TypeBacklog>()
    for (const r of this.readings.values()) {
      r.points = r.points.filter((p) => p.at >= since)
      if (r.points.length === 0) continue
      let b = out.get(r.type)
      if (!b) out.set(r.type, (b = {}))
      b[r.field] = Math.max(...r.points.map((p) => p.value))
    }
    return out
  }
}

/** A metrics source that also answers `backlog()` from these gauges. */
export function withGauges(source: MetricsSource, gauges: GaugeWindow): MetricsSource {
  return {
    label: source.label,
    actors: () => source.actors(),
    traffic: () => source.traffic(),
    requests: () => source.requests(),
    backlog: async () => gauges.backlog(),
  }
}
