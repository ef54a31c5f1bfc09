// What a turn sends always sits at a record its instance had not read before. A direct run's
// messages wait in the item (PENDING); a redelivered batch (every record a copy) does not place
// them at an old position, which a fence of its lane may already have passed; the flush record,
// new to the instance, does. A run that stops at a record places nothing there: the run that reads
// it does. A replay of a dead message runs, under the same id. Its receiver applies every message
// once. Memory stores, no server.
import t from 'tap'
import { Actor, RetryableError, TerminalError, type ActorClass, type Context } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { recordingSender } from './fixtures/recording-sender.js'

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

/** A host on memory stores whose sends are kept in `sent`. */
function rig(actors: ActorClass[]) {
  const state = new MemoryStateStore()
  const journal = new MemoryJournalStore()
  const sent: Envelope[] = []
  const host = new DurableHost({
    actors,
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: recordingSender(sent),
    logger: createLogger('silent'),
  })
  return { state, journal, sent, host }
}

let pickyFails = new Set<number>()
/** Fails for the messages in `pickyFails` (once each with a retry, for good with a TerminalError at n < 0). */
class Picky extends Actor<{ k: string; n: number }, void, { ns: number[] }> {
  static readonly type = 'lw.picky'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { ns: [] as number[] }
  }
  receive(m: { k: string; n: number }, ctx: Context<{ ns: number[] }>) {
    // Its retry waits a second: longer than the run has, too short to park (retry-parking.ts), so it is left for the redelivery.
    if (pickyFails.delete(m.n)) throw new RetryableError(`not yet: ${m.n}`, { retryAfterMs: 1_000 })
    if (pickyFails.has(-m.n)) throw new TerminalError(`bad: ${m.n}`)
    ctx.state.ns.push(m.n)
    ctx.tell(Sink, { n: m.n })
  }
}

const toldTo = (type: string, n: number, origin = true): Envelope => {
  const e = makeEnvelope({ id: `${type}-${n}` as MessageId, type, key: 'g', body: { k: 'g', n }, correlationId: 'c' as CorrelationId, sentAt: 1 })
  if (origin) e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: String(n) }
  return e
}

t.test('a redelivery places nothing new at an old record; the flush record places what waited; the receiver gets each message once', async (t) => {
  const { state, sent, host } = rig([Relay, Sink])
  const told = (n: number) => toldTo(Relay.type, n)
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

t.test('a run that stops at a record sends what it made from the record before; the retry of that record gets a position of its own', async (t) => {
  const { state, sent, host } = rig([Picky, Sink])
  pickyFails = new Set([2])
  const b: DurableRecord[] = [1, 2, 3].map((n) => ({ sequenceNumber: String(100 + n), data: encodeRecord(toldTo(Picky.type, n)) }))
  const first = await host.handle({ stream: 's', shardId: 'in', records: b, deadline: Date.now() + 500 })
  t.equal(first.failedFrom, '102', 'the batch stopped at the failing record')
  await host.handle({ stream: 's', shardId: 'in', records: b.slice(1) })
  const toSink = sent.filter((e) => e.type === Sink.type)
  t.same(
    toSink.map((e) => [(e.body as { n: number }).n, e.origin?.pos, e.origin?.i]),
    [
      [1, '101', 0],
      [2, '103', 0],
      [3, '103', 1],
    ],
    'each message at a record its run read, no two at one place',
  )
  const records = toSink.map((e, i) => ({ sequenceNumber: String(500 + i), data: encodeRecord(e) }))
  await host.handle({ stream: 's', shardId: 'sink', records })
  const sink = await state.get(Sink.type, '')
  t.same(sink && (JSON.parse(sink.state) as { json: { ns: number[] } }).json.ns, [1, 2, 3], 'the Sink applied all three')
})

t.test('a dead message replayed under a new origin runs, with or without an origin the first time', async (t) => {
  for (const origin of [true, false]) {
    const { state, journal, host } = rig([Picky, Sink])
    pickyFails = new Set([-1])
    const e = toldTo(Picky.type, 1, origin)
    await host.handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '101', data: encodeRecord(e) }] })
    t.equal((await journal.deadLetters()).length, 1, 'dead')
    pickyFails = new Set()
    // As AwsSystem.replay sends it: the same id, a new place in the replaying process's lane.
    const { origin: _first, ...rest } = e
    const replay: Envelope = { ...rest, attempt: 0, origin: { lane: 'p:replayer', pos: '0', i: 0, fence: '0' } }
    const result = await host.handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '102', data: encodeRecord(replay) }] })
    t.match(result, { applied: 1, duplicates: 0 }, origin ? 'with an origin' : 'without one')
    const stored = await state.get(Picky.type, 'g')
    t.same(stored && (JSON.parse(stored.state) as { json: { ns: number[] } }).json.ns, [1])
  }
})

t.test('a held message run by a run of another stream says nothing of that stream: a message of its lane still on its way there applies', async (t) => {
  const { state, host } = rig([Picky, Sink])
  const put = async (paused: boolean) => {
    const stored = await state.get(Picky.type, 'g')
    const meta = decodeMeta(stored?.meta)
    if (paused) meta.paused = true
    else delete meta.paused
    await state.put(Picky.type, 'g', { state: stored?.state ?? '{"json":{"ns":[]}}', version: (stored?.version ?? 0) + 1, updatedAt: 1, meta: encodeMeta(meta) }, stored?.version)
  }
  // Each with the fence at its own position: everything before it in the lane was put before it.
  const m = (n: number) => toldTo(Picky.type, n)
  await put(true)
  // m7 (fence 7: m5 was put before it) went to a priority stream and is held there.
  await host.handle({ stream: 'urgent', shardId: 'u', records: [{ sequenceNumber: '100', data: encodeRecord(m(7)) }] })
  await put(false)
  // m5 went to the default stream first, whose reader is behind: it reads m5 only now, after running the held m7.
  const result = await host.handle({ stream: 'default', shardId: 'd', records: [{ sequenceNumber: '200', data: encodeRecord(m(5)) }] })
  t.match(result, { duplicates: 0 })
  const stored = await state.get(Picky.type, 'g')
  t.same(stored && (JSON.parse(stored.state) as { json: { ns: number[] } }).json.ns, [7, 5], 'both applied, the held one first')
})
