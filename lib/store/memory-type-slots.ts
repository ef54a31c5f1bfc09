// Types' concurrency slots in memory: the durable host's default when it is given no store of
// them, right for one host, or for hosts in one process given the same one (tests). Hosts in
// several processes need one shared store (DynamoDBTypeSlots, which AwsSystem uses). Each call is
// synchronous, so each is atomic.
import type { SlotLease, TypeSlots, TypeSlotStore } from './index.js'

export class MemoryTypeSlots implements TypeSlotStore {
  private readonly types = new Map<string, { limit: number; leases: Map<string, SlotLease> }>()

  take(type: string, lease: SlotLease, limit: number, reclaim: readonly SlotLease[]): { taken: boolean; slots?: TypeSlots } {
    const slots = this.types.get(type)
    const leases = slots?.leases ?? new Map<string, SlotLease>()
    const still = reclaim.every((r) => {
      const held = leases.get(r.holder)
      return held !== undefined && held.count === r.count && held.expiresAt === r.expiresAt
    })
    const reclaimed = reclaim.reduce((n, r) => n + r.count, 0)
    if (!still || leases.has(lease.holder) || usedOf(leases) - reclaimed + lease.count > limit) return { taken: false, ...(slots ? { slots: view(slots) } : {}) }
    for (const r of reclaim) leases.delete(r.holder)
    if (lease.count !== 0) leases.set(lease.holder, { ...lease })
    const now = { limit, leases }
    this.types.set(type, now)
    return { taken: true, slots: view(now) }
  }

  renew(type: string, holder: string, expiresAt: number): boolean {
    const lease = this.types.get(type)?.leases.get(holder)
    if (lease === undefined) return false
    lease.expiresAt = expiresAt
    return true
  }

  release(type: string, holder: string, count: number): TypeSlots | undefined {
    const slots = this.types.get(type)
    if (slots === undefined || slots.leases.get(holder)?.count !== count) return undefined
    slots.leases.delete(holder)
    return view(slots)
  }

  read(type: string): TypeSlots | undefined {
    const slots = this.types.get(type)
    return slots && view(slots)
  }
}

function usedOf(leases: Map<string, SlotLease>): number {
  let n = 0
  for (const l of leases.values()) n += l.count
  return n
}

function view(slots: { limit: number; leases: Map<string, SlotLease> }): TypeSlots {
  const leases = [...slots.leases.values()].map((l) => ({ ...l }))
  return { limit: slots.limit, used: usedOf(slots.leases), leases }
}
