// A replay whose send failed may still have put its message: the stream can take a record while
// the client sees an error (a timeout, a connection broken off after the request went out). The
// letter goes back, and a replay of it again must not apply the message twice, however long after.
// A receiver's memory of lanes cannot say so: the replaying process's fence passes the failed
// position once its send settles, and a silent lane is forgotten after its horizon.
//
// So a stateful receiver keeps a note, in its item, for each such message: the failed send's origin
// and the origin a later replay sends it under instead, in a lane of its own (`r:<id>`). Reading
// either copy ends the note (in the commit that reads it); reading the second marks the first seen. A copy from an `r:` lane is applied only
// while its note is there, and is a copy otherwise, whatever the lanes remember. The replaying
// process writes the note once its send failed, in one conditional write that first looks whether
// the instance has read the failed copy already (then the replay is done, and the letter is not put
// back); a replay of the letter again sends it only while the note is there (docs/guarantees.md).
import { nanoid } from 'nanoid'
import type { Envelope, Origin } from '../../core/envelope.js'
import type { InstanceMeta } from './instance-meta.js'
import { seenOnAnyStream } from './lane-memory.js'

/** The lanes of replays sent again after a send that failed: one per message, never a turn's or a process's. */
export const RESEND_LANE = 'r:'

/** Whether a copy comes from a replay sent again (an `r:` lane): applied only while its note is kept. */
export function isResend(origin: Origin): boolean {
  return origin.lane.startsWith(RESEND_LANE)
}

/** The origin a replay sent again goes under: a lane of its own, at 0. */
export function resendOrigin(): Origin {
  return { lane: `${RESEND_LANE}${nanoid(12)}`, pos: '0', i: 0, fence: '0' }
}

function placeOf(origin: Origin): string {
  return `${origin.lane}|${origin.pos}|${origin.i}`
}

function noteOf(meta: InstanceMeta, id: string): number {
  return meta.resends?.findIndex(([noted]) => noted === id) ?? -1
}

/** Whether `meta` keeps a note that message `id` may come again under `again`: neither of its copies was read. */
export function awaitsResend(meta: InstanceMeta, id: string, again: Origin): boolean {
  const at = noteOf(meta, id)
  return at >= 0 && meta.resends![at]![2] === placeOf(again)
}

/** Whether `envelope` is a replay sent again whose note the instance keeps: it has not read the message. */
export function resendIsNew(meta: InstanceMeta, envelope: Envelope): boolean {
  return awaitsResend(meta, envelope.id, envelope.origin!)
}

/**
 * Ends the note of `envelope`'s message when the copy read is one of the two it names. Returns the
 * failed send's origin when the copy read is the send again: a copy of the failed send may still
 * come (a request broken off that the stream took late), and must be known as one.
 */
export function readResend(meta: InstanceMeta, envelope: Envelope): Origin | undefined {
  if (meta.resends === undefined || envelope.origin === undefined) return undefined
  const at = noteOf(meta, envelope.id)
  if (at < 0) return undefined
  const [, first, again] = meta.resends[at]!
  const place = placeOf(envelope.origin)
  if (place !== first && place !== again) return undefined
  meta.resends.splice(at, 1)
  if (meta.resends.length === 0) delete meta.resends
  if (place === first) return undefined
  // `lane|pos|i`: a lane holds no "|" (envelope-fields.ts).
  const [lane, pos, i] = first.split('|') as [string, string, string]
  return { lane, pos, i: Number(i), fence: '0' }
}

/**
 * After a replay's send failed: `read` when the instance has read the failed copy (the replay is
 * done), `noted` when the note stands (written now, or kept from the replay before), `gone` when
 * the replay was itself a send again and its note is gone (one of its copies was read).
 */
export type ResendNoting = 'read' | 'noted' | 'gone'

/**
 * Notes in `meta` that message `id`, sent under `sent` by a send that failed, may come again under
 * `again`; `sent === again` when the replay was itself a send again, whose note must still be there.
 * Returns what it found, and whether `meta` changed.
 */
export function noteResend(meta: InstanceMeta, id: string, sent: Origin, again: Origin): { noting: ResendNoting; changed: boolean } {
  if (isResend(sent)) return { noting: awaitsResend(meta, id, sent) ? 'noted' : 'gone', changed: false }
  const refused = `|${placeOf(sent)}`
  if (seenOnAnyStream(meta.seen, sent) || meta.refused?.some((r) => r.endsWith(refused))) return { noting: 'read', changed: false }
  const at = noteOf(meta, id)
  const note: [string, string, string] = [id, placeOf(sent), placeOf(again)]
  if (at >= 0) meta.resends!.splice(at, 1)
  ;(meta.resends ??= []).push(note)
  return { noting: 'noted', changed: true }
}
