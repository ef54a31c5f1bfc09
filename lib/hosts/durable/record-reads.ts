// How a run of an instance reads a record (durable-host.ts is the map): whether its message is
// new, a copy of one the instance read (known by its origin, or without one by its id among the
// recent), or inconsistent (at or below the instance's watermark, yet never applied); and what
// reading it leaves in the instance's bookkeeping (instance-meta.ts, lane-memory.ts), committed
// with the turn, so the instance recognises every later copy. Why that applies each message once:
// docs/guarantees.md.
import type { Clock } from '../../core/clock.js'
import type { Envelope, Origin } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import type { ActorType } from '../../turn/actor-type.js'
import { INVOKE_SHARD, type Source } from './durable-batch.js'
import { reached, remember, type InstanceMeta, type MemberPosition } from './instance-meta.js'
import { LANE_MEMORY_BUDGET, laneMemoryBytes, makesRoomFor, markSeen, seenBefore, type LaneHorizons } from './lane-memory.js'
import { awaitsReplay, isReplayed, readReplay } from './replay-notes.js'

/** What reading needs of the host: how many ids it remembers without an origin, and its clock. */
export interface Reader {
  readonly recentIds: number
  readonly clock: Clock
}

/**
 * Records that a copy from `envelope`'s origin was read here. A replay to this instance (an `r:`
 * lane) is known by its note alone (replay-notes.ts), which reading it ends: its lane takes no
 * room in the memory.
 */
function noteOrigin(meta: InstanceMeta, stream: string, envelope: Envelope, arrivedAt: number | undefined): void {
  if (isReplayed(envelope.origin!)) readReplay(meta, envelope)
  else meta.seen = markSeen(meta.seen, stream, envelope.origin!, arrivedAt)
}

/**
 * A held or parked message ran. Its origin was noted when it was held or parked, under the
 * stream it came on; noting it again under the stream of this run would raise that stream's
 * fence for its lane over messages still on their way there (a priority stream's message run by
 * a run of the default stream). One without an origin is remembered by its id.
 */
export function noteRanLate(reader: Reader, meta: InstanceMeta, envelope: Envelope): void {
  if (envelope.origin === undefined) remember(meta, INVOKE_SHARD, undefined, envelope.id, reader.recentIds)
}

/**
 * How a record stands with the instance: new, a copy of one it read, inconsistent (at or below
 * its watermark, yet unknown), one the memory of lanes has no room to remember (`no room`), or a
 * copy of one refused so (`refused`). Raises the fence the record's origin carries (lane-memory.ts).
 */
export function verdict(meta: InstanceMeta, source: Source, sequenceNumber: string | undefined, envelope: Envelope, member: MemberPosition | undefined): 'new' | 'copy' | 'inconsistent' | 'no room' | 'refused' {
  // A replay of a dead letter: new only while the instance's note of it stands.
  if (envelope.origin !== undefined && isReplayed(envelope.origin)) return awaitsReplay(meta, envelope.id, envelope.origin) ? 'new' : 'copy'
  // By its origin when it has one: a replay keeps the id of the message it runs again, under a new origin.
  const known = envelope.origin !== undefined ? seenBefore(meta.seen, source.stream, envelope.origin) : meta.recent.includes(envelope.id)
  if (known) return 'copy'
  if (envelope.origin !== undefined && meta.refused?.includes(refusedKey(source.stream, envelope.origin))) return 'refused'
  // Read before, yet unknown: never taken for one refused for room, whose letter says to replay it.
  if (source.kind === 'shard' && sequenceNumber !== undefined && reached(meta, source.shard, sequenceNumber, member?.index)) return 'inconsistent'
  if (envelope.origin !== undefined && !makesRoomFor(meta.seen, source.stream, envelope.origin)) return 'no room'
  return 'new'
}

/**
 * Records that a record was read (its message applied, dead, filtered, held, parked, or a copy):
 * its shard's mark, and its origin, or without one its id among the recent. A replay of a dead
 * message comes with an origin of its own, so it is not taken for a copy.
 */
export function noteRead(
  reader: Reader,
  meta: InstanceMeta,
  source: Source,
  sequenceNumber: string | undefined,
  envelope: Envelope,
  member: MemberPosition | undefined,
  arrivedAt: number | undefined,
): void {
  const shard = source.kind === 'shard' ? source.shard : INVOKE_SHARD
  remember(meta, shard, sequenceNumber, envelope.id, envelope.origin === undefined ? reader.recentIds : 0, member)
  if (envelope.origin !== undefined) noteOrigin(meta, source.stream, envelope, source.kind === 'shard' ? arrivedAt : (arrivedAt ?? reader.clock.now()))
}

/**
 * Origins of refused messages kept per instance: a copy of one refused longer ago than this many
 * refusals may be applied once room frees (docs/guarantees.md). Beside the memory of lanes: at most
 * 64 origins of a few hundred bytes (a stream's name, a lane's, a position, an index).
 */
const MAX_REFUSED = 64

function refusedKey(stream: string, origin: Origin): string {
  return `${stream}|${origin.lane}|${origin.pos}|${origin.i}`
}

/**
 * Records that a record at or below the watermark, yet unknown, was read: as `noteRead` does, or,
 * when the memory of lanes has no room for its origin, as a refusal (its letter says it was never
 * applied here either way).
 */
export function noteInconsistent(reader: Reader, meta: InstanceMeta, source: Source, sequenceNumber: string | undefined, envelope: Envelope, member: MemberPosition | undefined, arrivedAt: number | undefined): void {
  const origin = envelope.origin
  if (origin === undefined || makesRoomFor(meta.seen, source.stream, origin)) noteRead(reader, meta, source, sequenceNumber, envelope, member, arrivedAt)
  else noteRefused(meta, source, sequenceNumber, envelope, member)
}

/**
 * Records that a message was refused for want of room to remember it: its shard's mark, and its
 * origin among the last refused (never in the memory of lanes, which had no room for it).
 */
export function noteRefused(meta: InstanceMeta, source: Source, sequenceNumber: string | undefined, envelope: Envelope, member: MemberPosition | undefined): void {
  remember(meta, source.kind === 'shard' ? source.shard : INVOKE_SHARD, sequenceNumber, envelope.id, 0, member)
  const key = refusedKey(source.stream, envelope.origin!)
  const refused = (meta.refused ??= [])
  if (refused.includes(key)) return
  refused.push(key)
  if (refused.length > MAX_REFUSED) refused.splice(0, refused.length - MAX_REFUSED)
}

/** Why a message the instance's memory of lanes has no room to remember is a dead letter, not applied. */
export function noRoom(type: ActorType, envelope: Envelope, meta: InstanceMeta, horizons: LaneHorizons): TroupeError {
  const { lane, pos, i } = envelope.origin!
  const lanes = Object.keys(meta.seen ?? {}).length
  const kb = Math.round(laneMemoryBytes(meta.seen) / 1024)
  return new TroupeError(
    'TROUPE_LANE_LIMIT',
    `${type.type}#${envelope.key} remembers ${lanes} lanes that sent to it (about ${kb} KB of its item; at most ${LANE_MEMORY_BUDGET / 1024} KB), ` +
      `and has no room to remember message ${envelope.id} (from ${lane} at ${pos}#${i}): it was not applied, so that no copy of it can be applied twice. ` +
      `A lane is forgotten once silent for ${span(horizons.processMs)} (a process's) or ${span(horizons.shardMs)} (a shard's), and its positions once its fence rises; replay the letter after that`,
  )
}

function span(ms: number): string {
  return ms >= 2 * 86_400_000 ? `${Math.round(ms / 86_400_000)} days` : ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} hours` : `${Math.max(1, Math.round(ms / 60_000))} minutes`
}

/** Why a record at or below the instance's watermark whose message was never applied is a dead letter. */
export function inconsistency(reader: Reader, type: ActorType, envelope: Envelope, shard: string, sequenceNumber: string, member: MemberPosition | undefined, meta: InstanceMeta): TroupeError {
  const mark = meta.marks[shard]!
  const where = member === undefined ? `record ${sequenceNumber}` : `member ${member.index} of record ${sequenceNumber}`
  const watermark = `${type.type}#${envelope.key}'s watermark there (${mark}${meta.members?.[shard] !== undefined ? `, member ${meta.members[shard]}` : ''})`
  const why = envelope.origin
    ? `yet its message ${envelope.id} (from ${envelope.origin.lane} at ${envelope.origin.pos}#${envelope.origin.i}) was never applied here; kept as a dead letter instead of being skipped (replay it to apply it)`
    : `and its message ${envelope.id} carries no origin and is not among the last ${reader.recentIds} without one, so it cannot be told from one applied before; kept as a dead letter instead of being skipped (replay it only if it was not applied: a producer that writes records itself should give them origins)`
  return new TroupeError('TROUPE_INCONSISTENT_RECORD', `${where} of ${shard} is at or below ${watermark}, ${why}`)
}
