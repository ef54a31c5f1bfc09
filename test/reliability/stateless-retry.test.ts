// A stateless message whose retry waits past every batch's deadline (a RetryableError asking for
// a minute, a Lambda with seconds left) leaves its record for the next delivery, as a stateful
// one does; its failed attempts are kept in the shard's memory of stateless messages, so they go
// on from one delivery to the next and the message ends as its policy says (a dead letter after
// maxAttempts), instead of starting over each time and holding its shard for good. Run through
// the durable host on memory stores, delivering again from the record it reports, as the
// mapping does.
import t from 'tap'
import { Actor } from '../../lib/core/actor.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import { RetryableError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { SendReport } from '../../lib/transport/kinesis.js'

const runs = new Map<string, number>()

class Slow extends Actor<{ name: string }> {
  static readonly type = 'rel.slow'
  static readonly policy = { maxAttempts: 3 }
  receive(msg: { name: string }) {
    runs.set(msg.name, (runs.get(msg.name) ?? 0) + 1)
    if (msg.name === 'slow') throw new RetryableError('the service says: come back in a minute', { retryAfterMs: 60_000 })
  }
}

const codec = new RecordCodec()
let n = 0
function record(name: string): DurableRecord {
  n++
  const e: Envelope = makeEnvelope({ id: `m-${name}` as MessageId, type: Slow.type, key: '', body: { name }, correlationId: `m-${name}` as string as CorrelationId, sentAt: 1 })
  e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: '1' }
  return { sequenceNumber: String(1_000 + n), data: codec.encode(e), arrivedAt: 1_700_000_000_000 }
}

t.test('a stateless retry that waits past every deadline ends after its attempts, over deliveries', async (t) => {
  const journal = new MemoryJournalStore()
  const host = new DurableHost({
    actors: [Slow],
    state: new MemoryStateStore(),
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: async (): Promise<SendReport> => ({ results: [], sent: 0, failed: 0 }) },
    logger: createLogger('silent' as never),
  })
  const batch = [record('before'), record('slow'), record('after')]
  let from = 0
  let deliveries = 0
  while (deliveries < 10) {
    deliveries++
    const result = await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch.slice(from), deadline: Date.now() + 2_000 })
    if (result.failedFrom === undefined) break
    from = batch.findIndex((r) => r.sequenceNumber === result.failedFrom)
    t.equal(batch[from]?.sequenceNumber, batch[1]!.sequenceNumber, `delivery ${deliveries} stopped at the slow message`)
  }
  t.equal(deliveries, 3, 'the third delivery ended it: one attempt each, three in all')
  const letters = await journal.deadLetters()
  t.same(
    letters.map((l) => [l.envelope.id, l.attempts.length]),
    [['m-slow', 3]],
    'a dead letter with its three attempts',
  )
  t.equal(runs.get('slow'), 3, 'run once a delivery')
  t.equal(runs.get('before'), 1, 'the message before it ran once')
  t.ok(runs.get('after')! >= 1, `the message after it ran (${runs.get('after')} times: at least once, as a stateless message after an unfinished record is)`)
})
