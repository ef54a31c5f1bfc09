// The first phase of an instance's run (instance-run.ts): the outbox its item holds from earlier
// commits. A segment made in this batch's lane at or after the batch's start may not all have
// gone out (this is a redelivery of its position): it is sent again. A direct run's PENDING
// segment is placed in the shard's lane by the first shard run that has late work (or, in a
// direct run, its keyed writes settled). What is neither is kept for this run's commit.
import { comparePosition } from '../../core/position.js'
import type { Group, Source } from './durable-batch.js'
import type { DurableContext } from './durable-context.js'
import { LEGACY_LANE } from './instance-meta.js'
import { sameStream } from './lane-memory.js'
import { PENDING, type OutboxEntry, type OutboxSegment } from './outbox.js'
import { pendingEntries } from './pending-outbox.js'
import { settlePending } from './pending-receipts.js'
import type { SentSegments } from './sent-segments.js'

/** What the stored outbox leaves the run: segments its commit keeps, entries it places in its lane, and whether the item must be written. */
export interface StoredOutbox {
  kept: OutboxSegment[]
  placed: OutboxEntry[]
  changed: boolean
}

/**
 * Sends again, places or keeps each of `segments`, the outbox of instance `name` as `group` loaded
 * it, for a run from `source`; `lateWork`: the run may run what waits in the item.
 */
export async function placeStored(ctx: DurableContext, sent: SentSegments, group: Group, source: Source, name: string, segments: readonly OutboxSegment[], lateWork: boolean): Promise<StoredOutbox> {
  const { outbox, overflow } = ctx
  const out: StoredOutbox = { kept: [], placed: [], changed: false }
  for (const segment of segments) {
    if (source.kind === 'shard') {
      if (segment.lane === PENDING && lateWork) {
        // A direct invocation's entries: placed in this lane now, sent after this commit; its
        // receipts before it, so that a reader finds each in the item or in the journal (pending-receipts.ts).
        const entries = await pendingEntries(ctx, group, segment)
        const receipts = entries.filter((e) => e.kind === 'receipt')
        if (receipts.length !== 0) await outbox.send(receipts)
        out.placed.push(...entries.filter((e) => e.kind !== 'receipt'))
        out.changed = true
        continue
      }
      if (segment.lane === source.lane || segment.lane === LEGACY_LANE) {
        // Made in this lane: at or after the batch's start it may not all have gone out (this
        // is a redelivery of its position); before it, it was sent for good.
        const again = segment.lane === LEGACY_LANE || comparePosition(segment.pos, source.first) >= 0
        if (again && !sent.sentHere(name, segment)) {
          await outbox.send(await overflow.entriesOf(segment), source.progress.fence())
          sent.rememberSent(name, segment)
        }
        continue
      }
      // A parent shard's (the stream was resharded): read to its end before this child was.
      if (sameStream(segment.lane, source.lane)) continue
    } else if (segment.lane === PENDING) {
      // An earlier direct run's: its timers and letters went out after its commit and are
      // written again here (keyed writes) so they need not be kept; its messages wait for the
      // shard; its receipts stay, written with the messages, until there are too many (pending-receipts.ts).
      const entries = await pendingEntries(ctx, group, segment)
      const { write, keep } = settlePending(entries, source.envelope.id)
      if (write.length !== 0) await outbox.send(write)
      if (keep.length !== 0) out.kept.push({ lane: PENDING, pos: segment.pos, entries: keep })
      continue
    }
    out.kept.push(segment)
  }
  return out
}
