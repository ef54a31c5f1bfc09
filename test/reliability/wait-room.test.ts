// Messages wait in their instance's item while the key or its type is paused (held), or in line
// for a token of the key's throttle (parked). They share the item's 400 KB with its state: a
// message that would not fit is a dead letter (TROUPE_WAIT_LIMIT), never applied, its record
// read, so the shard moves on instead of failing its batch again and again with an item too
// large to write (every key behind it waiting). On the DynamoDB stores (dynalite), whose items
// hold 400 KB as DynamoDB's do, and on the memory ones with a small item.
import t, { type Test } from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { encode } from '../../lib/core/serialization.js'
import { PAUSE_TYPE } from '../../lib/hosts/durable/durable-batch.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { decodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { DYNAMODB_MAX_ITEM_BYTES } from '../../lib/store/dynamodb-table.js'
import { DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import type { JournalStore, StateStore } from '../../lib/store/index.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { DynamoDBPayloadStore, MemoryPayloadStore, type PayloadStore } from '../../lib/store/payload-store.js'
import { localStackFor } from '../fixtures/local-stack.js'

type Body = { k: string; pad: string }
const applied: string[] = []

class Bag extends Actor<Body, void, { n: number }> {
  static readonly type = 'wait.bag'
  key(m: Body) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(_m: Body, ctx: Context<{ n: number }>) {
    applied.push(ctx.message.id)
    ctx.state.n++
  }
}

/** One message a second for each key, one at once: the rest of a burst waits in line in the item. */
class Metered extends Actor<Body, void, { n: number }> {
  static readonly type = 'wait.metered'
  static readonly policy = { throttle: { ratePerSecond: 1, burst: 1 } }
  key(m: Body) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(_m: Body, ctx: Context<{ n: number }>) {
    applied.push(ctx.message.id)
    ctx.state.n++
  }
}

type Stores = { state: StateStore; journal: JournalStore; overflow: PayloadStore; maxItemBytes: number; kind: string }

let made = 0
async function dynamodbStores(t: Test): Promise<Stores> {
  const { aws } = await localStackFor(t)
  const tableName = `rel-wait-${process.pid}-${++made}`
  await ensureResources({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName, streams: [], shards: 1 })
  const options = { client: aws.dynamodb, tableName }
  // As AwsSystem sets it: the item's 400 KB, less room for its keys.
  return { state: new DynamoDBStateStore(options), journal: new DynamoDBJournalStore(options), overflow: new DynamoDBPayloadStore(options), maxItemBytes: DYNAMODB_MAX_ITEM_BYTES - 4 * 1024, kind: 'dynamodb' }
}

function memoryStores(): Stores {
  return { state: new MemoryStateStore(), journal: new MemoryJournalStore(), overflow: new MemoryPayloadStore(), maxItemBytes: 60_000, kind: 'memory' }
}

let seq = 1_000
/** Batches of `count` messages to key `k` of `type`, each with a body of `bytes`. */
function batch(type: string, k: string, count: number, bytes: number): DurableRecord[] {
  return Array.from({ length: count }, () => {
    const id = `${k}-${++seq}`
    const e = makeEnvelope({ id: id as MessageId, type, key: k, body: { k, pad: 'p'.repeat(bytes) }, correlationId: id as CorrelationId, sentAt: 1 })
    return { sequenceNumber: String(seq), data: encodeRecord(e), arrivedAt: Date.now() }
  })
}

async function flood(t: Test, stores: Stores, how: 'held' | 'parked') {
  const host = new DurableHost({
    actors: [Bag, Metered],
    state: stores.state,
    timers: new MemoryTimerStore(),
    journal: stores.journal,
    messages: { send: () => Promise.reject(new Error('nothing here tells')) },
    logger: createLogger('silent'),
    maxItemBytes: stores.maxItemBytes,
    overflow: stores.overflow,
  })
  const type = how === 'held' ? Bag.type : Metered.type
  const k = `${stores.kind}-${how}`
  if (how === 'held') await stores.state.put(PAUSE_TYPE, Bag.type, { state: encode({ pausedAt: Date.now() }), version: 1, updatedAt: Date.now() }, undefined)
  // Twenty messages of a twentieth of the item each, in batches of five: more than the item holds.
  const bytes = Math.floor(stores.maxItemBytes / 20)
  const sent: string[] = []
  for (let b = 0; b < 4; b++) {
    const records = batch(type, k, 5, bytes)
    sent.push(...records.map((r) => `${k}-${r.sequenceNumber}`))
    const result = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
    t.equal(result.failedFrom, undefined, `batch ${b + 1} is done: the shard moves on`)
  }
  const item = await stores.state.get(type, k)
  const meta = decodeMeta(item?.meta)
  const waiting = (how === 'held' ? meta.held : meta.parked) ?? []
  t.ok(Buffer.byteLength(item!.state) + Buffer.byteLength(item!.meta ?? '') <= stores.maxItemBytes, 'the item stays within its limit')
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

for (const [kind, stores] of [['memory', async () => memoryStores()], ['dynamodb', dynamodbStores]] as const) {
  t.test(`${kind}: messages held for a paused type that would not fit its item are dead letters, and the shard moves on`, async (t) => flood(t, await stores(t), 'held'))
  t.test(`${kind}: messages parked for a key's throttle that would not fit its item are dead letters, and the shard moves on`, async (t) => flood(t, await stores(t), 'parked'))
}
