// A type's pause is read once per batch (batch-intake.ts, group-runner.ts), and a commit is
// conditional on its own item alone. So a resume can delete the pause item and scan the type's
// items for waiting work (aws/pauses.ts) between a batch's read of the pause and its commit: the
// scan misses what that commit leaves held or parked, and a quiet key would wait for good.
//
// Such a commit also sends a flush record for its instance, after it: the run that reads the
// record reads the pause again. Either that read finds the type still paused, and then the resume
// deletes the item after it, so after this commit, and its scan sees what waits; or it finds the
// type resumed, and runs what waits itself. A flush record run while the type is still paused
// holds nothing new and commits nothing, so it sends no flush record of its own. Only the commit
// that first leaves the item waiting needs one: an item a run loaded holding something held it
// when the scan read it, or got it from a commit after the scan that first left it waiting, and
// sent its own.
import { derivedId, type MessageId } from '../../core/ids.js'
import { flushRecord } from './flush-record.js'
import type { InstanceMeta } from './instance-meta.js'
import type { OutboxEntry } from './outbox.js'

/**
 * The flush record a commit at `version` sends when it read its type paused and leaves messages
 * waiting without a wake-up; none otherwise (a paused key's resume is written under the item's
 * version, so it sees this commit).
 */
export function typePauseCheck(type: string, key: string, meta: InstanceMeta, typePaused: boolean, version: number, now: number): OutboxEntry | undefined {
  if (!typePaused || meta.paused === true || meta.wake !== undefined) return undefined
  if (meta.held === undefined && meta.parked === undefined) return undefined
  const id = derivedId(`${type}#${key}` as MessageId, `pause-check.${version}`)
  return { kind: 'message', envelope: flushRecord(type, key, id, id, now) }
}
