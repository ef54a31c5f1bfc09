// The slots of capped types (`policy.concurrency`) as this process last saw them, for `inspect()`:
// the store of slots its host uses, watched. Every claim and release of the host answers with the
// type's item (its leases), at no extra request; a type this process has not claimed lately (under
// Lambda it claims none: the functions run the turns) is read again when `inspect()` asks, at most
// once a second per type, in the background, so `running` is what the table said then. The live
// leases' slots are the type's turns that may be under way across every host.
import type { Clock } from '../core/clock.js'
import type { Logger } from '../core/logger.js'
import { liveSlots } from '../hosts/durable/type-slots.js'
import type { SlotLease, TypeSlots, TypeSlotStore } from '../store/index.js'

/** How old a type's slots may be before `running` reads them again. */
const FRESH_MS = 1_000

export class RunningSlots implements TypeSlotStore {
  private readonly seen = new Map<string, { slots: TypeSlots | undefined; at: number }>()
  private readonly reading = new Map<string, Promise<void>>()

  constructor(
    private readonly store: TypeSlotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Told the live slots of a type each time they are seen (the host's metrics keep the most of them). */
    private readonly onSeen?: (type: string, live: number) => void,
  ) {}

  async take(type: string, lease: SlotLease, limit: number, reclaim: readonly SlotLease[]): Promise<{ taken: boolean; slots?: TypeSlots }> {
    const result = await this.store.take(type, lease, limit, reclaim)
    if (result.slots !== undefined) this.note(type, result.slots)
    return result
  }

  renew(type: string, holder: string, expiresAt: number): Promise<boolean> {
    return Promise.resolve(this.store.renew(type, holder, expiresAt))
  }

  async release(type: string, holder: string, count: number): Promise<TypeSlots | undefined> {
    const slots = await this.store.release(type, holder, count)
    if (slots !== undefined) this.note(type, slots)
    return slots
  }

  async read(type: string): Promise<TypeSlots | undefined> {
    const slots = await this.store.read(type)
    this.note(type, slots)
    return slots
  }

  /**
   * The type's slots held by live leases, as last seen (undefined when never seen yet); reads
   * them again in the background when that was over a second ago.
   */
  running(type: string): number | undefined {
    const now = this.clock.now()
    const seen = this.seen.get(type)
    if ((seen === undefined || now - seen.at >= FRESH_MS) && !this.reading.has(type)) {
      const reading = this.read(type)
        .then(() => undefined)
        .catch((error: unknown) => this.logger.debug("could not read a type's concurrency slots", { actor: type, error: error instanceof Error ? error.message : String(error) }))
        .finally(() => this.reading.delete(type))
      this.reading.set(type, reading)
    }
    return seen === undefined ? undefined : liveSlots(seen.slots, now)
  }

  /** Resolves once the reads `running` started are done (for tests and settling). */
  async settled(): Promise<void> {
    await Promise.all([...this.reading.values()])
  }

  private note(type: string, slots: TypeSlots | undefined): void {
    const now = this.clock.now()
    this.seen.set(type, { slots, at: now })
    this.onSeen?.(type, liveSlots(slots, now))
  }
}
