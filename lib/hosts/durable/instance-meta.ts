// What the durable host keeps beside an instance's state, in the same conditional write:
// how far it has read each shard, the ids it applied last, the attempts of a message still
// failing, and the outbox of the last commit. This is what makes state effectively-once under
// redelivery and lets the next host finish a send the last one never confirmed.
import type { AttemptRecord } from '../../supervisor/dead-letter.js'
import type { BucketState } from '../../supervisor/token-bucket.js'
import { decode, encode } from '../../core/serialization.js'
import type { Envelope } from '../../core/envelope.js'
import type { OutboxEntry } from './outbox.js'
import { compareSequence } from './sequence.js'

export interface InstanceMeta {
  /** `stream/shardId` → the highest sequence number applied from that shard. */
  marks: Record<string, string>
  /**
   * Ids of the messages applied last, oldest first. Catches duplicates that arrive under a new
   * sequence number: a re-sent outbox, a timer fired twice, a producer retry.
   */
  recent: string[]
  /** The message at the head that failed and will be tried again, with its failed attempts. */
  failing?: { id: string; attempts: AttemptRecord[] }
  /** What the last commit's turns produced; sent after the commit. */
  outbox?: OutboxEntry[]
  /** This key is paused (`system.pause(type, key)`): its messages are held, not run. */
  paused?: true
  /**
   * Messages held while the key or its type was paused, in arrival order. Their records are
   * past the watermark, so the shard moves on; the first turn after the resume runs them first.
   */
  held?: Envelope[]
  /**
   * `stream/shardId` → the last member applied of the aggregate record at that shard's mark, while
   * later members of it are not (a turn failed part-way through the record). Absent: the record at
   * the mark is applied whole, as for every mark written before aggregate records existed.
   */
  members?: Record<string, number>
  /**
   * Messages that found no token of the key's throttle, in arrival order. Like held ones, their
   * records are past the watermark; they run first, as tokens allow, when `wake` fires or the
   * next turn of the key comes, and everything newer waits behind them.
   */
  parked?: Envelope[]
  /** The key's token bucket (`policy.throttlePerKey`), carried from commit to commit. */
  bucket?: BucketState
  /** The durable timer that runs the parked messages once a token is there again. */
  wake?: { id: string; dueAt: number }
}

/** A message's place in an aggregate record: its index (0 first), and whether it is the record's last. */
export interface MemberPosition {
  index: number
  last: boolean
}

/** Shards remembered per instance: a resharded stream leaves old shards behind; they are not read again. */
const MAX_MARKS = 16

export function emptyMeta(): InstanceMeta {
  return { marks: {}, recent: [] }
}

export function decodeMeta(text: string | undefined): InstanceMeta {
  if (text === undefined) return emptyMeta()
  const meta = decode(text) as InstanceMeta
  return {
    marks: meta.marks ?? {},
    recent: meta.recent ?? [],
    ...(meta.failing ? { failing: meta.failing } : {}),
    ...(meta.outbox ? { outbox: meta.outbox } : {}),
    ...(meta.paused ? { paused: true as const } : {}),
    ...(meta.held?.length ? { held: meta.held } : {}),
    ...(meta.members && Object.keys(meta.members).length ? { members: meta.members } : {}),
    ...(meta.parked?.length ? { parked: meta.parked } : {}),
    ...(meta.bucket ? { bucket: meta.bucket } : {}),
    ...(meta.wake ? { wake: meta.wake } : {}),
  }
}

export function encodeMeta(meta: InstanceMeta): string {
  return encode(meta)
}

/**
 * Whether a message was applied already: at or below its shard's mark (for a member of an
 * aggregate record, at or below the last member applied of it), or its id seen lately.
 * A message invoked directly (no shard, no sequence number) is known by its id alone.
 */
export function applied(meta: InstanceMeta, shard: string, sequenceNumber: string | undefined, id: string, member?: number): boolean {
  if (sequenceNumber !== undefined && reached(meta, shard, sequenceNumber, member)) return true
  return meta.recent.includes(id)
}

/** Whether the shard's mark has reached a position: the record, or the member `member` of an aggregate record. */
export function reached(meta: InstanceMeta, shard: string, sequenceNumber: string, member?: number): boolean {
  const mark = meta.marks[shard]
  if (mark === undefined) return false
  const order = compareSequence(sequenceNumber, mark)
  if (order !== 0) return order < 0
  const last = meta.members?.[shard]
  return last === undefined || (member ?? 0) <= last
}

/** Records that a message was applied; `member` is its place when it came in an aggregate record. */
export function remember(meta: InstanceMeta, shard: string, sequenceNumber: string | undefined, id: string, recentLimit: number, member?: MemberPosition): void {
  // A message invoked directly has no place in a shard: only its id marks it.
  if (sequenceNumber !== undefined) {
    if (!(shard in meta.marks)) {
      const shards = Object.keys(meta.marks)
      if (shards.length >= MAX_MARKS) {
        delete meta.marks[shards[0]!]
        if (meta.members) delete meta.members[shards[0]!]
      }
    }
    meta.marks[shard] = sequenceNumber
    // Part-way through an aggregate record, the mark says how far; after its last member, the record is whole.
    if (member !== undefined && !member.last) (meta.members ??= {})[shard] = member.index
    else if (meta.members !== undefined) {
      delete meta.members[shard]
      if (Object.keys(meta.members).length === 0) delete meta.members
    }
  }
  if (recentLimit > 0) {
    meta.recent.push(id)
    if (meta.recent.length > recentLimit) meta.recent.splice(0, meta.recent.length - recentLimit)
  }
}
