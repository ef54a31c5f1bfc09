import type { Clock, TimerHandle } from '../core/clock.js'

interface Timer {
  id: number
  due: number
  fn: () => void
}

/**
 * A clock that moves only when told. `advance` fires due timers in order and lets
 * the promise jobs they start run before it moves on, so async turns complete.
 *
 * @example
 * const clock = new SimulatedClock()
 * const system = createSystem({ actors, clock })
 * await clock.advance(1_000)
 */
export class SimulatedClock implements Clock {
  private time: number
  private timers: Timer[] = []
  private nextId = 1

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.time + Math.max(0, ms), fn }
    this.timers.push(timer)
    return timer.id as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    const id = handle as unknown as number
    this.timers = this.timers.filter((t) => t.id !== id)
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in due order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    await settle()
    for (;;) {
      const next = this.earliest()
      if (!next || next.due > end) break
      this.timers = this.timers.filter((t) => t !== next)
      this.time = Math.max(this.time, next.due)
      next.fn()
      await settle()
    }
    this.time = end
    await settle()
  }

  /** Advances in steps of `stepMs` until `done()` holds, or throws after `maxMs` of simulated time. */
  async runUntil(done: () => boolean, { stepMs = 10, maxMs = 600_000 } = {}): Promise<void> {
    const limit = this.time + maxMs
    while (!done()) {
      if (this.time >= limit) throw new Error(`condition still false after ${maxMs} ms of simulated time`)
      await this.advance(stepMs)
    }
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined
    for (const t of this.timers) if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t
    return best
  }
}

/** Lets queued promise jobs and immediates run (several rounds, as turns chain promises). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
