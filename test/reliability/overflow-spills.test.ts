// An outbox too large for its instance's item waits in the overflow store, written before the
// commit. What a commit spilled is deleted when nothing refers to it, and never while the item
// does: a put whose answer was lost (a retried put then meets its own write as a conflict) may
// have stored the item that refers to it. Memory stores, no server.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import { StoreConflictError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryPayloadStore } from '../../lib/store/payload-store.js'
import { recordingSender } from './fixtures/recording-sender.js'

const FAN = 200

/** Tells the Sink FAN messages of 200 bytes: an outbox of about 60 KB, over the 30 KB item here. */
class Fan extends Actor<{ k: string; n: number; big?: number }, void, { n: number; pad: string }> {
  static readonly type = 'os.fan'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0, pad: '' }
  }
  receive(m: { k: string; n: number; big?: number }, ctx: Context<{ n: number; pad: string }>) {
    ctx.state.n = m.n
    if (m.big) ctx.state.pad = 'x'.repeat(m.big)
    for (let i = 0; i < FAN; i++) ctx.tell(Sink, { n: i, pad: 'y'.repeat(200) })
  }
}

class Sink extends Actor<{ n: number; pad: string }, void, { c: number }> {
  static readonly type = 'os.sink'
  initialState() {
    return { c: 0 }
  }
  receive(_m: unknown, ctx: Context<{ c: number }>) {
    ctx.state.c++
  }
}

function rig(options: { ambiguousPut: boolean }) {
  const inner = new MemoryStateStore()
  let ambiguous = options.ambiguousPut
  // The first put of the Fan is stored, and then reported as a conflict, as a put retried after a lost answer is.
  const state = Object.create(inner) as MemoryStateStore
  state.put = async (type, key, item, expected) => {
    await inner.put(type, key, item, expected)
    if (ambiguous && type === Fan.type) {
      ambiguous = false
      throw new StoreConflictError(`${type}#${key}`, expected)
    }
  }
  const overflow = new MemoryPayloadStore()
  const sent: Envelope[] = []
  const host = new DurableHost({
    actors: [Fan, Sink],
    state,
    timers: new MemoryTimerStore(),
    journal: new MemoryJournalStore(),
    overflow,
    maxItemBytes: 30_000,
    messages: recordingSender(sent),
    logger: createLogger('silent'),
  })
  const ask = (n: number, big?: number): Envelope => {
    const e = makeEnvelope({ id: `a${n}` as MessageId, type: Fan.type, key: 'g', body: { k: 'g', n, ...(big ? { big } : {}) }, correlationId: 'c' as CorrelationId, sentAt: 1 })
    e.origin = { lane: 'p:producer', pos: String(n), i: 0, fence: String(n) }
    return e
  }
  return { inner, overflow, sent, host, ask }
}

t.test("a put stored with its answer lost keeps the spill its item refers to; the turn's messages all go out, once", async (t) => {
  const { inner, overflow, sent, host, ask } = rig({ ambiguousPut: true })
  const a1 = ask(1)
  await host.handleDirect(a1, Infinity, undefined, 's')
  const stored = await inner.get(Fan.type, 'g')
  const refs = (decodeMeta(stored?.meta).outbox ?? []).flatMap((s) => (s.spilled ? [s.spilled.key] : []))
  t.equal(refs.length, 1, "the stored item refers to its direct run's spilled outbox")
  t.ok(await overflow.get(refs[0]!), 'and it is still there')
  // The ask's copy and the flush record reach the instance's shard: the waiting messages are placed and sent.
  const flush = sent.find((e) => e.control === 'flush')
  const records = [a1, ...(flush ? [flush] : [])].map((e, i) => ({ sequenceNumber: String(150 + i), data: encodeRecord(e) }))
  const result = await host.handle({ stream: 's', shardId: 'in', records })
  t.equal(result.failedFrom, undefined, 'the shard moves on')
  t.equal(sent.filter((e) => e.type === Sink.type).length, FAN, `all ${FAN} of the turn's messages went out, once`)
  t.equal(await overflow.get(refs[0]!), undefined, "the direct run's spill is deleted once placed")
})

t.test('a commit refused as too large leaves nothing in the overflow store', async (t) => {
  const { inner, overflow, host, ask } = rig({ ambiguousPut: false })
  await host.handleDirect(ask(1, 31_000), Infinity, undefined, 's')
  t.notOk((await inner.get(Fan.type, 'g'))?.state.includes('xxxx'), 'the state over the item was not kept')
  t.equal(overflow.size, 0, 'what the refused commit spilled was deleted')
})
