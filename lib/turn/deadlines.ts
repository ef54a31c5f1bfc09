import type { Clock, TimerHandle } from '../core/clock.js'

/** A deadline that may be cancelled; cancelling is O(1) and leaves the entry for later cleanup. */
export interface Deadline {
  cancel(): void
}

class Entry implements Deadline {
  cancelled = false
  constructor(
    readonly at: number,
    readonly onExpire: () => void,
    private readonly owner: Deadlines,
  ) {}

  cancel(): void {
    if (this.cancelled) return
    this.cancelled = true
    this.owner.cancelledOne()
  }
}

/**
 * Many deadlines on one clock timer: a min-heap by due time, with the timer armed for
 * the earliest. A timer per ask and per async turn cost a quarter of an async turn here.
 */
export class Deadlines {
  private heap: Entry[] = []
  private cancelled = 0
  private timer: TimerHandle | undefined
  private armedAt = Infinity
  /** A check to drop the timer is due (see cancelledOne). */
  private sweeping = false

  constructor(private readonly clock: Clock) {}

  add(at: number, onExpire: () => void): Deadline {
    const entry = new Entry(at, onExpire, this)
    this.heap.push(entry)
    this.up(this.heap.length - 1)
    if (at < this.armedAt) this.arm(at)
    return entry
  }

  cancelledOne(): void {
    if (++this.cancelled === this.heap.length) {
      this.heap.length = 0
      this.cancelled = 0
      // Nothing left to wait for: the timer goes once the event loop turns with none added, so it
      // keeps no process alive. Asks one after another re-use it rather than arm one each.
      if (this.timer !== undefined && !this.sweeping) {
        this.sweeping = true
        setImmediate(() => this.sweep())
      }
      return
    }
    // Rebuild once cancelled entries outnumber live ones, so the heap stays near the live count.
    if (this.cancelled > 64 && this.cancelled * 2 > this.heap.length) {
      this.heap = this.heap.filter((e) => !e.cancelled)
      this.cancelled = 0
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i)
    }
  }

  private sweep(): void {
    this.sweeping = false
    if (this.heap.length !== 0 || this.timer === undefined) return
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.armedAt = Infinity
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.armedAt = at
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()))
  }

  private fire(): void {
    this.timer = undefined
    this.armedAt = Infinity
    const now = this.clock.now()
    const due: Entry[] = []
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const entry = this.pop()
      if (entry.cancelled) this.cancelled--
      else due.push(entry)
    }
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop()
      this.cancelled--
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.at)
    for (const entry of due) {
      entry.cancelled = true
      entry.onExpire()
    }
  }

  private pop(): Entry {
    const top = this.heap[0]!
    const last = this.heap.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = last
      this.down(0)
    }
    return top
  }

  private up(i: number): void {
    const h = this.heap
    const e = h[i]!
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]!.at <= e.at) break
      h[i] = h[p]!
      i = p
    }
    h[i] = e
  }

  private down(i: number): void {
    const h = this.heap
    const e = h[i]!
    for (;;) {
      let c = 2 * i + 1
      if (c >= h.length) break
      if (c + 1 < h.length && h[c + 1]!.at < h[c]!.at) c++
      if (h[c]!.at >= e.at) break
      h[i] = h[c]!
      i = c
    }
    h[i] = e
  }
}
