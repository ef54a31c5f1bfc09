// One claim's lease on a type's concurrency slots (type-slots.ts has the whole mechanism): how many
// slots it holds and until when, the groups of the batch that runs under it now, its renewal every
// half margin, and what happens when that batch's last group is done (the claims keep it for the
// next batch here, or give it back: one update). Groups are known here only by identity, so the
// batch's types can name a lease without this file naming them.
import type { Clock, TimerHandle } from '../../core/clock.js'
import type { Logger } from '../../core/logger.js'
import type { TypeSlotStore } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'

/**
 * The longest a message parked for want of a slot waits before its wake-up claims again. Each
 * waits a random part of it (full jitter, mean half of it): keys parked together, by one batch or
 * by many hosts, come back spread out instead of all at once on the slots' item.
 */
export const SLOT_RETRY_MS = 2_000

/** A wait before claiming a slot again: full jitter up to SLOT_RETRY_MS (`random` 1 gives all of it), at least 1 ms. */
export function slotRetryMs(random: () => number): number {
  return Math.max(1, Math.round(random() * SLOT_RETRY_MS))
}

/** What a lease shares with the claims that made it (type-slots.ts). */
export interface LeaseParts {
  store: TypeSlotStore
  clock: Clock
  logger: Logger
  random: () => number
  /** The lease's batch is done with it: kept for a next batch here, or given back. */
  ended(lease: TypeLease): Promise<void>
}

/** One claim's lease on a type's slots: `count` of them (0: none was free), for the groups of one batch (or direct run) at a time. */
export class TypeLease {
  /** The lease was reclaimed by another host (it could not be renewed in time): no new turn starts under it. */
  lost = false
  /** Groups of the type in the batch that have not finished; the last to finish ends the batch's use of the lease. */
  remaining = 0
  /** Slots in use here now. */
  inUse = 0
  private released = false
  private timer: TimerHandle | undefined
  private finished = new Set<object>()
  private running = new Set<object>()

  constructor(
    readonly type: ActorType,
    readonly holder: string,
    readonly count: number,
    private expiresAt: number,
    private readonly times: { leaseMs: number; attemptMs: number; marginMs: number },
    private readonly parts: LeaseParts,
    private plan: { wake(): void },
    /** Until when a later batch here may take the lease on (type-slots.ts says when a lease is kept); 0: never. */
    readonly reuseUntil = 0,
  ) {}

  /** Whether a turn may start under this lease at `now`: it holds slots, and they outlast the turn's attempt timeout. */
  held(now: number): boolean {
    return this.count !== 0 && !this.lost && !this.released && now + this.times.attemptMs < this.expiresAt
  }

  /** Whether a later batch wanting `want` slots may take the lease on at `now`, with no write. */
  reusable(want: number, now: number): boolean {
    return want <= this.count && now < this.reuseUntil && this.held(now)
  }

  /** A later batch takes the lease on: its groups start counting afresh, and its plan is woken. */
  reuse(plan: { wake(): void }): this {
    this.plan = plan
    this.remaining = 0
    this.inUse = 0
    this.finished = new Set()
    this.running = new Set()
    return this
  }

  /** How long a message that found no slot under this lease waits before claiming again (drawn anew each time). */
  retryMs(): number {
    return slotRetryMs(this.parts.random)
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

  /** `group` has finished (once per group; later calls do nothing): its slot is free, and the last group ends the batch's use. */
  async done(group: object): Promise<void> {
    if (this.finished.has(group)) return
    this.finished.add(group)
    if (this.running.delete(group)) this.inUse--
    this.remaining--
    this.plan.wake()
    if (this.remaining <= 0) await this.parts.ended(this)
  }

  /** Gives the slots back: one update. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer !== undefined) this.parts.clock.clearTimeout(this.timer)
    this.timer = undefined
    if (this.count === 0 || this.lost) return
    try {
      await this.parts.store.release(this.type.type, this.holder, this.count)
    } catch (error) {
      // They come back when the lease expires.
      this.parts.logger.warn(`could not give back slots of ${this.type.type}'s concurrency; they are free again when their lease expires`, { actor: this.type.type, error: errorText(error) })
    }
  }

  private schedule(): void {
    this.timer = this.parts.clock.setTimeout(() => void this.renew(), this.times.marginMs / 2)
  }

  private async renew(): Promise<void> {
    this.timer = undefined
    if (this.released) return
    const expiresAt = this.parts.clock.now() + this.times.leaseMs
    try {
      const renewed = await this.parts.store.renew(this.type.type, this.holder, expiresAt)
      // Given back while the renewal was on its way: the lease is gone by our own hand, not lost.
      if (this.released) return
      if (renewed) this.expiresAt = Math.max(this.expiresAt, expiresAt)
      else {
        this.lost = true
        this.parts.logger.warn(`a lease on slots of ${this.type.type}'s concurrency was reclaimed before it was renewed; the batch starts no more of its turns, they wait`, { actor: this.type.type })
        this.plan.wake()
        return
      }
    } catch (error) {
      this.parts.logger.warn(`could not renew a lease on slots of ${this.type.type}'s concurrency; trying again`, { actor: this.type.type, error: errorText(error) })
    }
    if (!this.released) this.schedule()
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
