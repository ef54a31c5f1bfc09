import { StoreConflictError } from '../core/errors.js'
import { mapWithout } from '../core/map-without.js'
import { CANCEL_KEPT_MS, supersedes, wholeOrder } from '../core/schedule.js'
import { sameFiring, type StateStore, type StoredInstance, type TimerOrder, type TimerRecord, type TimerStore } from './index.js'

/** Actor state in a Map per type, synchronously (no "type#key" string made per lookup). */
export class MemoryStateStore implements StateStore {
  private readonly types = new Map<string, Map<string, StoredInstance>>()
  private count = 0

  get(type: string, key: string): StoredInstance | undefined {
    return this.types.get(type)?.get(key)
  }

  put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined, expectedUpdatedAt?: number): void {
    let items = this.types.get(type)
    const stored = items?.get(key)
    if (stored?.version !== expectedVersion || (expectedVersion !== undefined && expectedUpdatedAt !== undefined && stored?.updatedAt !== expectedUpdatedAt)) throw new StoreConflictError(`${type}#${key}`, expectedVersion)
    if (items === undefined) this.types.set(type, (items = new Map()))
    if (!items.has(key)) this.count++
    items.set(key, value)
  }

  delete(type: string, key: string): void {
    if (this.types.get(type)?.delete(key) === true) this.count--
  }

  get size(): number {
    return this.count
  }
}

/** Timers in a Map, synchronously; `due` scans, which is fine for the timers one process holds. */
export class MemoryTimerStore implements TimerStore {
  /** Replaced when its last timer goes (map-without.ts). */
  private timers = new Map<string, TimerRecord>()
  /** The records of ordered cancels (TimerStore.delete) by timer id, with when each was made: dropped after CANCEL_KEPT_MS. */
  private cancels = new Map<string, { order: TimerOrder; at: number }>()
  /** The size of `cancels` at which the next record looks for ones to drop. */
  private sweepAt = 64

  put(timer: TimerRecord): void {
    const order = wholeOrder(timer.order)
    if (order !== undefined && !supersedes(order, this.standing(timer.id))) return
    this.cancels.delete(timer.id)
    this.timers.set(timer.id, { ...timer })
  }

  delete(id: string, given?: TimerOrder): void {
    const order = wholeOrder(given)
    if (order === undefined) this.cancels.delete(id)
    else if (!supersedes(order, this.standing(id))) return
    else this.keepCancel(id, order)
    this.timers = mapWithout(this.timers, id)
  }

  /** The order of what stands for timer `id`: the timer's, or its cancel's. */
  private standing(id: string): TimerOrder | undefined {
    return wholeOrder(this.timers.get(id)?.order) ?? this.cancels.get(id)?.order
  }

  private keepCancel(id: string, order: TimerOrder): void {
    const now = Date.now()
    if (this.cancels.size >= this.sweepAt) {
      for (const [cancelled, { at }] of this.cancels) if (now - at > CANCEL_KEPT_MS) this.cancels.delete(cancelled)
      this.sweepAt = Math.max(64, this.cancels.size * 2)
    }
    this.cancels.set(id, { order, at: now })
  }

  get(id: string): TimerRecord | undefined {
    const t = this.timers.get(id)
    return t && { ...t }
  }

  due(now: number, limit: number): TimerRecord[] {
    const out: TimerRecord[] = []
    for (const t of this.timers.values()) if (t.dueAt <= now) out.push({ ...t })
    return out.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : 1)).slice(0, limit)
  }

  next(): number | undefined {
    let next: number | undefined
    for (const t of this.timers.values()) if (next === undefined || t.dueAt < next) next = t.dueAt
    return next
  }

  list(): TimerRecord[] {
    return [...this.timers.values()].map((t) => ({ ...t })).sort((a, b) => a.dueAt - b.dueAt)
  }

  advance(fired: TimerRecord, next: TimerRecord | undefined): boolean {
    const stored = this.timers.get(fired.id)
    if (stored === undefined || !sameFiring(stored, fired)) return false
    if (next !== undefined) this.timers.set(next.id, { ...next })
    else {
      this.timers = mapWithout(this.timers, fired.id)
      // A write of the commit that set it, sent again, does not set it again.
      const order = wholeOrder(fired.order)
      if (order !== undefined) this.keepCancel(fired.id, order)
    }
    return true
  }
}

export function memoryStores(): { state: MemoryStateStore; timers: MemoryTimerStore } {
  return { state: new MemoryStateStore(), timers: new MemoryTimerStore() }
}
