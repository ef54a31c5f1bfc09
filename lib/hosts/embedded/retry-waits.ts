import type { Clock, TimerHandle } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import type { Dispatcher } from './dispatcher.js'
import type { Instance } from './instance.js'

/**
 * Messages waiting out a retry's backoff. A keyed or singleton instance waits with the message
 * at its head (FIFO per key); unkeyed messages wait alone, each on a timer of its own.
 */
export class RetryWaits {
  private readonly timers = new Map<TimerHandle, Envelope>()

  constructor(
    private readonly clock: Clock,
    private readonly dispatch: Dispatcher,
  ) {}

  later(inst: Instance, envelope: Envelope, delayMs: number): void {
    inst.rt.queued++
    if (inst.maxActive === 1) {
      inst.unshift(envelope)
      this.dispatch.park(inst, delayMs)
      return
    }
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer)
      inst.push(envelope)
      this.dispatch.wake(inst)
    }, delayMs)
    this.timers.set(timer, envelope)
  }

  /** Stops every wait, and returns the unkeyed messages that were waiting alone. */
  cancel(): Envelope[] {
    const waiting: Envelope[] = []
    for (const [timer, envelope] of this.timers) {
      this.clock.clearTimeout(timer)
      waiting.push(envelope)
    }
    this.timers.clear()
    this.dispatch.cancelParks()
    return waiting
  }
}
