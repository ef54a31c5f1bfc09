// A shard's memory of the stateless messages it ran: stateless actors keep no item of their own,
// so the copies of their messages are recognised here, one item per shard (`troupe.stateless`,
// key `stream/shardId`), read with the batch's state and written once per batch, after the
// batch's stateless turns have sent their messages (lane-memory.ts, docs/guarantees.md).
//
// A message that waits for its type's token or slot, or for a retry that waits long, is parked in
// an item of its own (waiting-message.ts) before this memory is written. So that a batch delivered
// again after a crash in between does not run such a message at once as well, the memory first
// says `parking` (one write, only in a batch that parks); while it says so, the next batch reads
// the waiting items of its stateless messages with its state, and the memory written after a
// batch that finished whole says it no more.
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { Origin } from '../../core/envelope.js'
import { StoreConflictError } from '../../core/errors.js'
import { encode } from '../../core/serialization.js'
import type { StateStore, StoredInstance } from '../../store/index.js'
import { decodeMeta, encodeMeta, type InstanceMeta } from './instance-meta.js'
import { forgetSilent, makesRoomFor, markSeen, seenBefore, type LaneHorizons, type SeenLanes } from './lane-memory.js'

/** The state store's items of the shards' memories of stateless messages: key = `stream/shardId`. */
export const STATELESS_SEEN = 'troupe.stateless'

/**
 * Messages whose failed attempts a shard's memory keeps, and the bytes they may take (each attempt
 * kept short: no stack, the message cut); past either, the oldest start over.
 */
const MAX_RETRYING = 64
const MAX_RETRYING_BYTES = 32 * 1024
const KEPT_MESSAGE_CHARS = 256

/** A stateless message that failed and waits for its record to come again: its attempts, and when the next may run. */
export interface Retrying {
  id: string
  attempts: AttemptRecord[]
  retryAt?: number
}

/** How long the memory keeps when a type last ran here: past it, the type's last activity is unknown. */
const RAN_KEPT_MS = 30 * 24 * 60 * 60_000

/** Rounds of reload and write when another host wrote the same memory at once (a host replaced mid-batch). */
const MAX_ROUNDS = 5

export class StatelessMemory {
  /** A message that is not a copy was found: the memory must be written after the batch. */
  changed = false
  /** Messages of this batch that ran without being remembered: the memory had no room for them. */
  unremembered = 0
  private seen: SeenLanes | undefined
  /** As read or last written: a batch parked stateless messages and did not keep its memory after. */
  private parked: boolean
  /** As read: the failed attempts of messages that wait for their record to come again. */
  private readonly retrying: Map<string, Retrying>
  /** The write of `parking` under way, if one is. */
  private parkingWrite: Promise<void> | undefined
  /** Lanes silent past their horizon were forgotten as it was read: worth writing, even with nothing new. */
  private readonly forgot: boolean

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
    const meta = decodeMeta(stored?.meta)
    this.seen = meta.seen && structuredClone(meta.seen)
    // As an instance's run does: a full memory whose lanes fell silent makes room again.
    this.forgot = firstArrival !== undefined && forgetSilent(this.seen, stream, firstArrival, horizons)
    this.parked = meta.parking === true
    this.retrying = new Map(meta.retrying?.map(([id, attempts, retryAt]) => [id, { id, attempts, ...(retryAt !== undefined ? { retryAt } : {}) }]))
  }

  /** The attempts a message failed in earlier deliveries of its record, and when the next may run (undefined when it never failed, or ended). */
  retryOf(id: string): Retrying | undefined {
    return this.retrying.get(id)
  }

  /** Whether a message of this batch may be a copy of one parked that only its waiting item knows. */
  get parking(): boolean {
    return this.parked
  }

  /** Says `parking` before the batch parks its first stateless message (see above): written once, however many ask at once. */
  markParking(): Promise<void> {
    return (this.parkingWrite ??= this.writeParking())
  }

  private async writeParking(): Promise<void> {
    if (this.parked) return
    const written = await this.write((meta) => {
      meta.parking = true
    })
    if (!written) throw new StoreConflictError(`${STATELESS_SEEN}#${this.shard}`, this.stored?.version)
    this.parked = true
  }

  /**
   * Whether a message is a copy of one run before. Decided in stream order, before any turn runs:
   * a later record's fence speaks only of records before it. A message without an origin always
   * runs (at least once), and so does one the memory has no room to remember (lane-memory.ts,
   * `LANE_MEMORY_BUDGET`): a stateless actor keeps no state that a copy could change twice, and
   * refusing it would fill the shard's dead letters instead.
   */
  decide(envelope: { origin?: Origin }): boolean {
    if (envelope.origin === undefined) return false
    const copy = seenBefore(this.seen, this.stream, envelope.origin)
    if (!copy && !makesRoomFor(this.seen, this.stream, envelope.origin)) {
      this.unremembered++
      return false
    }
    this.seen = markSeen(this.seen, this.stream, envelope.origin, undefined)
    if (!copy) this.changed = true
    return copy
  }

  /**
   * Writes what the batch's finished stateless messages made true, in stream order: their origins
   * (those after the first one not finished are left out, to run again on redelivery). `whole`:
   * every stateless message of the batch finished. False when it could not be written: the caller
   * leaves those records for redelivery.
   */
  async keep(done: readonly { origin: Origin; arrivedAt?: number; type?: string }[], whole: boolean, attempts: { retrying: readonly Retrying[]; ended: readonly string[] } = { retrying: [], ended: [] }): Promise<boolean> {
    // A batch that finished whole has its parked messages in the memory: `parking` may go.
    const clearParking = whole && this.parked
    const attemptsChange = attempts.retrying.length !== 0 || attempts.ended.some((id) => this.retrying.has(id))
    if ((done.length === 0 || !this.changed) && !clearParking && !attemptsChange && !this.forgot) return true
    return this.write((meta) => {
      if (attemptsChange) keepAttempts(meta, attempts.retrying, attempts.ended)
      if (this.firstArrival !== undefined) forgetSilent(meta.seen, this.stream, this.firstArrival, this.horizons)
      for (const r of done) if (makesRoomFor(meta.seen, this.stream, r.origin)) meta.seen = markSeen(meta.seen, this.stream, r.origin, r.arrivedAt)
      if (clearParking) delete meta.parking
      // When each type last ran here, for inspection; a type silent for RAN_KEPT_MS is forgotten
      // (one the app no longer runs), so the list stays as short as the app's types.
      const at = this.now()
      for (const r of done) if (r.type !== undefined) (meta.ran ??= {})[r.type] = at
      for (const [type, last] of Object.entries(meta.ran ?? {})) if (last < at - RAN_KEPT_MS) delete meta.ran![type]
    })
  }

  /** Writes the memory as `change` leaves it, reloading it when another host wrote it first. */
  private async write(change: (meta: InstanceMeta) => void): Promise<boolean> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const meta = decodeMeta(this.stored?.meta)
      change(meta)
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

/** The memory's failed attempts, with those of this batch's messages that failed again, and without those that ended. */
function keepAttempts(meta: InstanceMeta, retrying: readonly Retrying[], ended: readonly string[]): void {
  const kept = new Map(meta.retrying?.map((r) => [r[0], r]))
  for (const id of ended) kept.delete(id)
  for (const r of retrying) {
    kept.delete(r.id)
    kept.set(r.id, r.retryAt === undefined ? [r.id, r.attempts.map(short)] : [r.id, r.attempts.map(short), r.retryAt])
  }
  const all = [...kept.values()].slice(-MAX_RETRYING)
  while (all.length !== 0 && JSON.stringify(all).length > MAX_RETRYING_BYTES) all.shift()
  if (all.length === 0) delete meta.retrying
  else meta.retrying = all
}

/** An attempt as the memory keeps it: what its count and its dead letter need, without the stack. */
function short(a: AttemptRecord): AttemptRecord {
  const { name, message, code } = a.error
  return { attempt: a.attempt, startedAt: a.startedAt, endedAt: a.endedAt, error: { name, message: message.slice(0, KEPT_MESSAGE_CHARS), ...(code !== undefined ? { code } : {}) } }
}
