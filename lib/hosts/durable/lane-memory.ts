// What a receiver remembers of each lane that sends to it, so that every message is applied once
// however many copies of it come and however far apart (docs/guarantees.md, "Applied once").
//
// Every copy of a message carries the same origin (lane, position, index) and a fence set by
// whoever put that copy: all copies of the lane's messages below the fence were put before it.
// Copies of one message always go to the same stream, and a shard is read in the order records
// were put, so once a receiver has read a copy carrying fence F from a lane (through a stream),
// it has read every copy of that lane's messages below F (through that stream). It keeps, per
// stream and lane:
//   - the highest fence read: a message below it is a copy of one it has seen;
//   - the positions at or above the fence that it has seen, each with the indexes seen there, as
//     ranges: a position's messages may reach a receiver in any order (a shard's stateless
//     messages have their ids as partition keys; `ordering: 'batched'` lets a record overtake).
// A fence rises each time the lane sends this receiver anything from a later turn, which drops
// the positions below it, so what is kept is the lane's last turns that sent here, never a count.
// A lane that falls silent is forgotten once no copy of its messages can still be in the stream
// ahead of the reader: `forgetSilent` with the lane's horizon, judged by the records' arrival times.
// A process's lane counts its positions up one per tell (process-lane.ts), and a burst of tells
// is put before any of them settles, so one fence may cover thousands of positions: those are kept
// as ranges of numbers, which stay small and are searched in log time.
import type { Origin } from '../../core/envelope.js'
import { comparePosition } from '../../core/position.js'

/** One lane as a receiver knows it. Short names: it is written with every commit of the receiver. */
export interface LaneSeen {
  /** The highest fence read. */
  f: string
  /** Positions at or above `f`, each with the indexes seen there as sorted inclusive ranges `[from, to, from, to, …]` (a number: every index up to it). */
  d: [pos: string, indexes: number | number[]][]
  /**
   * A process lane's positions at or above `f` where only index 0 was seen, as sorted inclusive
   * ranges of numbers `[from, to, from, to, …]`; never a position that is also in `d`.
   */
  r?: number[]
  /** Arrival time (epoch ms) of the last record that came from the lane, when known. */
  at?: number
}

/** `<stream>|<lane>` → what was seen of that lane through that stream. */
export type SeenLanes = Record<string, LaneSeen>

/** How long after its last record a silent lane may still have copies in the stream. */
export interface LaneHorizons {
  /** A process's lane: it stops resending a message once its send gave up. */
  processMs: number
  /** A shard's lane: a turn's messages are sent again until its record is done, at worst until it leaves the stream. */
  shardMs: number
}

function laneKey(stream: string, lane: string): string {
  return `${stream}|${lane}`
}

/**
 * Bytes of an item a receiver's memory of lanes may fill before it stops taking in what would make
 * it grow (an item holds 400 KB; the rest is its state's, its outbox's and what waits in it, which
 * gives way to the rest: wait-room.ts). Lanes are forgotten
 * only after their horizon, and a lane's positions only when its fence rises, so without a bound
 * lanes that send once and fall silent (thousands of processes in a few minutes), or origins made
 * up to look so (a lane per message, one lane whose fence never rises or rises over nothing it
 * keeps), could fill an
 * instance's item for days, and its every turn after would be too large to keep.
 */
export const LANE_MEMORY_BUDGET = 192 * 1024

/**
 * How many bytes `seen` takes in its item's JSON, or a few more: its lanes, positions and numbers
 * as they are written, without writing it. Exact as bytes because a lane's name is plain ASCII
 * that JSON writes as it is (envelope-fields.ts refuses any other), and positions are digits.
 */
export function laneMemoryBytes(seen: SeenLanes | undefined): number {
  if (seen === undefined) return 0
  let bytes = 0
  for (const key in seen) bytes += laneBytes(key, seen[key]!)
  return bytes
}

/** `"key":{"f":"…","d":[…],"r":[…],"at":…},` */
function laneBytes(key: string, lane: LaneSeen): number {
  let bytes = key.length + lane.f.length + 20
  for (const [pos, indexes] of lane.d) bytes += pos.length + 6 + (typeof indexes === 'number' ? digits(indexes) : listBytes(indexes))
  if (lane.r !== undefined) bytes += 6 + listBytes(lane.r)
  if (lane.at !== undefined) bytes += 6 + digits(lane.at)
  return bytes
}

function digits(n: number): number {
  return String(n).length
}

/** `[a,b,…]` */
function listBytes(numbers: readonly number[]): number {
  let bytes = 2
  for (const n of numbers) bytes += digits(n) + 1
  return bytes
}

/**
 * Raises the fence of `origin`'s lane to the copy's, and forgets the positions below it: true of
 * the lane once a copy carrying that fence is read through `stream`, whether or not its own
 * message is applied or remembered (every copy below it was put before it, and read).
 */
export function raiseFence(seen: SeenLanes | undefined, stream: string, origin: Origin): void {
  const key = laneKey(stream, origin.lane)
  const lane = seen?.[key]
  if (lane === undefined || comparePosition(origin.fence, lane.f) <= 0) return
  const size = sizes.get(seen!)
  const before = size === undefined ? 0 : laneBytes(key, lane)
  lane.f = origin.fence
  lane.d = lane.d.filter(([pos]) => comparePosition(pos, origin.fence) >= 0)
  if (lane.r !== undefined) dropBelow(lane, origin.fence)
  if (size !== undefined) sizes.set(seen!, { bytes: size.bytes - before + laneBytes(key, lane), exact: size.exact })
}

/**
 * Whether a message from `origin`, read through `stream`, can be remembered within `budget`: what
 * marking it adds (a lane, a position, an index) fits. Asked once its fence is raised
 * (`raiseFence`), so what a rising fence drops is counted first, and a copy is known before.
 */
export function hasRoomFor(seen: SeenLanes | undefined, stream: string, origin: Origin, budget = LANE_MEMORY_BUDGET): boolean {
  if (seen === undefined) return true
  const key = laneKey(stream, origin.lane)
  const adds = growth(seen[key], key, origin)
  let size = sizes.get(seen)
  if (size === undefined) sizes.set(seen, (size = { bytes: laneMemoryBytes(seen), exact: true }))
  if (size.bytes + adds <= budget) return true
  if (size.exact) return false
  // Only a bound after marks since it was measured: measure it again before refusing.
  sizes.set(seen, (size = { bytes: laneMemoryBytes(seen), exact: true }))
  return size.bytes + adds <= budget
}

/**
 * Whether a message from `origin`, read through `stream`, can be remembered: its fence raised
 * first (`raiseFence`, what it drops makes room), then `hasRoomFor`. How every reader asks.
 */
export function makesRoomFor(seen: SeenLanes | undefined, stream: string, origin: Origin): boolean {
  raiseFence(seen, stream, origin)
  return hasRoomFor(seen, stream, origin)
}

/**
 * What `hasRoomFor` knows of a memory's size: measured, or a bound grown by what each mark since may
 * have added (a raised fence takes off what it drops; a forgotten lane drops the size). A memory
 * of thousands of lanes is so measured now and then, not once a message.
 */
const sizes = new WeakMap<SeenLanes, { bytes: number; exact: boolean }>()

/**
 * The most marking `origin` can add to a memory of lanes, its fence raised: as `markSeen` keeps it,
 * so that a lane that moves on (a position for one dropped) adds about nothing, and is taken at
 * the bound. Never less than a mark adds, or the size `hasRoomFor` keeps would drift below the
 * memory's (test/unit/lane-memory.test.ts holds it to that).
 */
export function markGrowth(seen: SeenLanes | undefined, stream: string, origin: Origin): number {
  const key = laneKey(stream, origin.lane)
  return growth(seen?.[key], key, origin)
}

function growth(lane: LaneSeen | undefined, key: string, origin: Origin): number {
  const index = digits(origin.i)
  // A position with its index as a pair, `["pos",[i,i]],`, or as a process lane's range, `,"r":[n,n]`.
  const position = origin.pos.length + 12 + 2 * index
  const range = 6 + 2 + 2 * (origin.pos.length + 1)
  if (lane === undefined) return laneBytes(key, { f: origin.fence, d: [] }) + Math.max(position, range) + 20
  const at = lane.at === undefined ? 20 : 0
  if (lane.d.some(([pos]) => pos === origin.pos)) return 2 * (index + 1) + 1 + at
  const n = origin.i === 0 && origin.lane.startsWith('p:') ? counted(origin.pos) : undefined
  // A second index at a position kept in a range splits the range: a pair more there.
  if (n === undefined) return position + (lane.r !== undefined ? 2 * (origin.pos.length + 1) : 0) + at
  // A process lane's position: the last range grown by one, or a new pair.
  const last = lane.r?.at(-1)
  if (last === undefined) return 6 + 2 + 2 * (digits(n) + 1) + at
  return (n === last + 1 ? digits(n) - digits(last) : 2 * (digits(n) + 1)) + at
}

/** Whether a message from `origin`, read through `stream`, is a copy of one seen before. */
export function seenBefore(seen: SeenLanes | undefined, stream: string, origin: Origin): boolean {
  const lane = seen?.[laneKey(stream, origin.lane)]
  if (lane === undefined) return false
  if (comparePosition(origin.pos, lane.f) < 0) return true
  if (lane.r !== undefined && origin.i === 0) {
    const n = counted(origin.pos)
    if (n !== undefined && rangeAt(lane.r, n) >= 0) return true
  }
  const at = lane.d.find(([pos]) => pos === origin.pos)
  if (at === undefined) return false
  const indexes = at[1]
  if (typeof indexes === 'number') return origin.i <= indexes
  for (let k = 0; k < indexes.length; k += 2) if (origin.i >= indexes[k]! && origin.i <= indexes[k + 1]!) return true
  return false
}

/**
 * Records that a copy from `origin` was read through `stream` (applied, or recognised as seen):
 * raises the lane's fence to the copy's, forgets the positions below it, and keeps the message's
 * own position and index. Returns the (possibly new) record of lanes.
 */
export function markSeen(seen: SeenLanes | undefined, stream: string, origin: Origin, arrivedAt: number | undefined): SeenLanes {
  const out = seen ?? {}
  const key = laneKey(stream, origin.lane)
  raiseFence(out, stream, origin)
  let lane = out[key]
  const size = sizes.get(out)
  if (size !== undefined) sizes.set(out, { bytes: size.bytes + growth(lane, key, origin), exact: false })
  if (lane === undefined) out[key] = lane = { f: origin.fence, d: [] }
  if (comparePosition(origin.pos, lane.f) >= 0) {
    const at = lane.d.find(([pos]) => pos === origin.pos)
    const n = at === undefined && origin.lane.startsWith('p:') ? counted(origin.pos) : undefined
    if (n !== undefined && origin.i === 0) addToRanges((lane.r ??= []), n)
    else if (at !== undefined) at[1] = addIndex(typeof at[1] === 'number' ? [0, at[1]] : at[1], origin.i)
    else {
      // A second index at a position kept as a range: the position moves to `d`, with both.
      const inRange = n !== undefined && lane.r !== undefined && removeFromRanges(lane, n)
      lane.d.push([origin.pos, inRange ? addIndex([0, 0], origin.i) : [origin.i, origin.i]])
    }
  }
  if (arrivedAt !== undefined && (lane.at === undefined || arrivedAt > lane.at)) lane.at = arrivedAt
  return out
}

/** A position that is a plain number JavaScript holds exactly (a process lane's), else undefined. */
function counted(pos: string): number | undefined {
  if (pos.length > 15) return undefined
  const n = Number(pos)
  // Written back the same: a plain number, no sign, exponent, member or leading zero.
  return Number.isSafeInteger(n) && n >= 0 && String(n) === pos ? n : undefined
}

/** The index in `ranges` of the pair that holds `n` (its `from`), or -1. */
function rangeAt(ranges: number[], n: number): number {
  let lo = 0
  let hi = ranges.length / 2 - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (n < ranges[2 * mid]!) hi = mid - 1
    else if (n > ranges[2 * mid + 1]!) lo = mid + 1
    else return 2 * mid
  }
  return -1
}

/** Adds `n` to sorted inclusive `ranges`, merging neighbours; at the end in constant time, as positions mostly come. */
function addToRanges(ranges: number[], n: number): void {
  const last = ranges.length - 1
  if (last < 0 || n > ranges[last]! + 1) ranges.push(n, n)
  else if (n === ranges[last]! + 1) ranges[last] = n
  else if (rangeAt(ranges, n) < 0) {
    const merged = addIndex(ranges, n)
    ranges.length = merged.length
    for (let k = 0; k < merged.length; k++) ranges[k] = merged[k]!
  }
}

/** Takes `n` out of the lane's ranges; whether it was there. */
function removeFromRanges(lane: LaneSeen, n: number): boolean {
  const r = lane.r!
  const k = rangeAt(r, n)
  if (k < 0) return false
  const from = r[k]!
  const to = r[k + 1]!
  const parts: number[] = []
  if (from < n) parts.push(from, n - 1)
  if (n < to) parts.push(n + 1, to)
  r.splice(k, 2, ...parts)
  if (r.length === 0) delete lane.r
  return true
}

/** Drops the lane's ranged positions below `fence` (a position, so `5:1` is past 5 and below 6). */
function dropBelow(lane: LaneSeen, fence: string): void {
  const colon = fence.indexOf(':')
  const base = colon < 0 ? fence : fence.slice(0, colon)
  const floor = counted(base)
  if (floor === undefined) {
    // Past any number a process lane counts to.
    delete lane.r
    return
  }
  const first = floor + (colon >= 0 && Number(fence.slice(colon + 1)) > 0 ? 1 : 0)
  const r = lane.r!
  let k = 0
  while (k < r.length && r[k + 1]! < first) k += 2
  r.splice(0, k)
  if (r.length !== 0 && r[0]! < first) r[0] = first
  if (r.length === 0) delete lane.r
}

/** `ranges` (sorted inclusive pairs) with `i` added, neighbours merged. */
function addIndex(ranges: number[], i: number): number[] {
  const out: number[] = []
  let placed = false
  for (let k = 0; k < ranges.length; k += 2) {
    const a = ranges[k]!
    const b = ranges[k + 1]!
    if (!placed && i < a - 1) {
      out.push(i, i)
      placed = true
    }
    if (!placed && i >= a - 1 && i <= b + 1) {
      out.push(Math.min(a, i), Math.max(b, i))
      placed = true
      continue
    }
    const last = out.length - 1
    if (last > 0 && a <= out[last]! + 1) out[last] = Math.max(out[last]!, b)
    else out.push(a, b)
  }
  if (!placed) out.push(i, i)
  return out
}

/**
 * Forgets the lanes seen through `stream` whose last record arrived longer ago than their horizon
 * before a record of `stream` that arrived at `arrivedAt`: every copy of their messages was in
 * the stream before that record (a receiver's records of one stream are in one shard, read in
 * order), so it was read. Only the same stream's arrivals count: another stream may run ahead.
 */
export function forgetSilent(seen: SeenLanes | undefined, stream: string, arrivedAt: number, horizons: LaneHorizons): boolean {
  if (seen === undefined) return false
  const prefix = `${stream}|`
  let forgot = false
  for (const [key, lane] of Object.entries(seen)) {
    if (lane.at === undefined || !key.startsWith(prefix)) continue
    const horizon = key.startsWith('p:', prefix.length) ? horizons.processMs : horizons.shardMs
    if (arrivedAt - lane.at > horizon) {
      delete seen[key]
      forgot = true
    }
  }
  if (forgot) sizes.delete(seen)
  return forgot
}

/** Whether two shard lanes (`s:<stream>/<shardId>`) are shards of the same stream. */
export function sameStream(a: string, b: string): boolean {
  if (!a.startsWith('s:') || !b.startsWith('s:')) return false
  return a.slice(0, a.lastIndexOf('/')) === b.slice(0, b.lastIndexOf('/'))
}
