// A receiver's memory of lanes is bounded (LANE_MEMORY_BUDGET): records whose origins name
// thousands of lanes that send once (made up by whoever writes to the stream) fill it only up to
// the bound. Past it, a message from a lane the instance does not know is a dead letter
// (TROUPE_LANE_LIMIT), never applied, and a copy of it is known; the instance's item stays within
// DynamoDB's limit and the messages of the lanes it knows go on. Once the made-up lanes are past
// their horizon, the letter's message applies once. Run through the durable host (the turn the
// Lambda handler and the shard consumer both run) on memory stores sized as on AWS.
import t from 'tap'
import { makeEnvelope, type Envelope, type Origin } from '../../lib/core/envelope.js'
import { createLogger } from '../../lib/core/logger.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { LANE_MEMORY_BUDGET } from '../../lib/hosts/durable/lane-memory.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryPayloadStore } from '../../lib/store/payload-store.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { SendReport } from '../../lib/transport/kinesis.js'
import { Counter } from './fixtures/actors.js'

const MAX_ITEM_BYTES = 400 * 1024 - 4 * 1024
const HORIZON_MS = 60_000
const KEY = 'victim'
const codec = new RecordCodec()

function counted(id: string, n: number, origin: Origin): Envelope {
  const e = makeEnvelope({ id: id as MessageId, type: Counter.type, key: KEY, body: { k: KEY, n }, correlationId: id as string as CorrelationId, sentAt: 1 })
  e.origin = origin
  return e
}

function makeHost() {
  const state = new MemoryStateStore()
  const journal = new MemoryJournalStore()
  const host = new DurableHost({
    actors: [Counter],
    state,
    timers: new MemoryTimerStore(),
    journal,
    maxItemBytes: MAX_ITEM_BYTES,
    // As on AWS: an outbox too large for the item (a thousand dead letters) waits in the overflow store.
    overflow: new MemoryPayloadStore(),
    laneHorizons: { processMs: HORIZON_MS, shardMs: HORIZON_MS },
    messages: { send: async (): Promise<SendReport> => Promise.reject(new Error('no turn of this test sends a message')) },
    logger: createLogger('silent' as never),
  })
  const counter = async () => {
    const item = await state.get(Counter.type, KEY)
    return item && { ...(JSON.parse(item.state) as { json: { sum: number; ns: number[] } }).json, bytes: Buffer.byteLength(item.state) + Buffer.byteLength(item.meta ?? '') }
  }
  return { host, journal, counter }
}

t.test("thousands of made-up lanes fill an instance's memory of lanes only up to its bound; the lanes it knows go on", async (t) => {
  const { host, journal, counter } = makeHost()
  let seq = 1_000
  const at = (records: { data: Buffer; arrivedAt: number }[]): DurableRecord[] => records.map((r) => ({ sequenceNumber: String(++seq), data: r.data, arrivedAt: r.arrivedAt }))
  const run = (records: DurableRecord[]) => host.handle({ stream: 'in', shardId: 'shardId-000000000000', records })
  const t0 = 1_700_000_000_000
  const known: Origin = { lane: 'p:known', pos: '1', i: 0, fence: '1' }

  // A lane the instance knows before the flood.
  const first = at([{ data: codec.encode(counted('first', 1, known)), arrivedAt: t0 }])
  t.equal((await run(first)).applied, 1)

  // One aggregate record of 2,000 members, each from a lane of its own with a long name: about
  // 430 KB of lane memory if every lane were kept, past the item's limit.
  const members = Array.from({ length: 2_000 }, (_, i) => counted(`flood-${i}`, 0, { lane: `s:${'x'.repeat(150)}/${i}`, pos: '5', i: 0, fence: '5' }))
  const flood = at([{ data: codec.encodeAggregate(members.map((m) => codec.encode(m)), Counter.type, members[0]!.id), arrivedAt: t0 + 1_000 }])
  const flooded = await run(flood)
  t.equal(flooded.failedFrom, undefined, 'the flood finished: no failure for the mapping to retry')
  const lettersAfterFlood = await journal.deadLetters()
  const refused = lettersAfterFlood.filter((l) => l.error.code === 'TROUPE_LANE_LIMIT')
  t.equal(flooded.applied + refused.length, 2_000, 'each member applied or refused, none lost')
  t.ok(refused.length > 500 && flooded.applied > 500, `both: ${flooded.applied} applied before the memory was full, ${refused.length} refused after`)
  t.equal(lettersAfterFlood.length, refused.length, 'every letter is a refusal for want of room')
  t.match(refused[0]?.error.message, new RegExp(`rel\\.counter#victim remembers \\d+ lanes .* at most ${LANE_MEMORY_BUDGET / 1024} KB.*no room to remember message flood-\\d+ .* replay the letter after that`))
  const afterFlood = await counter()
  t.ok(afterFlood!.bytes < MAX_ITEM_BYTES, `the item stays within the limit (${afterFlood!.bytes} bytes)`)

  // The lane it knew goes on; a lane it does not know is refused, and a copy of that is known.
  // A lane as long as the flood's: the room the last of them did not get is too little for it.
  const stranger = counted('stranger', 100, { lane: `s:${'y'.repeat(150)}/0`, pos: '1', i: 0, fence: '1' })
  const later = at([
    { data: codec.encode(counted('second', 10, { ...known, pos: '2', fence: '2' })), arrivedAt: t0 + 2_000 },
    { data: codec.encode(stranger), arrivedAt: t0 + 2_000 },
    { data: codec.encode(counted('third', 20, { ...known, pos: '3', fence: '3' })), arrivedAt: t0 + 2_000 },
  ])
  const went = await run(later)
  t.equal(went.applied, 2, "the known lane's two messages applied")
  t.equal(went.failedFrom, undefined)
  const strangerLetter = (await journal.deadLetters()).find((l) => l.envelope.id === 'stranger')
  t.equal(strangerLetter?.error.code, 'TROUPE_LANE_LIMIT', "the stranger's message is a dead letter, not applied")
  const copy = at([{ data: codec.encode(stranger), arrivedAt: t0 + 3_000 }])
  const copied = await run(copy)
  t.equal(copied.applied, 0, 'a copy of the refused message is not applied')
  t.equal(copied.duplicates, 1, 'it is known as a copy')

  // Delivered again, nothing applies twice; the refusals past the last 64 are dead-lettered again,
  // and what waits in the item for them stays one letter a message, however often.
  for (const batch of [first, flood, later, copy, flood, flood]) t.equal((await run(batch)).applied, 0, 'a redelivered batch applies nothing')
  const redelivered = await counter()
  t.ok(redelivered!.bytes < MAX_ITEM_BYTES, `the item stays within the limit after the flood came three times (${redelivered!.bytes} bytes)`)
  t.equal((await journal.deadLetters()).length, refused.length + 1, 'one letter a refused message')
  const before = await counter()
  t.equal(before!.sum, 31, 'first, second and third, once each; the flood added 0s and the stranger nothing')
  t.same(before!.ns.filter((n) => n !== 0), [1, 10, 20])

  // Past the horizon, the silent lanes are forgotten: the stranger's letter, replayed (the same
  // id under a new origin), applies once.
  const replay = counted('stranger', 100, { lane: 'p:replayer', pos: '7', i: 0, fence: '7' })
  const replayed = await run(at([{ data: codec.encode(replay), arrivedAt: t0 + 3_000 + 2 * HORIZON_MS }]))
  t.equal(replayed.applied, 1, 'the replay applied')
  const end = await counter()
  t.equal(end!.sum, 131, 'the stranger once')
  t.ok(end!.bytes < 20_000, `the made-up lanes are gone from the item (${end!.bytes} bytes)`)
})

t.test('one lane whose fence never rises, with a position per message, fills the memory only up to its bound', async (t) => {
  const { host, journal, counter } = makeHost()
  let seq = 1_000
  const run = (envelopes: Envelope[], arrivedAt: number) =>
    host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: envelopes.map((e) => ({ sequenceNumber: String(++seq), data: codec.encode(e), arrivedAt })) })
  const t0 = 1_700_000_000_000
  const fenced = (id: string, n: number, lane: string, pos: number, fence: number) => counted(id, n, { lane, pos: `${pos}000000000000000000000000000000000000000000000000000`, i: 0, fence: `${fence}000000000000000000000000000000000000000000000000000` })
  t.equal((await run([fenced('before', 1, 's:in/shardId-000000000007', 1, 1)], t0)).applied, 1)
  // 5,000 positions of one lane, all under the fence of its first: about 400 KB if all were kept.
  const stuck = Array.from({ length: 5_000 }, (_, k) => fenced(`stuck-${k}`, 0, 's:in/shardId-000000000009', 2 + k, 1))
  const flooded = await run(stuck, t0 + 1_000)
  t.equal(flooded.failedFrom, undefined, 'the batch finished')
  const refused = (await journal.deadLetters()).filter((l) => l.error.code === 'TROUPE_LANE_LIMIT')
  t.equal(flooded.applied + refused.length, 5_000, 'each applied or refused')
  t.ok(refused.length > 1_000 && flooded.applied > 1_000, `both: ${flooded.applied} applied, ${refused.length} refused`)
  t.ok((await counter())!.bytes < MAX_ITEM_BYTES, 'the item stays within the limit')
  // A known lane raising its fence, and the flooding lane itself raising its fence, are taken.
  const after = await run([fenced('after', 10, 's:in/shardId-000000000007', 9_000, 9_000), fenced('risen', 20, 's:in/shardId-000000000009', 9_000, 9_000)], t0 + 2_000)
  t.equal(after.applied, 2, 'both applied')
  const end = await counter()
  t.equal(end!.sum, 31)
  t.ok(end!.bytes < 20_000, `the risen fence dropped the positions below it (${end!.bytes} bytes)`)
})

t.test('one lane whose fence rises at every message, over nothing it keeps, fills the memory only up to its bound', async (t) => {
  const { host, journal, counter } = makeHost()
  let seq = 1_000
  const run = (envelopes: Envelope[], arrivedAt: number) =>
    host.handle({ stream: 'in', shardId: 'shardId-000000000000', records: envelopes.map((e) => ({ sequenceNumber: String(++seq), data: codec.encode(e), arrivedAt })) })
  // Each message's fence is past the last one's (it rises), and below every position kept (it drops nothing).
  const far = (k: number) => `1${String(k).padStart(120, '0')}`
  const rising = Array.from({ length: 5_000 }, (_, k) => counted(`rising-${k}`, 0, { lane: 's:in/shardId-000000000009', pos: far(k), i: 0, fence: String(k + 1) }))
  const flooded = await run(rising, 1_700_000_000_000)
  t.equal(flooded.failedFrom, undefined, 'the batch finished')
  const refused = (await journal.deadLetters()).filter((l) => l.error.code === 'TROUPE_LANE_LIMIT')
  t.equal(flooded.applied + refused.length, 5_000, 'each applied or refused')
  t.ok(refused.length > 1_000 && flooded.applied > 1_000, `both: ${flooded.applied} applied, ${refused.length} refused`)
  const item = await counter()
  t.ok(item!.bytes < MAX_ITEM_BYTES, `the item stays within the limit (${item!.bytes} bytes)`)
})
