// A type's concurrency (`policy.concurrency`: at most N turns of the type at once) in the durable
// host, across every host that runs the app: its shard consumers, Lambda environments, several
// batches of one shard (ParallelizationFactor). The type's slots live in an item of their own
// (store: TypeSlotStore), as leases: a holder (one claim), how many slots, until when.
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
//   when it ends          the type's last group gives the slots back: ONE update; or, in a host
//                         that keeps leases (`keepMs`, a shard consumer), the lease is kept for the
//                         next batch here, which takes it on with no write at all.
//
// Keeping a lease (the rule). A lease outlives its batch only when all of these hold, else it is
// given back at once as above:
//   - the host keeps leases (`keepMs` > 0): a process whose timers run between batches, so it can
//     give an idle lease back. A Lambda environment is frozen between invocations and could not:
//     its leases are given back at the end of each batch, and the cap costs it two updates a batch;
//   - the claim that took it left slots free (its first update succeeded and `used` < N after it):
//     where the cap is reached, other hosts may be waiting, and a host does not sit on slots then;
//   - it is younger than half its margin (its first renewal): a host under steady load claims
//     again that often, so it sees the item anew and stops keeping once the cap is reached.
// A kept lease that no batch takes on within `keepMs` (or by that age) is given back, and at stop
// every kept lease is. So a host sits on slots it does not use for at most `keepMs`, never more
// than its last batches held (one lease per batch that ran at once: several shards, or
// ParallelizationFactor), and never while the cap was full at its claim. A later batch of the
// same type takes on a kept lease holding at least the slots it wants; its turns start under it
// only while it outlasts their attempt timeout, as with a fresh one, and one batch at a time holds
// it, so turns at once ≤ slots held still. A killed host's kept leases expire as any other.
//
// A group whose type got no slot (all are held elsewhere) waits as a throttled message waits: it is
// parked in its instance's item (a stateless message in its waiting item) with its receipt saying
// `throttled` and a durable wake-up, in order per key (run-throttles.ts); the wake-up run claims a
// slot of its own. Each waits a random part of SLOT_RETRY_MS (type-lease.ts), so keys parked
// together do not come back together. A keyed actor without state has no item to wait in: its
// batch waits as long (within its deadline) and leaves the message in the stream, which delivers
// it again (group-runner.ts).
//
// Leases expire, so the slots of a host that dies holding them come back: a lease lasts longer than
// the longest attempt (`attemptTimeoutMs`) by a margin, and is renewed every half margin until it
// is given back; a turn starts only while the lease covers its attempt timeout. A claim that finds
// the slots full reclaims the leases past their expiry (each only as it read it, so a renewal in
// between wins). A holder whose lease was reclaimed (it could not renew in time) starts no new turn
// of the type: what is left parks.
import { randomBytes } from 'node:crypto'
import type { Clock, TimerHandle } from '../../core/clock.js'
import type { Logger } from '../../core/logger.js'
import type { SlotLease, TypeSlots, TypeSlotStore } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { Group } from './durable-batch.js'
import { errorText, TypeLease, type LeaseParts } from './type-lease.js'
import { typeRate } from './type-rates.js'

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

/** The host's claims on types' slots: one lease per capped type per batch (or direct run), kept for the next batch where the rule above lets it. */
export class TypeSlotClaims {
  /** This host's part of every holder id: holders are unique per claim, across hosts. */
  private readonly tag = randomBytes(6).toString('hex')
  private seq = 0
  private readonly parts: LeaseParts
  /** How long a lease whose batch ended is kept for the next batch here; 0: given back at once. */
  private readonly keepMs: number
  /** Leases kept for the next batch, by type, each with the timer that gives it back. */
  private readonly kept = new Map<ActorType, { lease: TypeLease; timer: TimerHandle }[]>()
  /** Kept leases being given back after their idle time: `giveBackKept` waits for them too. */
  private readonly giving = new Set<Promise<void>>()
  /** After `giveBackKept`: no lease is kept any more. */
  private stopped = false

  constructor(
    store: TypeSlotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Groups a batch runs at once: no batch needs more slots than that. */
    private readonly workers: number,
    options: { keepMs?: number; random?: () => number } = {},
  ) {
    this.keepMs = options.keepMs ?? 0
    this.parts = { store, clock, logger, random: options.random ?? Math.random, ended: (lease) => this.ended(lease) }
  }

  /**
   * Claims the slots `groups` need, one lease per capped type (a kept one when it covers them),
   * and gives each of their groups the lease (`grant.slot`); resolves to the plan that hands the
   * groups to the batch's workers.
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
        const want = Math.min(list.length, slotLimit(type)!, this.workers)
        const lease = (await this.reuse(type, want, now, plan)) ?? (await this.claim(type, want, now, plan))
        lease.remaining = list.length
        for (const g of list) g.grant = { ...(g.grant ?? { times: [], nextAt: now }), slot: lease }
      }),
    )
    plan.arrange()
    return plan
  }

  /** Gives back every kept lease, and keeps none from now on (the host stops); resolves once all of them are back. */
  async giveBackKept(): Promise<void> {
    this.stopped = true
    const all = [...this.kept.values()].flat()
    this.kept.clear()
    for (const { timer } of all) this.clock.clearTimeout(timer)
    await Promise.all([...all.map(({ lease }) => lease.release()), ...this.giving])
  }

  /**
   * The kept lease of `type` holding the fewest slots of those holding at least `want`, taken on by
   * `plan` (no write); when none fits, the kept ones are given back first, so the claim may take
   * their slots. The smallest that fits, not the first: batches of several lanes end and start
   * in any order, and one that took a larger lease than it needs would leave the lane that needs
   * it none that fits, and a claim.
   */
  private async reuse(type: ActorType, want: number, now: number, plan: SlotPlan): Promise<TypeLease | undefined> {
    const kept = this.kept.get(type)
    if (kept === undefined || kept.length === 0) return undefined
    let fit = -1
    kept.forEach((k, i) => {
      if (k.lease.reusable(want, now) && (fit === -1 || k.lease.count < kept[fit]!.lease.count)) fit = i
    })
    const taken = fit === -1 ? kept.splice(0) : kept.splice(fit, 1)
    for (const k of taken) this.clock.clearTimeout(k.timer)
    if (fit !== -1) return taken[0]!.lease.reuse(plan)
    await Promise.all(taken.map((k) => k.lease.release()))
    return undefined
  }

  /** A lease's batch is done with it: kept for the next batch while the rule lets it (for `keepMs`, at most until it may no longer be taken on), else given back. */
  private async ended(lease: TypeLease): Promise<void> {
    const now = this.clock.now()
    if (this.stopped || this.keepMs <= 0 || !lease.reusable(1, now)) return lease.release()
    let kept = this.kept.get(lease.type)
    if (!kept) this.kept.set(lease.type, (kept = []))
    const timer = this.clock.setTimeout(() => {
      const list = this.kept.get(lease.type) ?? []
      const at = list.findIndex((k) => k.lease === lease)
      if (at === -1) return
      list.splice(at, 1)
      const giving = lease.release().finally(() => this.giving.delete(giving))
      this.giving.add(giving)
    }, Math.min(this.keepMs, lease.reuseUntil - now))
    kept.push({ lease, timer })
  }

  /** Takes up to `want` of the type's slots: one update; a read and a second when the first finds too few free. */
  private async claim(type: ActorType, want: number, now: number, plan: SlotPlan): Promise<TypeLease> {
    const limit = slotLimit(type)!
    const times = leaseTimes(type)
    const holder = `${this.tag}.${++this.seq}`
    const expiresAt = now + times.leaseMs
    const lease = (count: number, reuseUntil = 0) => new TypeLease(type, holder, count, expiresAt, times, this.parts, plan, reuseUntil)
    const { store } = this.parts
    try {
      let result = await store.take(type.type, { holder, count: want, expiresAt }, limit, [])
      // Slots left free after it: the lease may be kept for the next batch here, up to its first renewal.
      if (result.taken) return lease(want, this.keepMs > 0 && result.slots !== undefined && result.slots.used < limit ? now + times.marginMs / 2 : 0).started()
      for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
        const slots: TypeSlots = result.slots ?? (await store.read(type.type)) ?? { limit, used: 0, leases: [] }
        const expired = slots.leases.filter((l) => l.expiresAt <= now)
        const free = limit - (slots.used - expired.reduce((n, l) => n + l.count, 0))
        const n = Math.min(want, free)
        if (n <= 0) {
          // troupe keeps `used` the sum of the leases in one update each: any other sum was written by hand.
          const held = slots.leases.reduce((sum, l) => sum + l.count, 0)
          if (slots.used !== held) this.logger.warn(`the slots item of ${type.type} (running#${type.type}, slots) says ${slots.used} slots are used while its leases (h:…) hold ${held}: changed by hand? its messages wait until used is set to ${held}`, { actor: type.type })
          return lease(0)
        }
        result = await store.take(type.type, { holder, count: n, expiresAt }, limit, expired)
        if (result.taken) return lease(n).started()
      }
      // Free slots read, and every take refused: hosts raced for the last slots, or an item whose
      // `used` is not a number (written by hand) refuses all, and reads as none.
      if ((await store.read(type.type)) === undefined) this.logger.warn(`the slots item of ${type.type} (running#${type.type}, slots) refused ${MAX_CLAIM_ROUNDS + 1} takes in a row and holds no used as troupe writes it (a number, the sum of its leases h:…): changed by hand? its messages wait until used is set`, { actor: type.type })
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

