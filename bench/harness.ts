// Measurement plumbing shared by the driver and the child: arguments, JSON lines, statistics.
import os from 'node:os'
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'

export type Args = Record<string, string>

/** `--name value`, `--name=value`, and bare `--flag` (becomes "true"). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Args {
  const out: Args = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)} (see --help)`)
    const eq = a.indexOf('=')
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1)
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[a.slice(2)] = argv[++i]!
    else out[a.slice(2)] = 'true'
  }
  return out
}

/** An integer option; accepts `1_000_000` and `1e6`. */
export function int(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value.replace(/_/g, ''))
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a non-negative number: ${value}`)
  return Math.trunc(n)
}

/** A comma-separated list option. */
export function list(value: string | undefined, fallback: readonly string[]): string[] {
  if (value === undefined || value === '' || value === 'true') return [...fallback]
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/** One JSON object per line on stdout: the results. */
export function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

/** Human progress on stderr, so stdout stays machine-readable. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`)
}

export const nowNs = (): bigint => process.hrtime.bigint()
export const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

export function round(value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(xs: readonly number[], digits = 2): Spread {
  return { median: round(median(xs), digits), min: round(Math.min(...xs), digits), max: round(Math.max(...xs), digits) }
}

/** Latencies in nanoseconds in, microseconds out. */
export function latencySummary(ns: Float64Array): Record<string, number> {
  const s = Float64Array.from(ns).sort()
  let sum = 0
  for (const v of s) sum += v
  const us = (v: number) => round(v / 1000)
  return {
    mean_us: us(sum / s.length),
    p50_us: us(percentile(s, 50)),
    p99_us: us(percentile(s, 99)),
    p999_us: us(percentile(s, 99.9)),
    max_us: us(s[s.length - 1] ?? NaN),
  }
}

/**
 * With BENCH_GC=1, W3 and W4 watch the collections (GcWatch). Off by default: observing them costs
 * troupe's W4 about a tenth of its rate and its p99 about 10 µs (interleaved runs), so the runs the
 * report is made from leave it off.
 */
export function watchingGc(): boolean {
  return process.env.BENCH_GC === '1'
}

/**
 * The collections V8 runs while a latency workload is measured, and how many of its slowest 1 %
 * overlapped one. A collection pauses whichever operation is running, so a p99 made of them
 * shows here, not in the system's own work. Times are nanoseconds from `t0` (`nowNs()`).
 */
export class GcWatch {
  /** When each operation started, in nanoseconds from t0. */
  private readonly starts: Float64Array
  /** Start and end of each collection, in nanoseconds from t0. */
  private readonly spans: number[] = []
  private scavenges = 0
  private pauseMs = 0
  private readonly observer = new PerformanceObserver((list) => this.take(list.getEntries()))
  /** performance.now() in ms to nanoseconds from t0: both read the same monotonic clock. */
  private readonly offsetNs: number

  /** For `n` operations timed from `t0`. */
  constructor(
    private readonly t0: bigint,
    n: number,
  ) {
    this.starts = new Float64Array(n)
    this.offsetNs = Number(process.hrtime.bigint() - t0) - performance.now() * 1e6
    this.observer.observe({ entryTypes: ['gc'] })
  }

  /** Operation i started at `s` (`nowNs()`). */
  started(i: number, s: bigint): void {
    this.starts[i] = Number(s - this.t0)
  }

  private take(entries: PerformanceEntry[]): void {
    for (const e of entries) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) this.scavenges++
      // Weak callbacks run inside a collection's own entry: counted there.
      else if (kind === constants.NODE_PERFORMANCE_GC_WEAKCB) continue
      this.pauseMs += e.duration
      const start = e.startTime * 1e6 + this.offsetNs
      this.spans.push(start, start + e.duration * 1e6)
    }
  }

  /**
   * What ran while operation i took `lat[i]` ns from its start: the scavenges, the pauses in ms
   * (scavenges, full collections, incremental marking steps), and the share of the slowest 1 % (at
   * least one) that overlapped one of them.
   */
  async summary(lat: Float64Array): Promise<Record<string, number>> {
    // Node makes a collection's entry on the event loop after it: a run of microtasks has none yet.
    await new Promise((resolve) => setImmediate(resolve))
    this.take(this.observer.takeRecords())
    this.observer.disconnect()
    const slowest = Array.from(lat.keys())
      .sort((a, b) => lat[b]! - lat[a]!)
      .slice(0, Math.max(1, Math.floor(lat.length / 100)))
    let inGc = 0
    for (const i of slowest) {
      const from = this.starts[i]!
      const to = from + lat[i]!
      for (let g = 0; g < this.spans.length; g += 2) {
        if (this.spans[g]! < to && this.spans[g + 1]! > from) {
          inGc++
          break
        }
      }
    }
    return { scavenges: this.scavenges, gc_ms: round(this.pauseMs), slowest_in_gc: round(inGc / slowest.length, 3) }
  }
}

/** Two full collections, when the process runs with --expose-gc. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect) {
    collect()
    collect()
  }
}

export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    cpus: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    mem_gib: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()}-${os.arch()}`,
  }
}
