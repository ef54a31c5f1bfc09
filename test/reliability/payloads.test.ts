// The claim check: bodies too large for a record go to a payload store and travel as a
// reference, fetched back before their turn. The port's three stores here (one conformance
// suite; S3 in payloads-s3.test.ts), the reference's guards,
// and the AWS mode end to end on the local servers (DynamoDB chunks in the app's table).
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import t, { type Test } from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { Actor, type Context } from '../../lib/index.js'
import { ClaimCheck, PAYLOAD_FIELD, PayloadError } from '../../lib/routing/claim-check.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { DynamoDBPayloadStore, FolderPayloadStore, MemoryPayloadStore, type PayloadStore } from '../../lib/store/payload-store.js'
import { payloadStoreConformance } from '../fixtures/payload-store-conformance.js'
import { localStackFor } from '../fixtures/local-stack.js'

const MiB = 1024 * 1024
const envelope = (id: string, body: unknown): Envelope => makeEnvelope({ id: id as MessageId, type: 'big', key: 'k', body, correlationId: id as CorrelationId, sentAt: 1 })

async function roundTrip(t: Test, store: PayloadStore, name: string) {
  const check = new ClaimCheck({ store, aboveBytes: 1024 })
  const small = envelope('m-small', { k: 'k', s: 'x'.repeat(100) })
  t.equal(await check.offload(small), small, `${name}: a small body travels in the record`)
  const body = { k: 'k', s: 'y'.repeat(2 * MiB), m: new Map([['a', 1n]]), d: new Date(7), set: new Set([1, 2]) }
  const sent = await check.offload(envelope('m-big', body))
  t.same(Object.keys(sent.body as object), [PAYLOAD_FIELD], `${name}: a large body is a reference`)
  t.ok(encodeRecord(sent).byteLength < 1024, `${name}: the record is small`)
  const received = await check.restore(envelope('m-big', sent.body))
  t.same(received.body, body, `${name}: the body comes back as sent (Map, BigInt, Date, Set)`)
  t.same(check.travelled(received).body, sent.body, `${name}: a dead letter would keep the reference`)
}

t.test('the payload stores: memory, a local folder', async (t) => {
  await roundTrip(t, new MemoryPayloadStore(), 'memory')
  const dir = mkdtempSync(join(tmpdir(), 'troupe-payloads-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await roundTrip(t, new FolderPayloadStore(dir), 'folder')
})

t.test('the PayloadStore conformance suite: memory, a local folder, DynamoDB chunks', async (t) => {
  const memory = new MemoryPayloadStore()
  payloadStoreConformance(t, 'memory', () => memory, { expires: true })
  const dir = mkdtempSync(join(tmpdir(), 'troupe-payloads-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const folder = new FolderPayloadStore(dir)
  payloadStoreConformance(t, 'folder', () => folder, { expires: false })
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-plc-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [], shards: 1 })
  const table = new DynamoDBPayloadStore({ client: dynamodb, tableName: name })
  payloadStoreConformance(t, 'dynamodb', () => table, { expires: true })
})

t.test('a reference is honoured only for its own message, with its own bytes', async (t) => {
  const store = new MemoryPayloadStore()
  const check = new ClaimCheck({ store, aboveBytes: 10 })
  const sent = await check.offload(envelope('m-1', { k: 'k', secret: 'z'.repeat(100) }))
  await t.rejects(check.restore(envelope('m-2', sent.body)), PayloadError, "another message's reference fetches nothing")
  await t.rejects(check.restore(envelope('m-3', { [PAYLOAD_FIELD]: { key: 'msg/m-3', bytes: 1, sha256: 'x' } })), /nothing under msg\/m-3/)
  await store.put('msg/m-1', Buffer.from('{"json":{"body":1}}'), Date.now() + 60_000)
  await t.rejects(check.restore(envelope('m-1', sent.body)), /do not match its sha256/, 'bytes changed in the store are refused')
  // Hostile bytes with a matching hash (someone who can write the store): the record guard still applies.
  const evil = Buffer.from(JSON.stringify({ json: { body: { a: 1 } }, meta: { values: { 'body.__proto__.polluted': ['undefined'] }, v: 1 } }))
  await store.put('msg/m-4', evil, Date.now() + 60_000)
  const ref = { key: 'msg/m-4', bytes: evil.byteLength, sha256: createHash('sha256').update(evil).digest('base64') }
  await t.rejects(check.restore(envelope('m-4', { [PAYLOAD_FIELD]: ref })), /__proto__/)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
  await t.rejects(check.offload(envelope('m-5', { k: 'k', b: 10n ** 20_000n })), { code: 'TROUPE_INVALID_ENVELOPE', message: /BigInt/ }, 'what a record would refuse, a payload refuses at send')
  t.throws(() => new ClaimCheck({ store: {} as PayloadStore }), { code: 'TROUPE_CONFIG' })
})

class Big extends Actor<{ k: string; s: string; forward?: boolean }, void, { lengths: number[] }> {
  static readonly type = 'pl.big'
  key(msg: { k: string }) {
    return msg.k
  }
  initialState() {
    return { lengths: [] as number[] }
  }
  receive(msg: Big['In'], ctx: Context<{ lengths: number[] }>) {
    ctx.state.lengths.push(msg.s.length)
    if (msg.forward) ctx.tell(Big, { k: `${msg.k}-next`, s: msg.s + msg.s })
  }
}

t.test('the AWS mode: told and turn-sent bodies over the record limit travel through DynamoDB chunks', async (t) => {
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-pl-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Big], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error', payloads: {} })
  const plain = new AwsSystem({ actors: [Big], kinesis, dynamodb, tableName: name, stream: name, consume: false, timers: false, lingerMs: 2, logLevel: 'error' })
  t.teardown(async () => {
    await system.stop()
    await plain.stop()
  })
  await t.rejects(plain.tell(Big, { k: 'a', s: 'x'.repeat(2 * MiB) }), { code: 'TROUPE_RECORD_TOO_LARGE' }, 'without payloads: a named error, nothing sent')
  await system.tell(Big, { k: 'a', s: 'x'.repeat(3 * MiB), forward: true })
  await system.tell(Big, { k: 'a', s: 'small' })
  // A reference made by hand for another message's payload: a dead letter, not its body.
  const stolen = envelope('m-thief', { [PAYLOAD_FIELD]: { key: 'msg/someone-else', bytes: 1, sha256: 'x' } })
  await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: [{ Data: encodeRecord({ ...stolen, type: Big.type }), PartitionKey: 'k' }] }))
  await system.idle()
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && (await system.state(Big, 'a-next')) === undefined) await new Promise((r) => setTimeout(r, 100))
  await system.idle()
  t.same(await system.state(Big, 'a'), { lengths: [3 * MiB, 5] }, 'the 3 MiB body arrived whole, in order with its neighbour')
  t.same(await system.state(Big, 'a-next'), { lengths: [6 * MiB] }, 'a 6 MiB message sent by a turn arrived whole')
  const letters = await system.deadLetters()
  t.equal(letters.length, 1)
  t.match(letters[0]!.error, { message: /TROUPE_PAYLOAD.*m-thief.*not the one troupe writes/ })
  const store = new DynamoDBPayloadStore({ client: dynamodb, tableName: name })
  t.equal(await store.get('msg/none'), undefined, 'nothing under an unknown key')
})

t.test('a payload store that does not answer leaves the record and what follows for redelivery; nothing is lost or applied twice', async (t) => {
  const memory = new MemoryPayloadStore()
  let down = false
  const store: PayloadStore = { put: (k, d, e) => memory.put(k, d, e), get: (k) => (down ? Promise.reject(new Error('payload store unreachable')) : memory.get(k)) }
  const claimCheck = new ClaimCheck({ store, aboveBytes: 100 })
  const state = new MemoryStateStore()
  const host = new DurableHost({
    actors: [Big],
    state,
    timers: new MemoryTimerStore(),
    journal: new MemoryJournalStore(),
    messages: { send: () => Promise.reject(new Error('no turn of this test sends a message')) },
    claimCheck,
    logger: createLogger('silent' as never),
  })
  const e = (n: number, s: string) => makeEnvelope({ id: `m-${n}` as MessageId, type: Big.type, key: 'd', body: { k: 'd', s }, correlationId: `m-${n}` as CorrelationId, sentAt: 1 })
  const records = [
    { sequenceNumber: '1', data: encodeRecord(e(1, 'a')) },
    { sequenceNumber: '2', data: encodeRecord(await claimCheck.offload(e(2, 'b'.repeat(1_000)))) },
    { sequenceNumber: '3', data: encodeRecord(e(3, 'c')) },
  ]
  down = true
  const first = await host.handle({ stream: 's', shardId: 'shard-1', records })
  t.equal(first.failedFrom, '2', 'the record whose payload could not be fetched, and what follows, come again')
  down = false
  const again = await host.handle({ stream: 's', shardId: 'shard-1', records: records.slice(1) })
  t.equal(again.failedFrom, undefined)
  const item = await state.get(Big.type, 'd')
  t.same((JSON.parse(item!.state) as { json: { lengths: number[] } }).json.lengths, [1, 1_000, 1], 'each applied once, in order, the large one whole')
})
