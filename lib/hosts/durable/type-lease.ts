// One claim's lease on a type's concurrency slots (type-slots.ts has the whole mechanism): how many
// slots it holds and until when, the groups that run under it, its renewal every half margin, and
// the one update that gives the slots back when its last group is done. Groups are known here only
// by identity, so the batch's types can name a lease without this file naming them.
import type { Clock, TimerHandle } from '../../core/clock.js'
import type { Logger } from '../../core/logger.js'
import type { TypeSlotStore } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'

/** One claim's lease on a type's slots: `count` of them (0: none was free), for the groups of one batch or direct run. */
export class TypeLease {
  /** The lease was reclaimed by another host (it could not be renewed in time): no new turn starts under it. */
  lost = false
  /** Groups of the type in the plan that have not finished; the last to finish gives the slots back. */
  remaining = 0
  /** Slots in use here now. */
  inUse = 0
  private released = false
  private timer: TimerHandle | undefined
  private readonly finished = new Set<object>()
  private readonly running = new Set<object>()

  constructor(
    readonly type: ActorType,
    readonly holder: string,
    readonly count: number,
    private expiresAt: number,
    private readonly times: { leaseMs: number; attemptMs: number; marginMs: number },
    private readonly store: TypeSlotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly plan: { wake(): void },
  ) {}

  /** Whether a turn may start under this lease at `now`: it holds slots, and they outlast the turn's attempt timeout. */
  held(now: number): boolean {
    return this.count !== 0 && !this.lost && now + this.times.attemptMs < this.expiresAt
  }

  /** Starts renewing the lease (every half margin) until it is given back. */
  started(): this {
    this.schedule()
    return this
  }

  /** A worker took `group` into one of this lease's slots. */
  enter(group: object): void {
    this.inUse++
    this.running.add(group)
  }

  /** `group` has finished (once per group; later calls do nothing): its slot is free, and the last group gives the slots back. */
  async done(group: object): Promise<void> {
    if (this.finished.has(group)) return
    this.finished.add(group)
    if (this.running.delete(group)) this.inUse--
    this.remaining--
    this.plan.wake()
    if (this.remaining <= 0) await this.release()
  }

  /** Gives the slots back: one update. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    if (this.count === 0 || this.lost) return
    try {
      await this.store.release(this.type.type, this.holder, this.count)
    } catch (error) {
      // They come back when the lease expires.
      this.logger.warn(`could not give back slots of ${this.type.type}'s concurrency; they are free again when their lease expires`, { actor: this.type.type, error: errorText(error) })
    }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => void this.renew(), this.times.marginMs / 2)
  }

  private async renew(): Promise<void> {
    this.timer = undefined
    if (this.released) return
    const expiresAt = this.clock.now() + this.times.leaseMs
    try {
      const renewed = await this.store.renew(this.type.type, this.holder, expiresAt)
      // Given back while the renewal was on its way: the lease is gone by our own hand, not lost.
      if (this.released) return
      if (renewed) this.expiresAt = Math.max(this.expiresAt, expiresAt)
      else {
        this.lost = true
        this.logger.warn(`a lease on slots of ${this.type.type}'s concurrency was reclaimed before it was renewed; the batch starts no more of its turns, they wait`, { actor: this.type.type })
        this.plan.wake()
        return
      }
    } catch (error) {
      this.logger.warn(`could not renew a lease on slots of ${this.type.type}'s concurrency; trying again`, { actor: this.type.type, error: errorText(error) })
    }
    if (!this.released) this.schedule()
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
