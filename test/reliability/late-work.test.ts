// What a turn sends always sits at a record its instance had not read before. A direct run's
// messages wait in the item (PENDING); a redelivered batch (every record a copy) does not place
// them at an old position, which a fence of its lane may already have passed; the flush record,
// new to the instance, does. Its receiver applies every message once. Memory stores, no server.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import type { SendReport } from '../../lib/transport/kinesis.js'

class Relay extends Actor<{ k: string; n: number }, void, { n: number }> {
  static readonly type = 'lw.relay'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(m: { k: string; n: number }, ctx: Context<{ n: number }>) {
    ctx.state.n = m.n
    ctx.tell(Sink, { n: m.n })
  }
}

class Sink extends Actor<{ n: number }, void, { ns: number[] }> {
  static readonly type = 'lw.sink'
  initialState() {
    return { ns: [] as number[] }
  }
  receive(m: { n: number }, ctx: Context<{ ns: number[] }>) {
    ctx.state.ns.push(m.n)
  }
}

t.test('a redelivery places nothing new at an old record; the flush record places what waited; the receiver gets each message once', async (t) => {
  const state = new MemoryStateStore()
  const sent: Envelope[] = []
  const host = new DurableHost({
    actors: [Relay, Sink],
    state,
    timers: new MemoryTimerStore(),
    journal: new MemoryJournalStore(),
    messages: {
      send: async (envelopes): Promise<SendReport> => {
        sent.push(...envelopes.map((e) => structuredClone(e)))
        return { sent: envelopes.length, failed: 0, results: envelopes.map((e) => ({ status: 'sent', messageId: e.id, actor: e.type, stream: 's', partitionKey: e.type, shardId: 'x', sequenceNumber: '1', attempts: 1 })) }
      },
    },
    logger: createLogger('error'),
  })
  const told = (n: number): Envelope => {
    const e = makeEnvelope({ id: `t${n}` as MessageId, type: Relay.type, key: 'g', body: { k: 'g', n }, correlationId: 'c' as CorrelationId, sentAt: 1 })
    e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: String(n) }
    return e
  }
  const batch = (records: DurableRecord[]) => host.handle({ stream: 's', shardId: 'in', records })

  const b1: DurableRecord[] = [{ sequenceNumber: '101', data: encodeRecord(told(1)) }]
  await batch(b1)
  // A direct run (an ask by invocation): its message to the Sink waits in the item; a flush record goes on the stream.
  await host.handleDirect(told(2), Infinity, undefined, 's')
  const flush = sent.find((e) => e.control === 'flush')
  t.ok(flush, 'the direct run put a flush record for the instance')
  t.equal(sent.filter((e) => e.type === Sink.type).length, 1, "the direct run's message waits: only the first turn's went out")

  // The first batch delivered again: every record is a copy, and nothing new is placed at record 101.
  sent.length = 0
  await batch(b1)
  t.equal(sent.filter((e) => e.type === Sink.type && e.body && (e.body as { n: number }).n === 2).length, 0, 'a redelivery does not place the waiting message at an old record')

  // The flush record arrives as a new record: the waiting message is placed there and sent.
  await batch([{ sequenceNumber: '102', data: encodeRecord(flush!) }])
  const two = sent.filter((e) => e.type === Sink.type && (e.body as { n: number }).n === 2)
  t.equal(two.length, 1, 'placed once, at the flush record')
  t.match(two[0]!.origin, { lane: 's:s/in', pos: '102', i: 0 })

  // Every copy the Sink could get, in order: it applies each message once.
  const toSink = sent.filter((e) => e.type === Sink.type)
  const records = [...toSink, ...toSink].map((e, i) => ({ sequenceNumber: String(500 + i), data: encodeRecord(e) }))
  await host.handle({ stream: 's', shardId: 'sink', records })
  const sink = await state.get(Sink.type, '')
  t.same(sink && (JSON.parse(sink.state) as { json: { ns: number[] } }).json.ns, [2], "the Sink (here fed only what was sent after the first batch) applied the direct run's message once")
})
