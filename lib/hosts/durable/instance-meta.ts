// What the durable host keeps beside an instance's state, in the same conditional write:
// how far it has read each shard, what it has seen of each lane that sends to it, the attempts
// of a message still failing, and the outbox of its last commits. This is what makes state
// effectively-once under redelivery and lets the next host finish a send the last one never
// finished (docs/guarantees.md).
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { BucketState } from '../../supervisor/token-bucket.js'
import { decode, encode } from '../../core/serialization.js'
import type { Envelope } from '../../core/envelope.js'
import type { OutboxEntry, OutboxSegment } from './outbox.js'
import { compareSequence } from '../../core/position.js'
import { TroupeError } from '../../core/errors.js'
import type { SeenLanes } from './lane-memory.js'

export interface InstanceMeta {
  /** `stream/shardId` → the highest sequence number applied from that shard. */
  marks: Record<string, string>
  /** What was seen of each lane that sends here (lane-memory.ts): how every copy of a message is recognised. */
  seen?: SeenLanes
  /**
   * Ids of the messages without an origin applied last, oldest first (records another producer
   * wrote, or troupe before origins): a best effort for those, which carry nothing better.
   */
  recent: string[]
  /**
   * The origins (`<stream>|<lane>|<pos>|<i>`) of the last messages refused because the memory of
   * lanes had no room for their lane (`LANE_MEMORY_BUDGET`), oldest first: a copy of one that
   * comes later is known by it, so its dead letter stays the one place it is kept.
   */
  refused?: string[]
  /**
   * Replays of dead letters on their way here, not read yet (replay-notes.ts): [message id, the
   * `r:` lane it comes from, and which replay wrote it: its letter's deadAt and hold count]. A copy
   * from such a lane is new only while its note is here.
   */
  replays?: [id: string, lane: string, deadAt?: number, gen?: number][]
  /**
   * The message at the head that failed and will be tried again, with its failed attempts and
   * when the next may run (epoch ms; absent in items written before it was kept: at once).
   */
  failing?: { id: string; attempts: AttemptRecord[]; retryAt?: number }
  /** What commits produced and may not have been sent yet, by where it was made (outbox.ts). */
  outbox?: OutboxSegment[]
  /** The life of this item that orders its timers' writes (TimerOrder): set by its first commit that wrote one. */
  life?: number
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
  /**
   * Tokens of the type's bucket (`policy.throttle`, type-bucket.ts) dealt to this key and not
   * used yet: when each is earned, earliest first. While one is still to come, the key has its
   * place in line and claims no more.
   */
  typeTokens?: number[]
  /** The durable timer that runs the parked messages once a token is there again. */
  wake?: { id: string; dueAt: number }
  /**
   * On a shard's memory of stateless messages (stateless-memory.ts): the failed attempts of its
   * stateless messages that wait for their record to come again, as [message id, attempts, when
   * the next may run (epoch ms; absent in memories written before it was kept)], oldest first (a
   * list: an id is any text, and would be a poor key of an object).
   */
  retrying?: [id: string, attempts: AttemptRecord[], retryAt?: number][]
  /**
   * On a shard's memory of stateless messages (stateless-memory.ts): when a message of each type
   * that keeps no item last ran here (epoch ms), by type, for 30 days: those types' last
   * activity, which no item of theirs can say.
   */
  ran?: Record<string, number>
  /**
   * On a shard's memory of stateless messages (stateless-memory.ts): a batch began to park
   * stateless messages in their waiting items and has not kept its memory since, so a message of
   * the next batch may be a copy of one parked that only its waiting item knows.
   */
  parking?: true
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
    ...(meta.seen && Object.keys(meta.seen).length ? { seen: meta.seen } : {}),
    ...(meta.refused?.length ? { refused: meta.refused } : {}),
    ...(meta.replays?.length ? { replays: meta.replays } : {}),
    ...(meta.outbox?.length ? { outbox: segments(meta.outbox) } : {}),
    ...(meta.life !== undefined ? { life: meta.life } : {}),
    ...(meta.paused ? { paused: true as const } : {}),
    ...(meta.held?.length ? { held: meta.held } : {}),
    ...(meta.members && Object.keys(meta.members).length ? { members: meta.members } : {}),
    ...(meta.parked?.length ? { parked: meta.parked } : {}),
    ...(meta.bucket ? { bucket: meta.bucket } : {}),
    ...(meta.typeTokens?.length ? { typeTokens: meta.typeTokens } : {}),
    ...(meta.wake ? { wake: meta.wake } : {}),
    ...(meta.parking ? { parking: true as const } : {}),
    ...(meta.retrying?.length ? { retrying: meta.retrying } : {}),
    ...(meta.ran && Object.keys(meta.ran).length ? { ran: meta.ran } : {}),
  }
}

/**
 * decodeMeta for a reader of a table it did not write (inspection, the list of pauses): an item
 * written by hand, or damaged, reads as empty bookkeeping with why, instead of failing every item
 * read beside it.
 */
export function readMeta(text: string | undefined): { meta: InstanceMeta; problem?: string } {
  try {
    const meta = decodeMeta(text)
    const problem = metaProblem(meta)
    if (problem === undefined) return { meta }
    return { meta: emptyMeta(), problem: `its bookkeeping (m) is not as troupe writes it: ${problem}` }
  } catch (error) {
    return { meta: emptyMeta(), problem: `its bookkeeping (m) cannot be read: ${error instanceof Error ? error.message : String(error)}` }
  }
}

const LISTS = ['recent', 'refused', 'replays', 'outbox', 'held', 'parked', 'typeTokens', 'retrying'] as const
const RECORDS = ['marks', 'seen', 'members', 'ran', 'failing', 'bucket', 'wake'] as const

/**
 * What is wrong with the shape of decoded bookkeeping (a field written by hand or damaged: a list
 * that is not one, a message without an id), or undefined. A host refuses such an item rather
 * than run on it: what it has applied cannot be known.
 */
export function metaProblem(meta: InstanceMeta): string | undefined {
  for (const field of LISTS) {
    const value: unknown = meta[field]
    if (value !== undefined && !Array.isArray(value)) return `${field} is not a list`
  }
  for (const field of RECORDS) {
    const value: unknown = meta[field]
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) return `${field} is not an object`
  }
  // Segments as troupe writes them, { lane, pos, entries } (an outbox from before segments, a plain list of entries, came wrapped as one).
  const entry = (e: unknown) => typeof (e as OutboxEntry | null)?.kind === 'string'
  if (meta.outbox?.some((s: unknown) => typeof (s as OutboxSegment | null)?.lane !== 'string' || !Array.isArray((s as OutboxSegment).entries) || !(s as OutboxSegment).entries.every(entry))) return 'outbox holds something that is not an outbox segment'
  for (const field of ['held', 'parked'] as const) {
    if (meta[field]?.some((e: unknown) => typeof (e as Envelope | null)?.id !== 'string' || typeof (e as Envelope).type !== 'string')) return `${field} holds something that is not a message`
  }
  return undefined
}

/** A host's refusal of an item whose bookkeeping it cannot read: its records wait for redelivery. */
export function damagedItemError(name: string, problem: string): TroupeError {
  return new TroupeError('TROUPE_ITEM_UNREADABLE', `${name}: its bookkeeping (m) is not as troupe writes it (${problem}); it is neither run nor overwritten, and its records wait for redelivery`)
}

export function encodeMeta(meta: InstanceMeta): string {
  return encode(meta)
}

/** An outbox written before segments (a plain list of entries): one segment that every host sends again. */
function segments(outbox: OutboxSegment[] | OutboxEntry[]): OutboxSegment[] {
  const first = outbox[0] as Partial<OutboxSegment> & Partial<OutboxEntry>
  if (first.entries !== undefined) return outbox as OutboxSegment[]
  return [{ lane: LEGACY_LANE, pos: '0', entries: outbox as OutboxEntry[] }]
}

/** The lane of an outbox kept before outboxes had one: sent again by whoever loads it. */
export const LEGACY_LANE = 'legacy'

/** Whether the shard's mark has reached a position: the record, or the member `member` of an aggregate record. */
export function reached(meta: InstanceMeta, shard: string, sequenceNumber: string, member?: number): boolean {
  const mark = meta.marks[shard]
  if (mark === undefined) return false
  const order = compareSequence(sequenceNumber, mark)
  if (order !== 0) return order < 0
  const last = meta.members?.[shard]
  return last === undefined || (member ?? 0) <= last
}

/**
 * Records that a record was read (its message applied, held, parked, or found to be a copy);
 * `member` is its place when it came in an aggregate record. The mark only moves forward: a record
 * below it (a hostile or inconsistent one) leaves it where it is.
 */
export function remember(meta: InstanceMeta, shard: string, sequenceNumber: string | undefined, id: string, recentLimit: number, member?: MemberPosition): void {
  // A message invoked directly has no place in a shard: only its origin (or id) marks it.
  if (sequenceNumber !== undefined && !reached(meta, shard, sequenceNumber, member?.index)) {
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
  if (recentLimit > 0 && !meta.recent.includes(id)) {
    meta.recent.push(id)
    if (meta.recent.length > recentLimit) meta.recent.splice(0, meta.recent.length - recentLimit)
  }
}
