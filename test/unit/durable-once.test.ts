// ctx.once in the durable host: a turn that runs again in the same host (its commit lost to a
// conflict, or failed and redelivered) does not run its side effect again.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { StoreConflictError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import type { StoredInstance } from '../../lib/store/index.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'

/** A state store whose next `fails` puts of `pay` items throw what `error` makes. */
class FailingPuts extends MemoryStateStore {
  constructor(
    private fails: number,
    private readonly error: (type: string, key: string, expected: number | undefined) => Error,
  ) {
    super()
  }

  override put(type: string, key: string, value: StoredInstance, expected: number | undefined) {
    if (type === 'pay' && this.fails-- > 0) throw this.error(type, key, expected)
    return super.put(type, key, value, expected)
  }
}

function setup(state: MemoryStateStore) {
  const charges: string[] = []
  class Pay extends Actor<{ k: string }, number, { n: number }> {
    static readonly type = 'pay'
    key(b: { k: string }) {
      return b.k
    }
    initialState() {
      return { n: 0 }
    }
    async receive(b: { k: string }, ctx: Context<{ n: number }>) {
      await ctx.once('charge', () => charges.push(b.k))
      ctx.state.n++
      return ctx.state.n
    }
  }
  const host = new DurableHost({
    actors: [Pay],
    state,
    timers: new MemoryTimerStore(),
    journal: new MemoryJournalStore(),
    messages: { send: () => Promise.reject(new Error('this actor sends nothing')) },
    logger: createLogger('silent'),
  })
  const id = 'm1' as MessageId
  const envelope = makeEnvelope({ id, type: 'pay', key: 'a', body: { k: 'a' }, correlationId: id as string as CorrelationId, sentAt: 1 })
  const batch = { stream: 's', shardId: 'shardId-000000000000', records: [{ sequenceNumber: '100', data: encodeRecord(envelope) }] }
  return { host, charges, batch }
}

t.test('a turn rerun after a lost conditional write does not charge again', async (t) => {
  const state = new FailingPuts(1, (type, key, expected) => new StoreConflictError(`${type}#${key}`, expected))
  const { host, charges, batch } = setup(state)
  const result = await host.handle(batch)
  t.equal(result.conflicts, 1, 'the first commit lost')
  t.equal(result.failedFrom, undefined, 'the rerun committed')
  t.same(charges, ['a'], 'the side effect ran once')
  t.equal((await state.get('pay', 'a'))?.version, 1)
})

t.test('a turn redelivered after its commit failed does not charge again in the same host', async (t) => {
  const state = new FailingPuts(1, () => new Error('DynamoDB did not answer'))
  const { host, charges, batch } = setup(state)
  t.equal((await host.handle(batch)).failedFrom, '100', 'left for redelivery')
  t.equal((await host.handle(batch)).failedFrom, undefined, 'the redelivery committed')
  t.same(charges, ['a'], 'the side effect ran once')
})
