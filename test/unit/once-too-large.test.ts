// A ctx.once result too large to record (no overflow store) is a dead letter at once, at most once as
// at least once, and its record says that fn ran: a later run gets OnceResultLostError.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { TroupeError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import type { SideEffectRecord } from '../../lib/store/index.js'
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'

/** Refuses a large result as DynamoDB does (the store throws TROUPE_ONCE_TOO_LARGE before its PutItem). */
class Small extends MemorySideEffects {
  override put(record: SideEffectRecord) {
    if ((record.result?.length ?? 0) > 1000) throw new TroupeError('TROUPE_ONCE_TOO_LARGE', 'too large')
    super.put(record)
  }
}

t.test('at most once, a result too large for its record without an overflow store is a dead letter at once', async (t) => {
  let calls = 0
  class Pay extends Actor<{ k: string }, number, { n: number }> {
    static readonly type = 'pay'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }
    key(b: { k: string }) {
      return b.k
    }
    initialState() {
      return { n: 0 }
    }
    async receive(_b: { k: string }, ctx: Context<{ n: number }>) {
      await ctx.once('charge', () => (calls++, 'x'.repeat(2000)), { semantics: 'at-most-once' })
      ctx.state.n++
      return ctx.state.n
    }
  }
  const journal = new MemoryJournalStore()
  const state = new MemoryStateStore()
  const host = new DurableHost({
    actors: [Pay],
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: () => Promise.reject(new Error('this actor sends nothing')) },
    logger: createLogger('silent'),
    sideEffects: new Small(),
  })
  const id = 'm1' as MessageId
  const envelope = makeEnvelope({ id, type: 'pay', key: 'a', body: { k: 'a' }, correlationId: id as string as CorrelationId, sentAt: 1 })
  await host.handle({ stream: 's', shardId: 'shardId-000000000000', records: [{ sequenceNumber: '100', data: encodeRecord(envelope) }] })
  t.equal(calls, 1)
  t.equal(journal.deadLetters()[0]?.error.code, 'TROUPE_ONCE_TOO_LARGE', 'a dead letter at once, as at least once')
})
