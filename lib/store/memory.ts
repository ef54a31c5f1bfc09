import { StoreConflictError } from '../core/errors.js'
import { mapWithout } from '../core/map-without.js'
import { supersedes } from '../core/schedule.js'
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
  /** The marks of ordered cancels (TimerStore.delete), by timer id; dropped once a later write finds them past `until`. */
  private cancels = new Map<string, TimerOrder>()
  /** The size of `cancels` at which the next ordered write drops the marks past their `until`. */
  private sweepAt = 64

  put(timer: TimerRecord): void {
    if (timer.order !== undefined && !this.supersedes(timer.id, timer.order)) return
    this.cancels.delete(timer.id)
    this.timers.set(timer.id, { ...timer })
  }

  delete(id: string, order?: TimerOrder): void {
    if (order === undefined) this.cancels.delete(id)
    else if (!this.supersedes(id, order)) return
    else this.cancels.set(id, order)
    this.timers = mapWithout(this.timers, id)
  }

  /** Whether a write of `order` takes the place of what stands for timer `id`. */
  private supersedes(id: string, order: TimerOrder): boolean {
    if (this.cancels.size >= this.sweepAt) {
      for (const [cancelled, mark] of this.cancels) if (mark.until < order.at) this.cancels.delete(cancelled)
      this.sweepAt = Math.max(64, this.cancels.size * 2)
    }
    return supersedes(order, this.timers.get(id)?.order ?? this.cancels.get(id))
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
    if (next === undefined) this.timers = mapWithout(this.timers, fired.id)
    else this.timers.set(next.id, { ...next })
    return true
  }
}

export function memoryStores(): { state: MemoryStateStore; timers: MemoryTimerStore } {
  return { state: new MemoryStateStore(), timers: new MemoryTimerStore() }
}
