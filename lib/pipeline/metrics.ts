// Heartbeat and timing metrics per component (actor type), as structured log lines: every
// `everyMs`, one line per component with what it did since the last line and how long its
// turns took. A component with nothing to do still beats, so silence means a stopped process.
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js'
import { ConfigError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { System } from '../core/system.js'

export interface MetricsOptions {
  logger: Logger
  /** @default 10_000 */
  everyMs?: number
  /** Only these actor types. @default every type the system runs, less troupe's own (`troupe.*`) */
  components?: readonly string[]
  /** @default the wall clock */
  clock?: Clock
}

/** One component's line. */
export interface ComponentBeat {
  component: string
  intervalMs: number
  done: number
  filtered: number
  dead: number
  retried: number
  /** Turn durations of the messages done in the interval; absent when none was. */
  p50Ms?: number
  p95Ms?: number
  maxMs?: number
}

interface Window {
  done: number
  filtered: number
  dead: number
  retried: number
  durations: number[]
}

const empty = (): Window => ({ done: 0, filtered: 0, dead: 0, retried: 0, durations: [] })

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/**
 * Starts logging a `heartbeat` line per component every `everyMs`; `stop()` logs the last
 * interval and stops.
 *
 * @example
 * const metrics = componentMetrics(system, { logger, everyMs: 5_000 })
 * // {"level":"info","msg":"heartbeat","component":"parse","intervalMs":5000,"done":812,"p50Ms":0.4,"p95Ms":1.2,…}
 */
export function componentMetrics(system: System, options: MetricsOptions): { stop(): ComponentBeat[]; beat(): ComponentBeat[] } {
  const everyMs = options.everyMs ?? 10_000
  if (!(typeof everyMs === 'number' && everyMs > 0)) throw new ConfigError(`componentMetrics: everyMs must be a number above 0, got ${String(everyMs)}`)
  const clock = options.clock ?? systemClock
  const wanted = options.components ?? system.inspect().actors.map((a) => a.type).filter((t) => !t.startsWith('troupe.'))
  const windows = new Map<string, Window>(wanted.map((c) => [c, empty()]))
  let since = clock.now()
  const unsubscribe = system.on((event) => {
    const type = 'envelope' in event ? event.envelope.type : event.actor
    const w = windows.get(type)
    if (!w) return
    if (event.type === '@troupe.done') {
      w.done++
      w.durations.push(event.durationMs)
    } else if (event.type === '@troupe.filtered') w.filtered++
    else if (event.type === '@troupe.dead') w.dead++
    else if (event.type === '@troupe.retried') w.retried++
  })
  const beat = (): ComponentBeat[] => {
    const now = clock.now()
    const beats: ComponentBeat[] = []
    for (const [component, w] of windows) {
      const sorted = [...w.durations].sort((a, b) => a - b)
      const line: ComponentBeat = { component, intervalMs: now - since, done: w.done, filtered: w.filtered, dead: w.dead, retried: w.retried }
      if (sorted.length > 0) Object.assign(line, { p50Ms: round(quantile(sorted, 0.5)), p95Ms: round(quantile(sorted, 0.95)), maxMs: round(sorted.at(-1)!) })
      options.logger.info('heartbeat', { ...line })
      beats.push(line)
      windows.set(component, empty())
    }
    since = now
    return beats
  }
  let timer: TimerHandle | undefined
  const arm = () => {
    timer = clock.setTimeout(() => {
      beat()
      arm()
    }, everyMs)
  }
  arm()
  return {
    beat,
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      unsubscribe()
      return beat()
    },
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
