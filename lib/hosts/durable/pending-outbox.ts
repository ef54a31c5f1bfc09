// What a run reads and puts for a PENDING segment, the outbox of a direct run that waits in the
// instance's item (outbox.ts): its entries, read back from the overflow store when they were
// spilled; and the flush record that makes the instance's shard place and send its messages.
import type { Envelope } from '../../core/envelope.js'
import { StoreConflictError, TroupeError } from '../../core/errors.js'
import { derivedId } from '../../core/ids.js'
import type { Group } from './durable-batch.js'
import type { DurableContext } from './durable-context.js'
import { flushRecord } from './flush-record.js'
import type { OutboxEntry, OutboxSegment } from './outbox.js'

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
