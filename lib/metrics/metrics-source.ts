import type { TypeCounts } from './actor-metrics.js'
import type { TypeBacklog } from './backlog.js'
import type { ApiCounts } from './emf.js'

/** Messages between two types, with the rate over the last seconds when the source knows it. */
export interface TrafficTotal {
  from: string
  to: string
  sent: number
  perSecond?: number
}

/**
 * Where inspection reads what troupe's hosts counted (the EMF lines they write): CloudWatch for a
 * deployed stack, `troupe dev`'s collector of its functions' output locally. Totals since the
 * source began (dev) or over the window it reads (CloudWatch).
 */
export interface MetricsSource {
  /** What the source says it reads, for the user (`CloudWatch troupe/<service>, last 24 h`). */
  readonly label: string
  actors(): Promise<Map<string, TypeCounts>>
  traffic(): Promise<TrafficTotal[]>
  requests(): Promise<ApiCounts>
  /**
   * Each type's backlog as the hosts last reported it (backlog.ts: parked, the oldest parked's
   * age, a capped type's slots in use, the iterator age), where the source reads those gauges.
   */
  backlog?(): Promise<Map<string, TypeBacklog>>
}
