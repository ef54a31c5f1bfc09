import type { Clock, TimerHandle } from '../../core/clock.js'
import * as d from '../../core/defaults.js'
import { detached } from '../../turn/turn-trace.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** What the dispatcher asks of its host. */
export interface DispatchHooks {
  /** Runs one attempt of the message just shifted from `inst`; a promise only if the turn is async. */
  turn(inst: Instance, now: number): Promise<void> | undefined
  /** A turn waits for a token of its key's or its type's bucket. */
  throttled(inst: Instance, waitMs: number, scope: 'key' | 'type', now: number): void
}

/**
 * Decides when turns run: workers per instance (one for keyed and singleton instances,
 * up to the type's concurrency for stateless ones, a new one only while all others wait
 * for async turns, so synchronous turns run back to back in one worker), caps per type and for the system,
 * fair turns between instances in line, token buckets, and parking for retries and tokens.
 */
export class Dispatcher {
  /** Workers running now, across all types. */
  running = 0
  private readonly parkTimers = new Map<Instance, TimerHandle>()

  constructor(
    private readonly clock: Clock,
    private readonly maxRunning: number,
    private readonly runtimes: readonly ActorRuntime[],
    private readonly hooks: DispatchHooks,
  ) {}

  /** Starts workers on an instance while it has work and slots are free; otherwise puts it in line. */
  wake(inst: Instance): void {
    const rt = inst.rt
    while (inst.hasWork()) {
      if (rt.running >= rt.policy.concurrency || this.running >= this.maxRunning) {
        if (!inst.waiting) {
          inst.waiting = true
          rt.waiting.push(inst)
        }
        return
      }
      inst.active++
      rt.running++
      this.running++
      // Never run a turn inside the caller's tell: start on a fresh microtask, outside the caller's span.
      queueMicrotask(detached(() => void this.work(inst)))
    }
  }

  /** A slot came free: hand it to the next instance in line, this type first. */
  private refill(rt: ActorRuntime): void {
    this.drainWaiting(rt)
    if (this.running < this.maxRunning) for (const other of this.runtimes) if (other !== rt && other.waiting.length) this.drainWaiting(other)
  }

  private drainWaiting(rt: ActorRuntime): void {
    while (rt.waiting.length !== 0 && rt.running < rt.policy.concurrency && this.running < this.maxRunning) {
      const inst = rt.waiting.shift()!
      inst.waiting = false
      this.wake(inst)
    }
  }

  /** One worker: runs turns from the instance's mailbox until it is empty, parked, or its slice is used. */
  private async work(inst: Instance): Promise<void> {
    const rt = inst.rt
    const mailbox = inst.mailbox
    let inRow = 0
    let slice = 0
    // Read once, then again after every wait: back-to-back synchronous turns share a reading.
    let now = this.clock.now()
    try {
      if (inst.loading !== undefined) {
        await inst.loading
        now = this.clock.now()
      }
      for (;;) {
        if (inst.parked || mailbox.size === 0 || inst.paused) break
        if ((rt.typeBucket !== undefined || inst.bucket !== undefined) && !this.takeToken(inst, now)) break
        mailbox.shift()
        rt.queued--
        const pending = this.hooks.turn(inst, now)
        if (pending !== undefined) {
          // While this turn waits, another worker takes the next message (stateless types run many).
          inst.awaiting++
          if (inst.maxActive > 1) this.wake(inst)
          try {
            await pending
          } finally {
            inst.awaiting--
          }
          inRow = 0
          now = this.clock.now()
        } else if (++inRow >= d.TURNS_BEFORE_YIELD) {
          inRow = 0
          await yieldToEventLoop()
          now = this.clock.now()
        }
        if (++slice >= d.TURNS_PER_SLICE) {
          slice = 0
          now = this.clock.now()
          if (rt.waiting.length !== 0 || this.running >= this.maxRunning) {
            // Let waiting instances have the slot; this one goes to the back of the line.
            if (mailbox.size !== 0 && !inst.waiting) {
              inst.waiting = true
              rt.waiting.push(inst)
            }
            break
          }
        }
      }
    } finally {
      inst.active--
      rt.running--
      this.running--
      this.refill(rt)
      if (!inst.waiting) this.wake(inst)
    }
  }

  /** Takes a token from the type's and the key's bucket, or parks the instance until one is due. */
  private takeToken(inst: Instance, now: number): boolean {
    const rt = inst.rt
    const keyWait = inst.bucket?.waitMs(now) ?? 0
    const typeWait = keyWait === 0 ? (rt.typeBucket?.waitMs(now) ?? 0) : 0
    const waitMs = keyWait || typeWait
    if (waitMs === 0) {
      inst.bucket?.take()
      rt.typeBucket?.take()
      return true
    }
    this.hooks.throttled(inst, waitMs, keyWait ? 'key' : 'type', now)
    this.park(inst, waitMs)
    return false
  }

  park(inst: Instance, ms: number): void {
    inst.parked = true
    const timer = this.clock.setTimeout(() => {
      this.parkTimers.delete(inst)
      inst.parked = false
      this.wake(inst)
    }, ms)
    this.parkTimers.set(inst, timer)
  }

  /** Clears every parking timer (stop past its timeout); the parked instances stay parked. */
  cancelParks(): void {
    for (const timer of this.parkTimers.values()) this.clock.clearTimeout(timer)
    this.parkTimers.clear()
  }
}
