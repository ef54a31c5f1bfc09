import type { Clock, TimerHandle } from '../core/clock.js'
import { ConfigError } from '../core/errors.js'

/**
 * Wall time running `speed` times faster: a minute of the clock passes in 60/speed real
 * seconds, from `start` (default: now). Unlike the simulated clock it moves on its own, so a
 * system on the AWS mode, whose servers and polls run in real time, can use it too: a demo or
 * a test sees `rate(1 minute)` schedules fire every second at speed 60.
 *
 * @example
 * const system = createSystem({ actors, clock: acceleratedClock(60) })
 * await system.schedule(Tick, {}, { every: 'rate(1 minute)' })   // fires about once a second
 */
export function acceleratedClock(speed: number, start: number = Date.now()): Clock {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0) {
    throw new ConfigError(`acceleratedClock: speed must be a number above 0, got ${String(speed)}`)
  }
  const origin = performance.now()
  return {
    now: () => Math.floor(start + (performance.now() - origin) * speed),
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms) / speed) as unknown as TimerHandle,
    clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  }
}
