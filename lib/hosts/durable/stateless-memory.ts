// A shard's memory of the stateless messages it ran: stateless actors keep no item of their own,
// so the copies of their messages are recognised here, one item per shard (`troupe.stateless`,
// key `stream/shardId`), read with the batch's state and written once per batch, after the
// batch's stateless turns have sent their messages (lane-memory.ts, docs/guarantees.md).
import type { Origin } from '../../core/envelope.js'
import { StoreConflictError } from '../../core/errors.js'
import { encode } from '../../core/serialization.js'
import type { StateStore, StoredInstance } from '../../store/index.js'
import { decodeMeta, encodeMeta } from './instance-meta.js'
import { forgetSilent, markSeen, seenBefore, type LaneHorizons, type SeenLanes } from './lane-memory.js'

/** The state store's items of the shards' memories of stateless messages: key = `stream/shardId`. */
export const STATELESS_SEEN = 'troupe.stateless'

/** Rounds of reload and write when another host wrote the same memory at once (a host replaced mid-batch). */
const MAX_ROUNDS = 5

export class StatelessMemory {
  /** A message that is not a copy was found: the memory must be written after the batch. */
  changed = false
  private seen: SeenLanes | undefined

  constructor(
    private readonly state: StateStore,
    private readonly stream: string,
    private readonly shard: string,
    private stored: StoredInstance | undefined,
    private readonly horizons: LaneHorizons,
    private readonly now: () => number,
    /** When the batch's first record arrived: lanes silent for their horizon before it are forgotten. */
    private readonly firstArrival: number | undefined,
  ) {
    const seen = decodeMeta(stored?.meta).seen
    this.seen = seen && structuredClone(seen)
  }

  /**
   * Whether a message is a copy of one run before. Decided in stream order, before any turn runs:
   * a later record's fence speaks only of records before it. A message without an origin always
   * runs (at least once).
   */
  decide(envelope: { origin?: Origin }): boolean {
    if (envelope.origin === undefined) return false
    const copy = seenBefore(this.seen, this.stream, envelope.origin)
    this.seen = markSeen(this.seen, this.stream, envelope.origin, undefined)
    if (!copy) this.changed = true
    return copy
  }

  /**
   * Writes what the batch's finished stateless messages made true, in stream order: their origins
   * (those after the first one not finished are left out, to run again on redelivery). False when
   * it could not be written: the caller leaves those records for redelivery.
   */
  async keep(done: readonly { origin: Origin; arrivedAt?: number }[]): Promise<boolean> {
    if (done.length === 0 || !this.changed) return true
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const meta = decodeMeta(this.stored?.meta)
      if (this.firstArrival !== undefined) forgetSilent(meta.seen, this.stream, this.firstArrival, this.horizons)
      for (const r of done) meta.seen = markSeen(meta.seen, this.stream, r.origin, r.arrivedAt)
      const item: StoredInstance = { state: encode(undefined), version: (this.stored?.version ?? 0) + 1, updatedAt: this.now(), meta: encodeMeta(meta) }
      try {
        await this.state.put(STATELESS_SEEN, this.shard, item, this.stored?.version)
        this.stored = item
        return true
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw error
        this.stored = await this.state.get(STATELESS_SEEN, this.shard)
      }
    }
    return false
  }
}
