// The room an instance's item has for messages that wait in it: held while the key or its type is
// paused, or parked (for a token of a throttle, a slot, or behind a message waiting for its
// retry). They share the item's 400 KB with its state and bookkeeping, and an item too large to be
// written would stall its shard (its batch delivered again and again, every key behind it
// waiting). So before a commit, while the item as it would be written is over its limit, the
// newest waiting messages go, each a dead letter instead (`TROUPE_WAIT_LIMIT`), never applied,
// their records read already: the shard moves on, and a letter is replayed once the key runs
// again. Measured, not foreseen: whatever else grew the item (a state a turn grew, the memory of
// lanes, a failed attempt kept) is counted as it will be written, and the line gives way to it.
import type { Envelope } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import { encode } from '../../core/serialization.js'
import type { ActorType } from '../../turn/actor-type.js'
import { storedForm } from '../../turn/state-version.js'
import type { DurableContext } from './durable-context.js'
import { encodeMeta, type InstanceMeta } from './instance-meta.js'

/** Room kept for what the commit adds after the measure: the outbox's references to what it spilled, a wake-up. */
const MARGIN_BYTES = 16 * 1024

export type WaitingList = 'held' | 'parked'

/**
 * The bytes of the item as its commit will write `state` and `meta`, its outbox apart (what does
 * not fit the item waits in the overflow store, instance-commit.ts): undefined when nothing waits,
 * or the item has no limit. Without an overflow store a letter would take in the outbox what its
 * message took waiting (no shipped host is so built): undefined.
 */
export function itemMeasure(type: ActorType, state: unknown, meta: InstanceMeta, ctx: DurableContext): (() => number) | undefined {
  if (ctx.options.maxItemBytes === undefined || !ctx.overflow.spills || (meta.held === undefined && meta.parked === undefined)) return undefined
  let stateBytes: number
  try {
    stateBytes = Buffer.byteLength(storedForm(type, state).state)
  } catch {
    return undefined // what cannot be written is the commit's to find (CheckEachTurn)
  }
  return () => stateBytes + Buffer.byteLength(encodeMeta({ ...meta, outbox: undefined }))
}

/**
 * Takes out of `meta` the newest waiting messages (held ones first: a message is held only while
 * paused, after every parked one), while the item as `measure` gives its bytes is over
 * `maxItemBytes`, less a margin; returns them, oldest first, each with the list it was in. The
 * line that stays is what came first: nothing waits behind a message taken out.
 */
export function overflowingWaits(meta: InstanceMeta, maxItemBytes: number, measure: () => number): { envelope: Envelope; list: WaitingList }[] {
  const room = maxItemBytes - Math.min(MARGIN_BYTES, maxItemBytes / 8)
  const out: { envelope: Envelope; list: WaitingList }[] = []
  for (let over = measure() - room; over > 0 && (meta.held !== undefined || meta.parked !== undefined); over = measure() - room) {
    // The newest, as many as their bytes alone cover half of what is over (one at least). In the
    // item each takes more than alone (superjson's paths to its values are longer there), so a
    // pass frees about what is over and no more, and the next one measures again.
    for (let freed = 0; freed === 0 || freed < over / 2; ) {
      const list: WaitingList | undefined = meta.held !== undefined ? 'held' : meta.parked !== undefined ? 'parked' : undefined
      if (list === undefined) break
      const line = meta[list]!
      const envelope = line.pop()!
      if (line.length === 0) delete meta[list]
      freed += Buffer.byteLength(encode(envelope))
      out.unshift({ envelope, list })
    }
  }
  return out
}

/** Why `envelope`, which could not wait in the item of `type#key`, is a dead letter. */
export function noRoomToWait(type: string, envelope: Envelope, why: WaitingList): TroupeError {
  const wait = why === 'held' ? 'be held while it is paused' : 'wait in line (for a token of its throttle, a slot of its concurrency, or behind a message waiting for its retry)'
  return new TroupeError(
    'TROUPE_WAIT_LIMIT',
    `${type}#${envelope.key} has no room left in its item for message ${envelope.id} to ${wait}: what waits there shares the item's 400 KB with its state. ` +
      `The message was not applied; replay the letter once the key runs again (${why === 'held' ? 'resume it' : 'its line moves'}); what comes after it runs before the replay.`,
  )
}
