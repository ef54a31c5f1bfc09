// A turn whose outcome its instance's item cannot keep (a state too large) is a dead letter. The
// letter must exist only once the commit that ends the message as dead is written: a run whose
// commit is lost (its host died before it, or another host committed first) runs the message
// again, and if that run applies it, a letter left behind would apply it a second time when
// replayed. On the memory stores and on the DynamoDB ones (dynalite), each with its overflow
// store, as troupe's hosts on AWS have one. Then what a commit's outbox kept in the overflow store
// asks of its readers: a letter whose body superjson refuses, a replay of a direct run's letter
// (the old run's entries left out), a direct run's messages (a flush record sends them).
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import t, { type Test } from 'tap'
import { Actor, TerminalError, type Context } from '../../lib/index.js'
import { replayDeadLetter, type ReplayParts } from '../../lib/aws/dead-letter-replay.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableHostOptions } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { PENDING } from '../../lib/hosts/durable/outbox.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { DYNAMODB_MAX_ITEM_BYTES } from '../../lib/store/dynamodb-table.js'
import type { ReceiptRecord, StateStore, StoredInstance } from '../../lib/store/index.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import type { PayloadStore } from '../../lib/store/payload-store.js'
import { dynamodbStores, memoryStores, STORE_KINDS, type ItemStores } from './fixtures/item-stores.js'
import { recordingSender } from './fixtures/recording-sender.js'

const MAX_ITEM_BYTES = 2_000

/** Adds `add` characters to its key's state, or empties it. */
class Grower extends Actor<{ k: string; add?: number; clear?: true }, void, { added: string[] }> {
  static readonly type = 'apart.grower'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { added: [] as string[] }
  }
  receive(m: { k: string; add?: number; clear?: true }, ctx: Context<{ added: string[] }>) {
    const { fan } = m as { fan?: number }
    if (fan !== undefined) for (let i = 0; i < fan; i++) ctx.tell(Grower, { k: `${m.k}-${i}`, add: 1, pad: 'z'.repeat(500) } as never)
    else if (m.clear) ctx.state.added = []
    else ctx.state.added.push('x'.repeat(m.add ?? grows))
  }
}

/** What a message without `add` adds: not the same in every run of its turn (an outside read, a clock). */
let grows = 0

/** A state store whose next put is lost: it fails, or another host commits the instance first (`before`). */
function losing(store: StateStore) {
  let next: (() => Promise<void>) | 'fail' | undefined
  const wrapped: StateStore = {
    get: (type, key) => store.get(type, key),
    delete: (type, key) => store.delete(type, key),
    ...(store.getMany ? { getMany: (refs: readonly { type: string; key: string }[]) => store.getMany!(refs) } : {}),
    async put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined, expectedUpdatedAt?: number) {
      const lose = next
      next = undefined
      if (lose === 'fail') throw new Error('the commit was lost: its host died')
      if (lose !== undefined) await lose()
      return store.put(type, key, value, expectedVersion, expectedUpdatedAt)
    },
  }
  return { store: wrapped, loseNext: (how: (() => Promise<void>) | 'fail') => (next = how) }
}

/** A host of the Grower on `stores`, items of MAX_ITEM_BYTES, that tells nothing; `options` change any of that. */
function hostOn(stores: ItemStores, options: Partial<DurableHostOptions> = {}): DurableHost {
  return new DurableHost({
    actors: [Grower],
    state: stores.state,
    timers: new MemoryTimerStore(),
    journal: stores.journal,
    messages: { send: () => Promise.reject(new Error('nothing here tells')) },
    logger: createLogger('silent'),
    maxItemBytes: MAX_ITEM_BYTES,
    overflow: stores.overflow,
    ...options,
  })
}

const SHARD = { stream: 's', shardId: 'shardId-000000000000' }

function envelope(id: string, body: { k: string; add?: number; clear?: true }): Envelope {
  return makeEnvelope({ id: id as MessageId, type: Grower.type, key: body.k, body, correlationId: id as CorrelationId, sentAt: 1 })
}

/** The overflow store, counting the outboxes spilled to it. */
function counting(store: PayloadStore) {
  const spilled: string[] = []
  const wrapped: PayloadStore = {
    put: (key, data, expiresAt) => {
      if (key.startsWith('outbox/')) spilled.push(key)
      return store.put(key, data, expiresAt)
    },
    get: (key) => store.get(key),
    delete: (key) => store.delete?.(key) ?? Promise.resolve(),
  }
  return { store: wrapped, spilled }
}

async function scene(t: Test, stores: ItemStores, how: 'host died' | 'another host first') {
  const { store, loseNext } = losing(stores.state)
  const overflow = counting(stores.overflow)
  const host = () => hostOn(stores, { state: store, overflow: overflow.store })
  const k = `${stores.kind}-${how.replaceAll(' ', '-')}`
  await host().handle({ ...SHARD, records: [{ sequenceNumber: '100', data: encodeRecord(envelope(`m0-${k}`, { k, add: 1_200 })) }] })
  const records = [{ sequenceNumber: '101', data: encodeRecord(envelope(`m1-${k}`, { k })) }]

  // Its first run leaves a state too large for the item: a dead letter, unless the commit is lost.
  grows = 1_000
  if (how === 'host died') {
    loseNext('fail')
    const first = await host().handle({ ...SHARD, records })
    t.not(first.failedFrom, undefined, 'the first run is not kept')
    grows = 10
  } else {
    // A direct run of another host empties the instance and commits first: the run reloads it and runs the message again.
    loseNext(() => host().handleDirect(envelope(`clear-${k}`, { k, clear: true })).then(() => undefined))
  }
  const again = await host().handle({ ...SHARD, records })
  t.equal(again.failedFrom, undefined, 'the batch is done')
  const item = await stores.state.get(Grower.type, k)
  const added = (JSON.parse(item!.state) as { json: { added: string[] } }).json.added
  t.same(added.map((a) => a.length), [how === 'host died' ? 1_200 : undefined, 'x'.repeat(how === 'host died' ? 10 : 1_000).length].filter((n) => n !== undefined), 'the run again applied the message')
  t.same((await stores.journal.deadLetters()).map((l) => l.envelope.id), [], 'and left no dead letter of it to replay')

  // A message that stays too large is a dead letter, once its commit is written.
  grows = 1_000
  const big = [{ sequenceNumber: '102', data: encodeRecord(envelope(`m2-${k}`, { k, add: 1_500 })) }]
  loseNext('fail')
  t.not((await host().handle({ ...SHARD, records: big })).failedFrom, undefined, 'a run whose commit is lost is not kept')
  t.same((await stores.journal.deadLetters()).map((l) => l.envelope.id), [], 'and its letter is not written')
  overflow.spilled.length = 0
  t.equal((await host().handle({ ...SHARD, records: big })).failedFrom, undefined, 'the batch delivered again is done')
  t.equal(overflow.spilled.length, 1, 'its commit kept the letter in the overflow store: the item could not hold it beside the state')
  const letters = await stores.journal.deadLetters()
  t.same(letters.map((l) => [l.envelope.id, l.error.name]), [[`m2-${k}`, 'ItemTooLargeError']], 'with the dead letter of the message too large')
  t.same(letters[0]?.envelope.body, { k, add: 1_500 }, 'which holds the message whole')
}

for (const [kind, stores] of STORE_KINDS) {
  t.test(`${kind}: a run whose commit is lost (its host died) and whose run again applies the message leaves no dead letter`, async (t) => scene(t, await stores(t), 'host died'))
  t.test(`${kind}: a run whose commit loses to another host's and whose run again applies the message leaves no dead letter`, async (t) => scene(t, await stores(t), 'another host first'))
}

for (const spills of [true, false]) {
  t.test(`a letter whose body superjson refuses to write travels in the outbox escaped, and is kept whole (${spills ? 'with' : 'without'} an overflow store)`, async (t) => {
    class Refuser extends Actor<{ k: string }, void, { n: number }> {
      static readonly type = 'apart.refuser'
      key(m: { k: string }) {
        return m.k
      }
      initialState() {
        return { n: 0 }
      }
      receive(): void {
        throw new TerminalError('refused')
      }
    }
    const stores = memoryStores()
    const { store, loseNext } = losing(stores.state)
    // A filter may rewrite a body into what superjson refuses to write (the development check off).
    const rewritten = JSON.parse('{"k":"r","constructor":{"prototype":1},"__proto__":{"x":1},"~constructor":2}') as { k: string }
    const host = hostOn(stores, { actors: [Refuser], state: store, overflow: spills ? stores.overflow : undefined, filters: [() => rewritten], checkSerializable: false })
    const m = makeEnvelope({ id: 'm-refused' as MessageId, type: Refuser.type, key: 'r', body: { k: 'r' }, correlationId: 'c' as CorrelationId, sentAt: 1 })
    const records = [{ sequenceNumber: '1', data: encodeRecord(m) }]
    loseNext('fail')
    t.not((await host.handle({ ...SHARD, records })).failedFrom, undefined, 'a run whose commit is lost is not kept')
    t.same(await stores.journal.deadLetters(), [], 'and writes no letter')
    const result = await host.handle({ ...SHARD, records })
    t.equal(result.failedFrom, undefined, 'the batch delivered again is done')
    const letters = await stores.journal.deadLetters()
    t.same(letters.map((l) => [l.envelope.id, l.error.message]), [['m-refused', '[TROUPE_TERMINAL] refused']], 'the message is a dead letter, with its own error')
    const body = letters[0]!.envelope.body as Record<string, unknown>
    t.same(Object.keys(body), ['k', 'constructor', '__proto__', '~constructor'], 'its body keeps every key, unescaped')
    t.equal(Object.getPrototypeOf(body), Object.prototype, 'none of them a prototype')
    t.same(body['__proto__'], { x: 1 })
  })
}

t.test("a replay of a direct run's letter kept in the overflow store with its run's outbox leaves that run's letter and receipt out", async (t) => {
  const stores = memoryStores()
  const host = () => hostOn(stores, { messages: recordingSender([]) })
  await host().handle({ ...SHARD, records: [{ sequenceNumber: '100', data: encodeRecord(envelope('m0-direct', { k: 'd', add: 1_200 })) }] })
  // A direct run (an ask by Invoke) of a large message whose turn leaves a state too large: its
  // letter and its receipt wait in the item's outbox for the shard, spilled with it.
  grows = 1_000
  const m1 = envelope('m1-direct', { k: 'd', pad: 'y'.repeat(20_000) } as never)
  t.equal((await host().handleDirect(m1, Infinity, undefined, 's', true))?.status, 'dead', 'the direct run ends the message dead')
  const outbox = decodeMeta((await stores.state.get(Grower.type, 'd'))?.meta).outbox ?? []
  t.same(outbox.filter((s) => s.lane === PENDING).map((s) => s.spilled !== undefined), [true], "with its run's outbox in the overflow store")

  // Replayed, it runs again, and is done.
  grows = 10
  let now = Date.now()
  const replayed: Envelope[] = []
  const parts: ReplayParts = {
    journal: stores.journal as never,
    state: stores.state as never,
    lane: { take: () => 0, origin: () => ({ lane: 'p:replayer', pos: '0', i: 0, fence: '0' }), settle: () => {} } as never,
    codec: undefined as never,
    sender: () => ({ streams: ['s'], putData: async () => {}, send: async (e: Envelope) => void replayed.push(structuredClone(e)) }),
    accepted: (e: Envelope): ReceiptRecord => ({ id: e.id, actor: e.type, key: e.key, entry: { status: 'accepted', at: now, attempt: 0 }, expiresAt: now + 3_600_000 }),
    keepsState: () => true,
    now: () => (now += 1_000),
    sideEffects: new MemorySideEffects(),
  }
  await replayDeadLetter(parts, m1.id)
  const r = await host().handle({ ...SHARD, records: replayed.map((e, i) => ({ sequenceNumber: String(200 + i), data: encodeRecord(e) })) })
  t.equal(r.failedFrom, undefined, 'the shard reads the replayed message and places the direct run’s outbox')
  const receipt = await stores.journal.receipt(m1.id, Date.now())
  t.same(receipt?.history.map((e) => `${e.attempt}:${e.status}`), ['0:accepted', '1:done'], 'the receipt is the replay’s alone: the old run’s dead entry is not put back')
  t.same((await stores.journal.deadLetters()).map((l) => l.envelope.id), [], 'nor is its letter')
})

t.test("a direct run whose messages wait in the overflow store puts a flush record for them", async (t) => {
  const stores = memoryStores()
  const overflow = counting(stores.overflow)
  const sent: Envelope[] = []
  const host = hostOn(stores, { messages: recordingSender(sent), overflow: overflow.store })
  await host.handle({ ...SHARD, records: [{ sequenceNumber: '100', data: encodeRecord(envelope('m0-fan', { k: 'f', add: 1_200 })) }] })
  // Beside a state near the limit, the 40 messages it tells wait in the overflow store.
  const m = envelope('m1-fan', { k: 'f', fan: 40 } as never)
  t.equal((await host.handleDirect(m, Infinity, undefined, 's', true))?.status, 'done', 'the direct run is done')
  t.equal(overflow.spilled.length, 1, "its run's outbox is in the overflow store")
  t.same(
    sent.map((e) => [e.control, e.type, e.key]),
    [['flush', Grower.type, 'f']],
    'and a flush record makes the instance’s shard place and send them',
  )
})

t.test('dynamodb: a direct run’s letter of a state too large, beside a state near the limit, is committed', async (t) => {
  const stores = await dynamodbStores(t)
  const limit = DYNAMODB_MAX_ITEM_BYTES - 4 * 1024
  const host = hostOn(stores, { messages: recordingSender([]), maxItemBytes: limit })
  const k = 'near-limit'
  await host.handle({ ...SHARD, records: [{ sequenceNumber: '1', data: encodeRecord(envelope(`fill-${k}`, { k, add: limit - 3_000 })) }] })
  // Its letter (a message of 10 KB) is smaller than a direct run's outbox spills at, and the item is full.
  const big = envelope(`big-${k}`, { k, add: 5_000, pad: 'z'.repeat(10_000) } as never)
  t.equal((await host.handleDirect(big, Infinity, undefined, 's', true))?.status, 'dead', 'the direct run ends the message dead')
  const item = await stores.state.get(Grower.type, k)
  t.ok(Buffer.byteLength(item!.state) + Buffer.byteLength(item!.meta ?? '') <= limit, 'its commit is within the item’s limit')
  t.same((await stores.journal.deadLetters(Grower.type)).map((l) => [l.envelope.id, l.error.code]), [[big.id, 'TROUPE_STATE_TOO_LARGE']], 'and its letter is written')
})
