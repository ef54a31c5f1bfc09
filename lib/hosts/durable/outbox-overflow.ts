// Where an outbox too large for its instance's item waits (a fork of thousands of children): the
// overflow store, under a key of the commit that refers to it, written before that commit. A
// commit that loses its race refers to nothing: its blob is deleted, or expires unread. Two hosts
// racing for the same commit write under keys of their own (the version and a nonce), so the
// loser's late write never replaces what the winner's commit refers to.
import { createHash } from 'node:crypto'
import { nanoid } from 'nanoid'
import { TroupeError } from '../../core/errors.js'
import { decode, encode } from '../../core/serialization.js'
import type { PayloadStore } from '../../store/payload-store.js'
import { isEndOf, messagesOf, PENDING, type OutboxEntry, type OutboxSegment } from './outbox.js'

/**
 * A segment of a lane smaller than this stays in the item when the item is too large, unless the
 * item is too large still: its reference (about 150 bytes) would save little.
 */
const SPILL_ABOVE_BYTES = 1024
/**
 * The same for a direct run's segment (PENDING), whose receipt entries an ask and a replay read
 * in the item: spilled, they are read only once the instance's shard places them.
 */
const SPILL_PENDING_ABOVE_BYTES = 16 * 1024

export class OutboxOverflow {
  constructor(
    private readonly store: PayloadStore | undefined,
    /** How long a spilled outbox is kept: as long as a redelivery of its position may come. */
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Whether a commit too large for its item can keep its outbox here. */
  get spills(): boolean {
    return this.store !== undefined
  }

  /** A segment's entries, from the store when they were spilled. */
  async entriesOf(segment: OutboxSegment): Promise<OutboxEntry[]> {
    if (segment.spilled === undefined) return segment.entries
    const data = await this.store?.get(segment.spilled.key)
    if (data === undefined) {
      throw new TroupeError('TROUPE_OVERFLOW_MISSING', `the outbox kept under ${segment.spilled.key} (${segment.spilled.count} entries) is not in the overflow store; it was written before the commit that refers to it`)
    }
    const entries = decode(Buffer.from(data).toString('utf8')) as OutboxEntry[]
    const dropped = segment.spilled.dropped
    return dropped === undefined ? entries : entries.filter((e) => !dropped.some((id) => isEndOf(e, id)))
  }

  /** Deletes those of `keys` that `outbox` (an item's, as it stands) does not refer to. */
  async dropUnreferenced(keys: readonly string[], outbox: readonly OutboxSegment[] | undefined): Promise<void> {
    const referred = new Set(spilledKeys(outbox))
    for (const key of keys) if (!referred.has(key)) await this.drop(key)
  }

  /**
   * Deletes a spilled segment no commit refers to any more (a direct run's, which would otherwise
   * be kept forever). A store that cannot delete, or a delete that fails, leaves it to the store.
   */
  async drop(key: string): Promise<void> {
    try {
      await this.store?.delete?.(key)
    } catch {
      // Nothing refers to it: left as garbage, never read.
    }
  }

  /**
   * The segment as the item keeps it: large entries written to the store under a key of commit
   * `version` of instance `name`. `aboveBytes`: how large its entries must be to go (by default,
   * SPILL_ABOVE_BYTES, or SPILL_PENDING_ABOVE_BYTES for a direct run's).
   */
  async spill(name: string, version: number, segment: OutboxSegment, aboveBytes = segment.lane === PENDING ? SPILL_PENDING_ABOVE_BYTES : SPILL_ABOVE_BYTES): Promise<OutboxSegment> {
    if (this.store === undefined || segment.spilled !== undefined || segment.entries.length === 0) return segment
    const data = Buffer.from(encode(segment.entries), 'utf8')
    if (data.byteLength < aboveBytes) return segment
    const key = `outbox/${createHash('sha256').update(name).digest('base64url').slice(0, 22)}/${version}-${nanoid(10)}/${segment.lane === PENDING ? 'pending' : segment.pos}`
    // A direct run's entries wait for the instance's next turn in its shard, however long that is.
    await this.store.put(key, data, segment.lane === PENDING ? Infinity : this.now() + this.ttlMs)
    return { lane: segment.lane, pos: segment.pos, entries: [], spilled: { key, bytes: data.byteLength, count: segment.entries.length, messages: messagesOf(segment.entries).length } }
  }
}

/** The overflow keys an outbox refers to (only its `lane`'s segments, when given). */
export function spilledKeys(outbox: readonly OutboxSegment[] | undefined, lane?: string): string[] {
  return (outbox ?? []).flatMap((s) => (s.spilled !== undefined && (lane === undefined || s.lane === lane) ? [s.spilled.key] : []))
}
