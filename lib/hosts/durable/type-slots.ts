// A type's concurrency (`policy.concurrency`: at most N turns of the type at once) in the durable
// host, across every host that runs the app: its shard consumers, Lambda environments, several
// batches of one shard (ParallelizationFactor). The type's slots live in an item of their own
// (store: TypeSlotStore), as leases: a holder (one batch's claim), how many slots, until when.
//
//   before a batch runs   each capped type's groups say how many slots they could use at once
//                         (at most the limit and the batch's workers), and ONE conditional update
//                         per type takes them (`used <= limit - n`); when that fails, the item is
//                         read (DynamoDB sends it with the failure) and a second update takes what
//                         is free, reclaiming the leases that expired;
//   while it runs         the batch runs at most that many of the type's groups at once (SlotPlan
//                         hands a worker a capped group only while one of its slots is free here);
//                         a keyed or singleton group runs its turns one at a time, a stateless
//                         group is one turn, so turns at once ≤ slots held ≤ the limit;
//   when it ends          the type's last group gives the slots back: ONE update.
//
// A group whose type got no slot (all are held elsewhere) waits as a throttled message waits: it is
// parked in its instance's item (a stateless message in its waiting item) with its receipt saying
// `throttled` and a durable wake-up, in order per key (run-throttles.ts); the wake-up run claims a
// slot of its own. A keyed actor without state has no item to wait in: its message is left in the
// stream and comes again.
//
// Leases expire, so the slots of a host that dies holding them come back: a lease lasts longer than
// the longest attempt (`attemptTimeoutMs`) by a margin, and is renewed every half margin while its
// batch runs; a turn starts only while the lease covers its attempt timeout. A claim that finds the
// slots full reclaims the leases past their expiry (each only as it read it, so a renewal in
// between wins). A holder whose lease was reclaimed (it could not renew in time) starts no new turn
// of the type: what is left parks.
import { randomBytes } from 'node:crypto'
import type { Clock, TimerHandle } from '../../core/clock.js'
import type { Logger } from '../../core/logger.js'
import type { SlotLease, TypeSlots, TypeSlotStore } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { Group } from './durable-batch.js'
import { errorText, TypeLease } from './type-lease.js'
import { typeRate } from './type-rates.js'

/** How long a message parked for want of a slot waits before its wake-up claims one again. */
export const SLOT_RETRY_MS = 1_000
/** The lease base of a type whose attempts have no timeout (`attemptTimeoutMs: 0`): renewal keeps it. */
const UNTIMED_ATTEMPT_MS = 5 * 60_000
/** The least margin a lease has over the attempt timeout. */
const MIN_MARGIN_MS = 10_000
/** Rounds of read and take when other hosts change the slots in between. */
const MAX_CLAIM_ROUNDS = 4

/** The slots a type may hold at once across every host: its declared `policy.concurrency`; undefined when it declares none (no lease is taken). */
export function slotLimit(type: ActorType): number | undefined {
  const declared = (type.cls as { policy?: { concurrency?: unknown } }).policy?.concurrency
  return declared === undefined || !Number.isFinite(type.policy.concurrency) ? undefined : type.policy.concurrency
}

/** How long a lease on `type`'s slots lasts, and the part of it that is margin over an attempt. */
export function leaseTimes(type: ActorType): { leaseMs: number; attemptMs: number; marginMs: number } {
  const attemptMs = type.policy.attemptTimeoutMs > 0 ? type.policy.attemptTimeoutMs : UNTIMED_ATTEMPT_MS
  const marginMs = Math.max(MIN_MARGIN_MS, attemptMs / 2)
  // A turn starts only while the lease outlasts `attemptMs`: for an untimed type, the base the lease is sized by.
  return { leaseMs: attemptMs + marginMs, attemptMs, marginMs }
}

/**
 * Whether a stateless group parks at once, before the batch runs anything (the shard's memory must
 * say so first: stateless-memory.ts): its type's rate dealt it no token earned now, or its type
 * got no slot.
 */
export function parksAtOnce(group: Group, now: number): boolean {
  const grant = group.grant
  if (grant === undefined) return false
  if (typeRate(group.type) !== undefined && !((grant.times[0] ?? Infinity) <= now)) return true
  return grant.slot !== undefined && grant.slot.count === 0 && group.type.kind === 'stateless'
}

/** The host's claims on types' slots: one lease per capped type per batch (or direct run). */
export class TypeSlotClaims {
  /** This host's part of every holder id: holders are unique per claim, across hosts. */
  private readonly tag = randomBytes(6).toString('hex')
  private seq = 0

  constructor(
    private readonly store: TypeSlotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Groups a batch runs at once: no batch needs more slots than that. */
    private readonly workers: number,
  ) {}

  /**
   * Claims the slots `groups` need, one lease per capped type, and gives each of their groups the
   * lease (`grant.slot`); resolves to the plan that hands the groups to the batch's workers.
   */
  async plan(groups: readonly Group[], now: number): Promise<SlotPlan> {
    const byType = new Map<ActorType, Group[]>()
    for (const g of groups) {
      if (slotLimit(g.type) === undefined || !needsSlot(g)) continue
      let list = byType.get(g.type)
      if (!list) byType.set(g.type, (list = []))
      list.push(g)
    }
    const plan = new SlotPlan(groups, this.clock)
    await Promise.all(
      [...byType].map(async ([type, list]) => {
        const lease = await this.claim(type, Math.min(list.length, slotLimit(type)!, this.workers), now, plan)
        lease.remaining = list.length
        for (const g of list) g.grant = { ...(g.grant ?? { times: [], nextAt: now }), slot: lease }
      }),
    )
    plan.arrange()
    return plan
  }

  /** Takes up to `want` of the type's slots: one update; a read and a second when the first finds too few free. */
  private async claim(type: ActorType, want: number, now: number, plan: SlotPlan): Promise<TypeLease> {
    const limit = slotLimit(type)!
    const times = leaseTimes(type)
    const holder = `${this.tag}.${++this.seq}`
    const expiresAt = now + times.leaseMs
    const lease = (count: number) => new TypeLease(type, holder, count, expiresAt, times, this.store, this.clock, this.logger, plan)
    try {
      let result = await this.store.take(type.type, { holder, count: want, expiresAt }, limit, [])
      if (result.taken) return lease(want).started()
      for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
        const slots: TypeSlots = result.slots ?? (await this.store.read(type.type)) ?? { limit, used: 0, leases: [] }
        const expired = slots.leases.filter((l) => l.expiresAt <= now)
        const free = limit - (slots.used - expired.reduce((n, l) => n + l.count, 0))
        const n = Math.min(want, free)
        if (n <= 0) return lease(0)
        result = await this.store.take(type.type, { holder, count: n, expiresAt }, limit, expired)
        if (result.taken) return lease(n).started()
      }
    } catch (error) {
      // No slot: the type's messages wait in their items and their wake-ups claim again.
      this.logger.warn("could not claim slots of the type's concurrency; its messages wait", { actor: type.type, error: errorText(error) })
    }
    return lease(0)
  }
}

/** Whether a group may run a turn: a copy of a stateless message runs none, nor does a paused type. */
function needsSlot(group: Group): boolean {
  return group.copy !== true && group.typePaused !== true
}

/**
 * Hands a batch's groups to its workers: a group of a capped type that holds slots only while one
 * of them is free here; any other group at once (one of a type that got no slot parks). `next`
 * waits while only capped groups are left and their slots are in use.
 */
export class SlotPlan {
  private readonly free: Group[] = []
  private freeAt = 0
  private readonly capped = new Map<TypeLease, Group[]>()
  private waiters: (() => void)[] = []

  constructor(
    private readonly groups: readonly Group[],
    private readonly clock: Clock,
  ) {}

  /** Sorts the groups into those that wait for a slot here and those that go at once, in their order. */
  arrange(): void {
    for (const g of this.groups) {
      const lease = g.grant?.slot
      if (lease === undefined || lease.count === 0 || !needsSlot(g)) {
        this.free.push(g)
        continue
      }
      let queue = this.capped.get(lease)
      if (!queue) this.capped.set(lease, (queue = []))
      queue.push(g)
    }
  }

  /** The next group to run, or undefined when none is left. */
  async next(): Promise<Group | undefined> {
    for (;;) {
      let waiting = false
      for (const [lease, queue] of this.capped) {
        if (queue.length === 0) continue
        // The lease was lost, or no longer outlasts a turn: what is left goes without a slot, and parks.
        if (!lease.held(this.clock.now())) return queue.shift()!
        if (lease.inUse < lease.count) {
          const group = queue.shift()!
          lease.enter(group)
          return group
        }
        waiting = true
      }
      if (this.freeAt < this.free.length) return this.free[this.freeAt++]
      if (!waiting) return undefined
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Gives back every lease of the plan: its groups will not run (the batch is delivered again). */
  async abandon(): Promise<void> {
    const leases = new Set<TypeLease>()
    for (const g of this.groups) if (g.grant?.slot !== undefined) leases.add(g.grant.slot)
    await Promise.all([...leases].map((l) => l.release()))
  }

  /** A slot came free, or a lease was lost: the workers waiting look again. */
  wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/** The live leases' slots of a type at `now`: turns of it that may be under way, across every host. */
export function liveSlots(slots: TypeSlots | undefined, now: number): number {
  return (slots?.leases ?? []).filter((l: SlotLease) => l.expiresAt > now).reduce((n, l) => n + l.count, 0)
}

