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
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { STATELESS_SEEN } from '../../lib/hosts/durable/stateless-memory.js'
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

/** A downstream outage with a long story: every message fails, each with 5 KB of error text. */
class Down extends Actor<{ name: string }> {
  static readonly type = 'rel.down'
  static readonly policy = { maxAttempts: 10 }
  receive(): void {
    throw new RetryableError(`the service is down: ${'x'.repeat(5_000)}`, { retryAfterMs: 60_000 })
  }
}

const codec = new RecordCodec()
let n = 0
function record(name: string, type = Slow.type): DurableRecord {
  n++
  const e: Envelope = makeEnvelope({ id: `m-${name}` as MessageId, type, key: '', body: { name }, correlationId: `m-${name}` as string as CorrelationId, sentAt: 1 })
  e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: '1' }
  return { sequenceNumber: String(1_000 + n), data: codec.encode(e), arrivedAt: 1_700_000_000_000 }
}

function makeHost() {
  const journal = new MemoryJournalStore()
  const state = new MemoryStateStore()
  const host = new DurableHost({
    actors: [Slow, Down],
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: async (): Promise<SendReport> => ({ results: [], sent: 0, failed: 0 }) },
    logger: createLogger('silent' as never),
  })
  /** The shard's memory of stateless messages, as written. */
  const memory = async () => {
    const item = await state.get(STATELESS_SEEN, 'in/shardId-000000000000')
    return { bytes: Buffer.byteLength(item?.meta ?? ''), meta: decodeMeta(item?.meta) }
  }
  return { host, journal, memory }
}

t.test('a stateless retry that waits past every deadline ends after its attempts, over deliveries', async (t) => {
  const { host, journal, memory } = makeHost()
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
  t.ok(runs.get('after')! >= 1, `the message after it ran (${runs.get('after')} times: at least once, as a stateless message after an unfinished record is)`)
  t.equal((await memory()).meta.retrying, undefined, 'the memory keeps no attempts once it ended')
})

t.test('the attempts a shard keeps stay small, however many messages fail and whatever they say', async (t) => {
  const { host, memory } = makeHost()
  const batch = Array.from({ length: 100 }, (_, k) => record(`down-${k}`, Down.type))
  for (let delivery = 0; delivery < 4; delivery++) {
    const result = await host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: batch, deadline: Date.now() + 2_000 })
    t.equal(result.failedFrom, batch[0]!.sequenceNumber, `delivery ${delivery + 1}: left for the next`)
  }
  const { bytes, meta } = await memory()
  t.ok(bytes < 40 * 1024, `the memory item stays small (${bytes} bytes)`)
  t.ok(meta.retrying !== undefined && meta.retrying.length >= 1, `and keeps the attempts of some (${meta.retrying?.length})`)
  const [, attempts] = meta.retrying!.at(-1)!
  t.equal(attempts.length, 4, "the last one's four attempts")
  t.ok(attempts.every((a) => a.error.stack === undefined && a.error.message.length <= 256), 'each without its stack, its message cut')
})
