// Whole dead letters on the AWS mode (kinesalite, dynalite): an unreadable record and a failed
// message keep their letters whole past DynamoDB's 400 KB item, and replay sends them whole: a
// message as a message (a claim-check reference as the reference), an unreadable record as its
// own bytes put back on its stream, or a clear refusal when it has none.
import { createHash } from 'node:crypto'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import t, { type Test } from 'tap'
import { AwsSystem, type AwsSystemOptions } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { Actor, TerminalError, type Context } from '../../lib/index.js'
import { RecordCodec, encodeRecord } from '../../lib/routing/record-codec.js'
import type { UnreadableRecord } from '../../lib/routing/unreadable-record.js'
import { TableInspector } from '../../lib/aws/table-inspector.js'
import { AwsOutbox } from '../../lib/aws/aws-outbox.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { localStackFor } from '../fixtures/local-stack.js'

const KiB = 1024
const MiB = 1024 * KiB
const sha = (s: string) => createHash('sha256').update(s).digest('base64')

type WholeState = { got: { length: number; sha: string }[]; open: boolean }

/**
 * Keeps what arrived of each body: its length and hash, so a whole body is told from a cut one. A
 * message with `gated` fails for good until an `open` message came for its key.
 */
class Whole extends Actor<{ k: string; s: string; gated?: boolean; open?: boolean }, void, WholeState> {
  static readonly type = 'dl.whole'
  key(msg: { k: string }) {
    return msg.k
  }
  initialState() {
    return { got: [] as WholeState['got'], open: false }
  }
  receive(msg: Whole['In'], ctx: Context<WholeState>) {
    if (msg.open) ctx.state.open = true
    else if (msg.gated && !ctx.state.open) throw new TerminalError(`${msg.k} is closed`)
    else ctx.state.got.push({ length: msg.s.length, sha: sha(msg.s) })
  }
}

/** Stateless (its turns commit nothing): refuses every message until the fix is deployed. */
let fixed = false
const arrived: { length: number; sha: string }[] = []
class Fussy extends Actor<{ s: string }> {
  static readonly type = 'dl.fussy'
  receive(msg: Fussy['In']) {
    if (!fixed) throw new TerminalError(`not yet (${msg.s.length} characters)`)
    arrived.push({ length: msg.s.length, sha: sha(msg.s) })
  }
}

let made = 0
async function setUp(t: Test) {
  const { aws } = await localStackFor(t)
  const name = `rel-dl-${process.pid}-${++made}`
  await ensureResources({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName: name, streams: [name], shards: 1 })
  const systems: AwsSystem[] = []
  const start = (options: Partial<AwsSystemOptions> = {}) => {
    const system = new AwsSystem({ actors: [Whole, Fussy], kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'silent' as never, ...options })
    systems.push(system)
    return system
  }
  t.teardown(async () => {
    for (const s of systems) await s.stop().catch(() => {})
  })
  return { aws, name, start }
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  let value = await what()
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    value = await what()
  }
  return value
}

t.test('an unreadable record of 600 KiB is a dead letter with every byte; replayed after the fix, its bytes go back on the stream and run once', async (t) => {
  const { aws, name, start } = await setUp(t)
  // A host whose codec takes records up to 256 KiB: a larger one is unreadable here.
  const strict = start({ codec: new RecordCodec({ maxRecordBytes: 256 * KiB }) })
  const body = { k: 'r', s: 'ü'.repeat(300 * KiB) }
  const data = encodeRecord(makeEnvelope({ id: 'm-unreadable' as MessageId, type: Whole.type, key: 'r', body, correlationId: 'c' as CorrelationId, sentAt: 1 }))
  t.ok(data.byteLength > 600 * KiB, `the record is ${data.byteLength} bytes`)
  await aws.kinesis.send(new PutRecordsCommand({ StreamName: name, Records: [{ Data: data, PartitionKey: 'r' }] }))
  const [letter] = await until(() => strict.deadLetters(), (l) => l.length === 1)
  t.equal(letter?.error.code, 'TROUPE_BAD_RECORD', 'a dead letter of an unreadable record')
  t.match(letter?.error.message, /is not a message troupe can read: the record is \d+ bytes, over the limit of 262144/, 'with the codec\'s reason')
  const kept = letter?.envelope.body as UnreadableRecord & { base64: string; bytes: number }
  t.equal(kept.bytes, data.byteLength, 'bytes: the record\'s own count')
  t.ok(Buffer.from(kept.base64, 'base64').equals(data), 'every byte, in order (the letter is over 400 KB: kept in the payload store)')
  t.match(kept.shard, new RegExp(`^${name}/shardId-`), 'and where it was read')
  await strict.stop()

  // The fix: a host with the default codec (10 MiB records).
  const fixed = start()
  t.equal(await fixed.replay(letter!.envelope.id), letter!.envelope.id, 'replay answers with the letter\'s id')
  const state = await until(() => fixed.state(Whole, 'r'), (s) => s !== undefined)
  t.same(state, { got: [{ length: body.s.length, sha: sha(body.s) }], open: false }, 'the record, put back, ran: its body whole')
  await fixed.idle()
  t.same(await fixed.deadLetters(), [], 'no letter left')
  await t.rejects(fixed.replay(letter!.envelope.id), { code: 'TROUPE_NO_DEAD_LETTER' }, 'a second replay finds nothing')
  await fixed.idle()
  t.same(await fixed.state(Whole, 'r'), state, 'and nothing ran twice')
})

t.test('troupe inspect (a TableInspector over the table and stream) replays an unreadable record the same way', async (t) => {
  const { aws, name, start } = await setUp(t)
  const strict = start({ codec: new RecordCodec({ maxRecordBytes: 1 * KiB }) })
  const body = { k: 'i', s: 'i'.repeat(2 * KiB) }
  const data = encodeRecord(makeEnvelope({ id: 'm-inspected' as MessageId, type: Whole.type, key: 'i', body, correlationId: 'c' as CorrelationId, sentAt: 1 }))
  await aws.kinesis.send(new PutRecordsCommand({ StreamName: name, Records: [{ Data: data, PartitionKey: 'i' }] }))
  const [letter] = await until(() => strict.deadLetters(), (l) => l.length === 1)
  await strict.stop()
  const fixed = start()
  const inspector = new TableInspector({ dynamodb: aws.dynamodb, tableName: name, kinesis: aws.kinesis, stream: name })
  t.teardown(() => inspector.close())
  t.equal(await inspector.replay(letter!.envelope.id), letter!.envelope.id)
  const state = await until(() => fixed.state(Whole, 'i'), (v) => v !== undefined)
  t.same(state?.got, [{ length: body.s.length, sha: sha(body.s) }], 'put back by the inspector, read by the fixed host')
  await t.rejects(new TableInspector({ dynamodb: aws.dynamodb, tableName: name }).replay('no-such'), { code: 'TROUPE_NO_DEAD_LETTER' })
})

t.test('a record that cannot go back is refused, naming why, and stays a dead letter', async (t) => {
  const { name, start } = await setUp(t)
  const system = start({ consume: false, timers: false })
  // Straight into the host, as a Lambda event would bring them: data that is not base64, and a record of a stream this system does not write to.
  await system.host.handle({ stream: name, shardId: 'shardId-000000000000', records: [{ sequenceNumber: '7', data: 'eyJqc29uIjp7fX0*!' }] })
  await system.host.handle({ stream: 'elsewhere', shardId: 'shardId-000000000000', records: [{ sequenceNumber: '8', data: Buffer.from('not json') }] })
  const letters = await system.deadLetters()
  t.equal(letters.length, 2, 'two dead letters')
  const notBase64 = letters.find((l) => (l.envelope.body as UnreadableRecord).sequenceNumber === '7')!
  t.match(notBase64.envelope.body, { text: 'eyJqc29uIjp7fX0*!', characters: 17, notBase64: true }, 'data that is not base64: kept as text, counted in characters')
  await t.rejects(system.replay(notBase64.envelope.id), {
    code: 'TROUPE_NOT_REPLAYABLE',
    message: /record 7 of .* which no host could read; its Lambda event data was not base64 \(17 characters\), so there are no bytes to put back on the stream, and it is no message to send/,
  })
  const elsewhere = letters.find((l) => (l.envelope.body as UnreadableRecord).sequenceNumber === '8')!
  await t.rejects(system.replay(elsewhere.envelope.id), { code: 'TROUPE_NOT_REPLAYABLE', message: new RegExp(`back on stream "elsewhere", which this system does not write to \\(it writes to "${name}"\\)`) })
  t.same((await system.deadLetters()).map((l) => l.envelope.id).sort(), letters.map((l) => l.envelope.id).sort(), 'both stay dead letters, whole')
})

t.test('a failed message of 900 KiB is kept whole and replays whole; with payloads, a 3 MiB one keeps its reference and replays whole', async (t) => {
  const { start } = await setUp(t)
  const plain = start()
  const big = 'b'.repeat(900 * KiB)
  const id = await plain.tell(Fussy, { s: big })
  const [letter] = await until(() => plain.deadLetters(), (l) => l.length === 1)
  t.equal(letter?.envelope.id, id, 'the message is a dead letter')
  t.equal(sha((letter?.envelope.body as { s: string }).s), sha(big), 'listed: the whole body (the letter is over 400 KB: kept in the payload store)')
  fixed = true
  await plain.replay(id)
  await until(async () => arrived.length, (n) => n === 1)
  t.same(arrived, [{ length: big.length, sha: sha(big) }], 'replayed: the whole body ran')
  await plain.idle()
  t.same(await plain.deadLetters(), [], 'no letter left')
  await plain.stop()

  const withPayloads = start({ payloads: {} })
  const huge = 'h'.repeat(3 * MiB)
  const hugeId = await withPayloads.tell(Whole, { k: 'p', s: huge, gated: true })
  const [kept] = await until(() => withPayloads.deadLetters(), (l) => l.length === 1)
  t.equal(kept?.envelope.id, hugeId, 'the 3 MiB message is a dead letter')
  t.match(kept?.envelope.body, { '@troupe.payload': { key: `msg/${hugeId}`, sha256: String } }, 'the letter keeps the claim check\'s reference as it is')
  await withPayloads.tell(Whole, { k: 'p', s: '', open: true })
  await withPayloads.replay(hugeId)
  const after = await until(() => withPayloads.state(Whole, 'p'), (v) => v?.got.length === 1)
  t.same(after?.got, [{ length: huge.length, sha: sha(huge) }], 'replayed: the reference fetched the whole body')
  await withPayloads.idle()
  t.same(await withPayloads.deadLetters(), [], 'no letter left')
})

t.test("a stateful actor's message over the item's 400 KB that dies: its letter rides in the outbox, which waits in the overflow store; the key flows on", async (t) => {
  const { start } = await setUp(t)
  const system = start()
  const big = { k: 'big', s: 'x'.repeat(450 * KiB), gated: true }
  const id = await system.tell(Whole, big, { receipt: true })
  await system.tell(Whole, { k: 'big', s: 'after' })
  t.equal((await system.awaitReceipt(id, { timeoutMs: 60_000 })).status, 'dead', 'the message died')
  await system.idle()
  const [letter] = await system.deadLetters()
  t.equal(letter?.envelope.id, id, 'its letter is kept')
  t.ok((letter?.envelope.body as { s: string }).s === big.s, 'whole')
  t.same(await system.state(Whole, 'big'), { got: [{ length: 5, sha: sha('after') }], open: false }, 'the next message of the key ran: nothing waits behind the letter')
})

t.test("a replay that fails once the letter is taken leaves the letter and the receipt's whole history: its receipt write failing, then its delete of the old run, then its send; then it replays", async (t) => {
  const { aws, name, start } = await setUp(t)
  const system = start()
  const id = await system.tell(Whole, { k: 'r', s: 'once', gated: true }, { receipt: true })
  await until(() => system.deadLetters(), (l) => l.length === 1)
  const died = await until(() => system.receipt(id), (r) => r?.status === 'dead')
  const firstRun = died!.history
  const letterIsBack = async () => t.same((await system.deadLetters()).map((l) => l.envelope.id), [id], 'the letter is back')

  // The store refuses the replay's first entry: nothing of the old run may be gone.
  const put = DynamoDBJournalStore.prototype.putReceipts
  DynamoDBJournalStore.prototype.putReceipts = function (records) {
    if (records.some((r) => r.entry.reason === 'replayed')) return Promise.reject(new Error('injected: the receipt write failed'))
    return put.call(this, records)
  }
  await t.rejects(system.replay(id), /injected: the receipt write failed/)
  DynamoDBJournalStore.prototype.putReceipts = put
  await letterIsBack()
  t.same((await system.receipt(id))?.history, firstRun, 'the receipt is as the run that died left it')

  // The store refuses to drop the old run's entries once: the replay ends, and no entry shows twice.
  const drop = DynamoDBJournalStore.prototype.deleteReceipt
  let refusals = 1
  DynamoDBJournalStore.prototype.deleteReceipt = function (messageId, except) {
    if (messageId === id && refusals-- > 0) return Promise.reject(new Error('injected: the delete failed'))
    return drop.call(this, messageId, except)
  }
  await t.rejects(system.replay(id), /injected: the delete failed/)
  DynamoDBJournalStore.prototype.deleteReceipt = drop
  await letterIsBack()
  const once = await system.receipt(id)
  t.match(once?.history.at(-1), { status: 'dead', reason: /injected: the delete failed/ })
  t.same(once?.history.slice(0, firstRun.length), firstRun, 'the run that died, once')
  t.equal(once?.history.length, firstRun.length + 2, 'then the replay and its end, nothing of the run before again')

  // The stream refuses the replayed message: the receipt ends the replay as dead, saying why.
  const send = AwsOutbox.prototype.sendOffloaded
  AwsOutbox.prototype.sendOffloaded = function (envelope) {
    if (envelope.id === id) return Promise.reject(new Error('injected: the stream is unavailable'))
    return send.call(this, envelope)
  }
  await t.rejects(system.replay(id), /injected: the stream is unavailable/)
  AwsOutbox.prototype.sendOffloaded = send
  await letterIsBack()
  const failed = await system.receipt(id)
  t.equal(failed?.status, 'dead')
  t.match(failed?.history.at(-1), { status: 'dead', reason: /the replay failed, and the dead letter was kept: injected: the stream is unavailable/ })
  t.same(failed?.history.slice(0, once!.history.length), once?.history, 'what came before comes first')

  const inspected = await new TableInspector({ dynamodb: aws.dynamodb, tableName: name }).message(id)
  t.equal(inspected?.message.error?.message, 'injected: the stream is unavailable', "troupe inspect message: the error is the replay's")

  await system.tell(Whole, { k: 'r', s: '', open: true })
  await system.replay(id)
  const done = await until(() => system.receipt(id), (r) => r?.status === 'done')
  t.same(done?.history.slice(0, firstRun.length), firstRun, 'after the replay that ran: the first run still first')
  t.equal(done?.history.filter((e) => e.reason === 'replayed').length, 2, 'and every run a replay started (the last replay sent the run whose send failed, which may have gone out)')
  t.same((await system.state(Whole, 'r'))?.got, [{ length: 4, sha: sha('once') }])
  t.same(await system.deadLetters(), [])
})
