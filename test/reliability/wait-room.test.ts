// Messages wait in their instance's item while the key or its type is paused (held), or in line
// for a token of a throttle (parked). They share the item's 400 KB with its state: a
// message that would not fit is a dead letter (TROUPE_WAIT_LIMIT), never applied, its record
// read, so the shard moves on instead of failing its batch again and again with an item too
// large to write (every key behind it waiting). On the DynamoDB stores (dynalite), whose items
// hold 400 KB as DynamoDB's do, and on the memory ones with the same limit.
import t, { type Test } from 'tap'
import { Actor, RetryableError, type Context } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { encode } from '../../lib/core/serialization.js'
import { PAUSE_TYPE } from '../../lib/hosts/durable/durable-batch.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { DYNAMODB_MAX_ITEM_BYTES } from '../../lib/store/dynamodb-table.js'
import type { StoredInstance } from '../../lib/store/index.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import { recordingSender } from './fixtures/recording-sender.js'
import { dynamodbStores, memoryStores, STORE_KINDS, type ItemStores } from './fixtures/item-stores.js'

type Body = { k: string; pad: string }
const applied: string[] = []

type Grown = { n: number; blob: string }
type GrowerBody = Body & { keep?: boolean; fail?: number }
/** A message with `keep` leaves its pad in the state; one with `fail` fails with a retry a minute away, its error `fail` bytes long. */
function grower(type: string, policy: object) {
  return class extends Actor<GrowerBody, void, Grown> {
    static readonly type = type
    static readonly policy = policy
    key(m: Body) {
      return m.k
    }
    initialState() {
      return { n: 0, blob: '' }
    }
    receive(m: GrowerBody, ctx: Context<Grown>) {
      applied.push(ctx.message.id)
      if (m.fail !== undefined) throw new RetryableError('e'.repeat(m.fail), { retryAfterMs: 60_000 })
      ctx.state.n++
      if (m.keep) ctx.state.blob = m.pad
    }
  }
}
/** Its type is paused by the tests that hold messages. */
const Bag = grower('wait.bag', {})
/** One message a second across its keys, one at once: the rest of a burst waits in line in the item. */
const Metered = grower('wait.metered', { throttle: { ratePerSecond: 1, burst: 1 } })
/** One message a second for each key. */
const Grower = grower('wait.grower', { throttlePerKey: { ratePerSecond: 1, burst: 1 } })
/** No throttle: what waits, waits behind a message waiting for its retry. */
const Flaky = grower('wait.flaky', {})

/** As AwsSystem sets it: the item's 400 KB, less room for its keys. */
const LIMIT = DYNAMODB_MAX_ITEM_BYTES - 4 * 1024
const SHARD = { stream: 's', shardId: 'shardId-000000000000' }

/** What the hosts sent: flush records alone (checked at the end). */
const flushes: Envelope[] = []

function hostOn(stores: ItemStores): DurableHost {
  return new DurableHost({
    actors: [Bag, Metered, Grower, Flaky],
    state: stores.state,
    timers: new MemoryTimerStore(),
    journal: stores.journal,
    // Only flush records are sent: a commit that held messages for a paused type sends one (type-pause-check.ts).
    messages: recordingSender(flushes),
    logger: createLogger('silent'),
    maxItemBytes: LIMIT,
    overflow: stores.overflow,
  })
}

/** Pauses the whole of `type`, as `system.pause(type)` does on AWS. */
async function pauseType(stores: ItemStores, type: string): Promise<void> {
  await stores.state.put(PAUSE_TYPE, type, { state: encode({ pausedAt: Date.now() }), version: 1, updatedAt: Date.now() }, undefined)
}

function itemBytes(item: StoredInstance | undefined): number {
  return Buffer.byteLength(item!.state) + Buffer.byteLength(item!.meta ?? '')
}

let seq = 1_000
/** A record of a message to key `k` of `type`, its id `<k>-<sequence number>`. */
function record(type: string, k: string, body: Record<string, unknown>, origin?: Envelope['origin']): DurableRecord {
  const id = `${k}-${++seq}`
  const e = makeEnvelope({ id: id as MessageId, type, key: k, body: { k, pad: '', ...body }, correlationId: id as CorrelationId, sentAt: 1 })
  if (origin) e.origin = origin
  return { sequenceNumber: String(seq), data: encodeRecord(e), arrivedAt: Date.now() }
}

async function flood(t: Test, stores: ItemStores, how: 'held' | 'parked') {
  const host = hostOn(stores)
  const type = how === 'held' ? Bag.type : Metered.type
  const k = `${stores.kind}-${how}`
  if (how === 'held') await pauseType(stores, Bag.type)
  // Twenty messages of a twentieth of the item each, in batches of five: more than the item holds.
  const bytes = Math.floor(LIMIT / 20)
  const sent: string[] = []
  for (let b = 0; b < 4; b++) {
    const records = Array.from({ length: 5 }, () => record(type, k, { pad: 'p'.repeat(bytes) }))
    sent.push(...records.map((r) => `${k}-${r.sequenceNumber}`))
    const result = await host.handle({ ...SHARD, records })
    t.equal(result.failedFrom, undefined, `batch ${b + 1} is done: the shard moves on`)
  }
  const item = await stores.state.get(type, k)
  const meta = decodeMeta(item?.meta)
  const waiting = (how === 'held' ? meta.held : meta.parked) ?? []
  t.ok(itemBytes(item) <= LIMIT, 'the item stays within its limit')
  const letters = (await stores.journal.deadLetters(type)).filter((l) => l.envelope.key === k)
  // Each message as large as the next: once one finds no room, none after it does.
  const notApplied = sent.filter((id) => !applied.includes(id))
  t.equal(notApplied.length, how === 'held' ? 20 : 19, how === 'held' ? 'none ran while paused' : 'one ran, on the burst of its throttle')
  t.ok(letters.length !== 0, 'twice what the item holds was sent: some are letters')
  t.same(waiting.map((e) => e.id), notApplied.slice(0, waiting.length), 'the first wait in the item, in order')
  t.same(letters.map((l) => l.envelope.id).sort(), notApplied.slice(waiting.length).sort(), 'the rest are dead letters, each once')
  t.same([...new Set(letters.map((l) => l.error.code))], ['TROUPE_WAIT_LIMIT'], 'each letter says why')
  t.match(letters[0]!.error.message, new RegExp(`${type}#${k} has no room left in its item for message ${letters[0]!.envelope.id}`))
  t.same(letters[0]!.envelope.body, { k, pad: 'p'.repeat(bytes) }, 'and keeps its message whole')
}

for (const [kind, stores] of STORE_KINDS) {
  t.test(`${kind}: messages held for a paused type that would not fit its item are dead letters, and the shard moves on`, async (t) => flood(t, await stores(t), 'held'))
  t.test(`${kind}: messages parked for their type's throttle that would not fit its item are dead letters, and the shard moves on`, async (t) => flood(t, await stores(t), 'parked'))
}

/** What else a run adds beside the messages that wait: each delivery is done, and the item stays within its limit. */
t.test('dynamodb: what a run adds beside what waits (a state grown, a failed attempt, new lanes, costly bodies) never makes an item too large', async (t) => {
  const stores = await dynamodbStores(t)
  const host = hostOn(stores)
  const fits = async (what: string, type: string, k: string, batches: DurableRecord[][], deliveries = 1) => {
    let done = true
    for (let d = 0; d < deliveries; d++) for (const records of batches) done &&= (await host.handle({ ...SHARD, records })).failedFrom === undefined
    t.ok(done, `${what}: every batch is done`)
    t.ok(itemBytes(await stores.state.get(type, k)) <= LIMIT, `${what}: the item stays within its limit`)
  }
  // A turn keeps 200 KB in the state, then nine 40 KB messages wait for the throttle's next token.
  await fits('a state grown in the run', Grower.type, 'grown', [[record(Grower.type, 'grown', { pad: 'p'.repeat(200_000), keep: true }), ...Array.from({ length: 9 }, () => record(Grower.type, 'grown', { pad: 'p'.repeat(40_000) }))]], 2)
  // A message fails with an error of 30 KB and a retry a minute away; nine 40 KB messages wait behind it.
  await fits('a failed attempt', Flaky.type, 'failed', [[record(Flaky.type, 'failed', { fail: 30_000 }), ...Array.from({ length: 9 }, () => record(Flaky.type, 'failed', { pad: 'p'.repeat(40_000) }))]], 2)
  // Held messages of 300 rows with a Date each: superjson keeps a path per Date, longer inside the item.
  await pauseType(stores, Bag.type)
  const rows = Array.from({ length: 300 }, (_, n) => ({ id: n, at: new Date(1_700_000_000_000 + n) }))
  await fits('bodies that cost more in the item', Bag.type, 'dates', [Array.from({ length: 24 }, () => record(Bag.type, 'dates', { rows }))], 2)
  // A paused key full of large messages keeps hearing from new lanes (a lane per sender).
  let lane = 0
  const fromNewLanes = () => Array.from({ length: 20 }, () => record(Bag.type, 'lanes', { pad: 'p'.repeat(50) }, { lane: `p:${'x'.repeat(60)}${String(lane++).padStart(6, '0')}`, pos: '1', i: 0, fence: '1' }))
  await fits('new lanes', Bag.type, 'lanes', [...Array.from({ length: 12 }, () => [record(Bag.type, 'lanes', { pad: 'p'.repeat(30_000) })]), ...Array.from({ length: 15 }, fromNewLanes)])
})

t.test('memory: a message with no room to wait behind its own failed attempt is a letter that keeps the attempt', async (t) => {
  const stores = memoryStores()
  const host = hostOn(stores)
  // The state fills the item but for its margin.
  const fill = record(Flaky.type, 'full', { pad: 'p'.repeat(388_000), keep: true })
  t.equal((await host.handle({ ...SHARD, records: [fill] })).failedFrom, undefined)
  const failing = record(Flaky.type, 'full', { pad: 'p'.repeat(2_000), fail: 100 })
  t.equal((await host.handle({ ...SHARD, records: [failing] })).failedFrom, undefined, 'the batch is done')
  const letters = await stores.journal.deadLetters(Flaky.type)
  t.same(letters.map((l) => [l.envelope.id, l.error.code, l.attempts.length]), [[`full-${failing.sequenceNumber}`, 'TROUPE_WAIT_LIMIT', 1]], 'its letter keeps the attempt it failed')
  t.equal(decodeMeta((await stores.state.get(Flaky.type, 'full'))?.meta).failing, undefined, 'and the item no longer waits for its retry')
})

t.test('memory: messages that do not fit give way, and no more', async (t) => {
  const stores = memoryStores()
  const host = hostOn(stores)
  await pauseType(stores, Bag.type)
  // Each body has 60 Dates: inside the item, superjson's path to each is longer than alone.
  const rows = Array.from({ length: 60 }, (_, n) => ({ id: n, at: new Date(1_700_000_000_000 + n) }))
  const records = Array.from({ length: 400 }, () => record(Bag.type, 'few', { rows }))
  t.equal((await host.handle({ ...SHARD, records })).failedFrom, undefined, 'the batch is done')
  const item = (await stores.state.get(Bag.type, 'few'))!
  const held = decodeMeta(item.meta).held ?? []
  const bytes = itemBytes(item)
  const perMessage = Buffer.byteLength(encode(held[0]))
  const room = LIMIT - 16 * 1024
  t.ok(bytes <= LIMIT, 'the item is within its limit')
  t.ok(room - bytes < 2 * perMessage, `and what is left of its room (${room - bytes} bytes) is less than two more messages (${perMessage} bytes each)`)
  t.equal((await stores.journal.deadLetters(Bag.type)).length, 400 - held.length, 'the rest are letters')
})

t.test('the hosts sent flush records alone (no turn here tells)', async (t) => {
  t.same([...new Set(flushes.map((e) => e.control))], ['flush'])
})
