// What a run keeps, reads and puts for a PENDING segment, the outbox of a direct run that waits in the
// instance's item (outbox.ts): its entries, read back from the overflow store when they were
// spilled; and the flush record that makes the instance's shard place and send its messages.
import type { Envelope } from '../../core/envelope.js'
import { StoreConflictError, TroupeError } from '../../core/errors.js'
import { derivedId } from '../../core/ids.js'
import type { Group, Source } from './durable-batch.js'
import type { DurableContext } from './durable-context.js'
import { flushRecord } from './flush-record.js'
import { appendEntries, PENDING, type OutboxEntry, type OutboxSegment } from './outbox.js'
import { isAnswer } from './pending-receipts.js'

/**
 * Keeps in `kept`, as PENDING, what a run made with no record of its own to sit at (a direct run;
 * a redelivery whose only change is a throttle's wake-up, or a letter for a record read before),
 * after what waits there already. Returns what its commit writes now (keyed writes, written again
 * when placed; its messages wait for the shard's next turn of the instance), and the asked message
 * whose final receipt travels in this commit, if any.
 */
export async function keepPending(ctx: DurableContext, group: Group, source: Source, kept: OutboxSegment[], made: OutboxEntry[]): Promise<{ pendingNow: OutboxEntry[]; answered: string | undefined }> {
  // The asked message's final receipt travels in this commit: the ask gets its answer from the
  // run, and the receipt is written with the instance's next record (pending-receipts.ts).
  const answered = source.kind === 'direct' && source.keepsAnswer === true ? source.envelope.id : undefined
  // Known by the run that made them: the same run again writes them again (settlePending).
  if (source.kind === 'direct') for (const e of made) if (e.kind === 'receipt') e.by = source.envelope.id
  // What waits already is read back when it was kept out of line, and kept with what this run adds.
  const k = kept.findIndex((s) => s.lane === PENDING)
  if (k >= 0) kept[k] = { lane: PENDING, pos: kept[k]!.pos, entries: appendEntries(await pendingEntries(ctx, group, kept[k]!), made) }
  else kept.push({ lane: PENDING, pos: '0', entries: made })
  return { pendingNow: made.filter((e) => e.kind !== 'message' && !isAnswer(e, answered)), answered }
}

/**
 * A direct run's entries, from the overflow store when spilled. A commit that placed them deletes
 * them: gone, and the instance moved on since `group` was loaded, they are a conflict (reload and
 * run again), not a loss.
 */
export async function pendingEntries(ctx: DurableContext, group: Group, segment: OutboxSegment): Promise<OutboxEntry[]> {
  try {
    return await ctx.overflow.entriesOf(segment)
  } catch (error) {
    if (!(error instanceof TroupeError && error.code === 'TROUPE_OVERFLOW_MISSING')) throw error
    const now = await ctx.options.state.get(group.type.type, group.key)
    if (now?.version !== group.stored?.version) throw new StoreConflictError(`${group.type.type}#${group.key}`, group.stored?.version)
    throw error
  }
}

/** Puts a flush record for the instance of `envelope` on its stream: the turn that reads it places and sends what waits. */
export async function putFlushRecord(ctx: DurableContext, envelope: Envelope): Promise<void> {
  const report = await ctx.options.messages.send([flushRecord(envelope.type, envelope.key, derivedId(envelope.id, 'flush'), envelope.correlationId, ctx.clock.now())])
  const failed = report.results.find((r) => r.status !== 'sent')
  if (failed?.status === 'failed') throw failed.error
}
