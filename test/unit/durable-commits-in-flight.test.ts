// A durable host keeps at most `concurrency` commits in flight across the batches it runs at once
// (a process reading several shards runs a batch of each); one batch's commits never wait.
import t from 'tap'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableBatch } from '../../lib/hosts/durable/durable-host.js'
import { Actor, type Context } from '../../lib/index.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import type { SendReport } from '../../lib/transport/kinesis.js'

class Tally extends Actor<{ k: string }, void, { n: number }> {
  static readonly type = 'tally'
  key(msg: { k: string }) {
    return msg.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(_msg: { k: string }, ctx: Context<{ n: number }>) {
    ctx.state.n++
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))
const codec = new RecordCodec()

/** A memory state store whose writes take a few ticks, counting how many are in flight at once. */
class SlowWrites extends MemoryStateStore {
  inFlight = 0
  most = 0
  override async put(...args: Parameters<MemoryStateStore['put']>): Promise<void> {
    this.most = Math.max(this.most, ++this.inFlight)
    for (let i = 0; i < 5; i++) await tick()
    this.inFlight--
    return super.put(...args)
  }
}

function batch(shard: number, keys: string[]): DurableBatch {
  let seq = 100
  const records = keys.map((k) => {
    const id = `${shard}-${k}` as MessageId
    const envelope = makeEnvelope({ id, type: Tally.type, key: k, body: { k }, correlationId: id as string as CorrelationId, sentAt: 1 })
    return { sequenceNumber: String(++seq), data: Buffer.from(codec.encode(envelope)) }
  })
  return { stream: 'in', shardId: `shardId-00000000000${shard}`, records }
}

function makeHost(state: SlowWrites) {
  return new DurableHost({
    actors: [Tally],
    state,
    timers: new MemoryTimerStore(),
    journal: new MemoryJournalStore(),
    concurrency: 2,
    messages: { send: async (): Promise<SendReport> => Promise.reject(new Error('no turn of this test sends a message')) },
    logger: createLogger('error'),
  })
}

t.test('batches run at once share the host’s commits in flight; every instance commits', async (t) => {
  const state = new SlowWrites()
  const host = makeHost(state)
  const results = await Promise.all([0, 1, 2].map((shard) => host.handle(batch(shard, [`a${shard}`, `b${shard}`, `c${shard}`]))))
  for (const r of results) t.same(r, { applied: 3, duplicates: 0, conflicts: 0 })
  t.equal(state.most, 2, 'never more than the concurrency in flight')
  for (const shard of [0, 1, 2]) for (const k of ['a', 'b', 'c']) t.equal(JSON.parse((await state.get(Tally.type, `${k}${shard}`))!.state).json.n, 1)
})

t.test('one batch alone writes as many at once as it runs', async (t) => {
  const state = new SlowWrites()
  await makeHost(state).handle(batch(0, ['a', 'b', 'c', 'd']))
  t.equal(state.most, 2)
})
