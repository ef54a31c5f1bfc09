// What a host writes of each actor type's backlog beside its counts (lib/metrics/backlog.ts), read
// at each take (the Lambda host takes after every invocation): the messages its own commits left
// parked and the age of the oldest of them, the most slots of a capped type it saw held on every
// host, and the oldest record of each type in the batches it took in. All of it is what the host
// saw: no request is made for it.
//
// A Lambda environment knows the keys it parked; a wake-up may run them in another environment (a
// tick goes to any), which then knows what is left. So a key counts here only until a grace past
// its wake-up: a wake-up due that long ago has run somewhere, and the host that ran it tells what
// it left (else a key run elsewhere would count here for as long as the environment lives).
import type { Clock } from '../core/clock.js'
import { iteratorAgeMs, type TypeBacklog } from '../metrics/backlog.js'

/**
 * How long past its wake-up a parked key still counts: under Lambda the scheduled tick fires a
 * wake-up within its minute, so two minutes covers a late tick.
 */
export const PARKED_WAKE_GRACE_MS = 2 * 60_000

export class BacklogGauges {
  /** The most iterator age seen per type since the last take. */
  private ages = new Map<string, number>()
  /** The most live slots seen per capped type since the last take. */
  private slots = new Map<string, number>()
  /** Types the last take said had messages parked: the next says 0 for those that have none left. */
  private parkedBefore = new Set<string>()

  constructor(
    private readonly clock: Clock,
    /** Messages parked per type by this host's commits, leaving out keys whose wake-up was due before `wokenBefore`. */
    private readonly parked: (wokenBefore: number) => ReadonlyMap<string, { count: number; oldestSentAt: number }>,
  ) {}

  /** A batch was taken in: the oldest arrival of each type's records (epoch ms). */
  arrivals(oldest: ReadonlyMap<string, number>): void {
    const now = this.clock.now()
    for (const [type, at] of oldest) {
      const age = iteratorAgeMs([at], now)
      if (age !== undefined && age >= (this.ages.get(type) ?? -1)) this.ages.set(type, age)
    }
  }

  /** A capped type's slots held by live leases, as a claim, a release or a read answered. */
  slotsSeen(type: string, live: number): void {
    if (live >= (this.slots.get(type) ?? -1)) this.slots.set(type, live)
  }

  /** Each type's backlog since the last take; the ages and slots start again. */
  take(): Map<string, TypeBacklog> {
    const now = this.clock.now()
    const out = new Map<string, TypeBacklog>()
    const of = (type: string) => {
      let b = out.get(type)
      if (!b) out.set(type, (b = {}))
      return b
    }
    const parked = this.parked(now - PARKED_WAKE_GRACE_MS)
    for (const [type, p] of parked) {
      if (p.count === 0) continue
      Object.assign(of(type), { parked: p.count, oldestParkedAgeMs: Math.max(0, now - p.oldestSentAt) })
    }
    // A backlog that ran out says so once, so a graph and an alarm see it fall to 0.
    for (const type of this.parkedBefore) if (!out.get(type)?.parked) Object.assign(of(type), { parked: 0, oldestParkedAgeMs: 0 })
    this.parkedBefore = new Set([...out].filter(([, b]) => (b.parked ?? 0) > 0).map(([type]) => type))
    for (const [type, running] of this.slots) of(type).running = running
    for (const [type, age] of this.ages) of(type).iteratorAgeMs = age
    this.slots = new Map()
    this.ages = new Map()
    return out
  }
}
