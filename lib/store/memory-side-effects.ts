// The records of `ctx.once` side effects in memory, answered synchronously (a durable host on
// memory waits on nothing). Bounded like the memory journal: past the limit the record written
// longest ago goes first, and is counted.
import { ConfigError } from '../core/errors.js'
import { PINNED_UNTIL, type SideEffectRecord, type SideEffectStore } from './index.js'

export interface MemorySideEffectsOptions {
  /** Records kept; past it, the one written longest ago is dropped (and counted in `dropped`). @default 100_000 */
  limit?: number
}

export class MemorySideEffects implements SideEffectStore {
  /** keyOf(messageId, name) → record. */
  private readonly records = new Map<string, SideEffectRecord>()
  private readonly limit: number
  /** Records the limit dropped, so that a loss is never silent. */
  dropped = 0

  constructor(options: MemorySideEffectsOptions = {}) {
    const limit = options.limit ?? 100_000
    if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`MemorySideEffectsOptions.limit must be a whole number of at least 1, got ${limit}`)
    this.limit = limit
  }

  get(messageId: string, name: string, now: number): SideEffectRecord | undefined {
    const record = this.records.get(keyOf(messageId, name))
    return record !== undefined && record.expiresAt > now ? { ...record } : undefined
  }

  put(record: SideEffectRecord): void {
    const key = keyOf(record.messageId, record.name)
    // Deleted first, so a rewritten record counts as the newest.
    this.records.delete(key)
    this.records.set(key, { ...record })
    if (this.records.size > this.limit) {
      this.records.delete(this.records.keys().next().value!)
      this.dropped++
    }
  }

  pin(messageId: string, deadAt: number): void {
    for (const [key, record] of this.records) {
      // Only a later death moves a pin: a late copy of an older letter's write leaves it where it is.
      if (key.startsWith(prefixOf(messageId)) && !(record.pinnedBy !== undefined && record.pinnedBy >= deadAt)) this.records.set(key, { ...record, expiresAt: PINNED_UNTIL, pinnedBy: deadAt })
    }
  }

  unpin(messageId: string, deadAt: number, expiresAt: number): void {
    for (const [key, record] of this.records) {
      if (!key.startsWith(prefixOf(messageId)) || record.pinnedBy !== deadAt) continue
      const { pinnedBy: _, ...rest } = record
      this.records.set(key, { ...rest, expiresAt })
    }
  }

  claim(record: SideEffectRecord, now: number): SideEffectRecord | undefined {
    const there = this.get(record.messageId, record.name, now)
    if (there !== undefined) return there
    this.put(record)
    return undefined
  }
}

/** The pair as one key: the id's length first, so no id and name can run into another pair's. */
function keyOf(messageId: string, name: string): string {
  return `${prefixOf(messageId)}${name}`
}

/** What the keys of a message's records start with, and no other message's. */
function prefixOf(messageId: string): string {
  return `${messageId.length}:${messageId}`
}
