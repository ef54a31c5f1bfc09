// The backlog of each actor type, as gauges a host writes beside its counts (emf.ts): what waits
// (messages parked for a throttle's token, a concurrency slot or a retry, and how long the oldest of them
// has waited), what runs (a capped type's slots held on every host), and how long the type's
// records waited in the stream before a host read them (the iterator age). Counts are summed over
// time; these are readings, so CloudWatch is asked for their Maximum, never their Sum.

/** One actor type's backlog as a host saw it; a field the host does not know is absent. */
export interface TypeBacklog {
  /** Messages parked in their instances' items for a throttle's token, a concurrency slot or a retry that waits long. */
  parked?: number
  /** How long the oldest of them has waited since it was sent, ms. */
  oldestParkedAgeMs?: number
  /** Turns under way: for a type under `policy.concurrency`, the slots its live leases hold on every host. */
  running?: number
  /** How long the oldest of the type's records in a batch had been in the stream when the host took the batch in, ms. */
  iteratorAgeMs?: number
}

/** The gauges per type: metric name, field, CloudWatch unit. Four per type at most (each is a custom metric on the bill). */
export const BACKLOG_METRICS = [
  ['Parked', 'parked', 'Count'],
  ['OldestParkedAgeMs', 'oldestParkedAgeMs', 'Milliseconds'],
  ['Running', 'running', 'Count'],
  ['IteratorAgeMs', 'iteratorAgeMs', 'Milliseconds'],
] as const satisfies readonly (readonly [string, keyof TypeBacklog, string])[]

/** Metric name → field of {@link TypeBacklog}. */
export const BACKLOG_FIELDS: ReadonlyMap<string, keyof TypeBacklog> = new Map(BACKLOG_METRICS.map(([name, field]) => [name, field]))

/**
 * The iterator age of a batch: how long its oldest record had been in the stream at `now`, from
 * the records' arrival times (epoch ms; Kinesis's ApproximateArrivalTimestamp). Undefined when no
 * record says when it arrived; never below 0 (the clocks of Kinesis and the host differ a little).
 */
export function iteratorAgeMs(arrivals: Iterable<number | undefined>, now: number): number | undefined {
  let oldest: number | undefined
  for (const at of arrivals) if (at !== undefined && Number.isFinite(at) && (oldest === undefined || at < oldest)) oldest = at
  return oldest === undefined ? undefined : Math.max(0, now - oldest)
}

/**
 * When a record of a Lambda Kinesis event arrived, epoch ms: its `approximateArrivalTimestamp` is
 * epoch seconds with a millisecond fraction (AWS-SEMANTICS.md §1). Undefined when it has none.
 */
export function arrivalMs(approximateArrivalTimestamp: unknown): number | undefined {
  return typeof approximateArrivalTimestamp === 'number' && Number.isFinite(approximateArrivalTimestamp) ? Math.round(approximateArrivalTimestamp * 1000) : undefined
}

/** The oldest arrival of each type's records in a batch (epoch ms), from its records' types and arrivals. */
export function oldestArrivals(records: Iterable<{ type: string; arrivedAt?: number | undefined }>): Map<string, number> {
  const oldest = new Map<string, number>()
  for (const r of records) {
    if (r.arrivedAt === undefined || !Number.isFinite(r.arrivedAt)) continue
    const at = oldest.get(r.type)
    if (at === undefined || r.arrivedAt < at) oldest.set(r.type, r.arrivedAt)
  }
  return oldest
}
