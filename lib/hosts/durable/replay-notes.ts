// A replay of a dead letter to an instance with state is known by a note in the instance's item,
// never by a lane's memory: a letter may wait for its replay as long as it takes, a replay may
// stop part-way (its send failed with the record taken all the same, its process died), and a
// replay of the letter again must not apply the message twice, however long after.
//
// So before a replay sends, the instance's item keeps a note: the message's id and the origin it
// goes under, in a lane of its own (`r:<random>`, position 0). A copy from an `r:` lane is new
// only while its note is there, and a copy otherwise, whatever the memory of lanes holds; reading
// it ends the note, in the commit that reads it (applied, filtered, dead, held or parked). A replay
// that takes over from one that may have sent sends under the same origin while the note is there,
// and sends nothing once it has ended (docs/guarantees.md).
import { nanoid } from 'nanoid'
import type { Origin } from '../../core/envelope.js'
import type { InstanceMeta } from './instance-meta.js'

/** The lanes of replays to instances with state: one per replay, known by the instance's note alone. */
const REPLAY_LANE = 'r:'

/**
 * Notes an item keeps at most: each is a replayed message its instance has not read yet, and the
 * item holds 400 KB. A replay waits for room (replays of many letters to one key at once).
 */
export const MAX_REPLAY_NOTES = 64

/** Whether a copy comes from a replay to an instance with state (an `r:` lane): new only while its note is kept. */
export function isReplayed(origin: Origin): boolean {
  return origin.lane.startsWith(REPLAY_LANE)
}

/** The origin of a replay to an instance with state: a lane of its own, at 0. */
export function replayOrigin(): Origin {
  return { lane: `${REPLAY_LANE}${nanoid(12)}`, pos: '0', i: 0, fence: '0' }
}

function noteAt(meta: InstanceMeta, id: string, origin: Origin): number {
  return meta.replays?.findIndex(([noted, lane]) => noted === id && lane === origin.lane) ?? -1
}

/** Whether `meta` keeps the note of message `id` replayed under `origin`: the instance has not read it. */
export function awaitsReplay(meta: InstanceMeta, id: string, origin: Origin): boolean {
  return noteAt(meta, id, origin) >= 0
}

/** Ends the note of `envelope`, a replay's copy read now (or one whose replay will not send it). */
export function readReplay(meta: InstanceMeta, envelope: { id: string; origin?: Origin | undefined }): void {
  const at = meta.replays === undefined ? -1 : noteAt(meta, envelope.id, envelope.origin!)
  if (at < 0) return
  meta.replays!.splice(at, 1)
  if (meta.replays!.length === 0) delete meta.replays
}

/**
 * Which replay of a letter wrote a note: the letter's `deadAt` (a newer letter of the message is a
 * new death) and how many replays had held that letter (`gen`). A later one outranks.
 */
export interface ReplayRank {
  deadAt: number
  gen: number
}

function outranks(a: ReplayRank, b: ReplayRank): boolean {
  return a.deadAt !== b.deadAt ? a.deadAt > b.deadAt : a.gen > b.gen
}

/**
 * Notes that message `id` is about to be replayed under `origin` by the replay ranked `rank`, in
 * place of the notes of it by earlier replays (which never sent: nothing is sent before a letter
 * has `sentAs`, and a letter that has it is only ever looked at, `resume`): `noted`; `full` when
 * the item keeps MAX_REPLAY_NOTES others; `outranked` when a later replay of the letter noted it
 * already (this one was taken over, and must not undo that one's note). A replay of a letter that
 * may have been sent only looks: `noted` while its note stands, `gone` once the instance read it.
 */
export function noteReplay(meta: InstanceMeta, id: string, origin: Origin, how: { resume: true } | { resume: false; rank: ReplayRank }): 'noted' | 'full' | 'gone' | 'outranked' {
  if (how.resume) return awaitsReplay(meta, id, origin) ? 'noted' : 'gone'
  const mine = (meta.replays ?? []).filter(([noted]) => noted === id)
  if (mine.some(([, , deadAt, gen]) => outranks({ deadAt: deadAt ?? 0, gen: gen ?? 0 }, how.rank))) return 'outranked'
  const others = (meta.replays ?? []).filter(([noted]) => noted !== id)
  if (others.length >= MAX_REPLAY_NOTES) return 'full'
  meta.replays = [...others, [id, origin.lane, how.rank.deadAt, how.rank.gen]]
  return 'noted'
}
