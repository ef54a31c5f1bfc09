// Poison, limits and hostile records on the Lambda path: the reliability host (the chaos host
// with no chaos) in LocalFunction child processes behind the local event source mapping, over
// kinesalite and dynalite.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import t from 'tap'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { PUT_RECORDS_MAX_BYTES } from '../../lib/routing/kinesis-limits.js'
import { rig } from '../lambda/fixtures/rig.js'
import { hostileRecords } from './corpus/records.js'
import { Counter, Hoarder, Tally } from './fixtures/actors.js'
import { bundleChaosHost } from './fixtures/run-chaos.js'

let stack: LocalStack
let bundle: string
t.before(async () => {
  stack = await startLocalStack()
  bundle = await bundleChaosHost(t)
})
t.teardown(() => stack?.stop())

const actors = [Counter, Tally, Hoarder]
const KiB = 1024

t.test('a poison message stops only its key; the shard flows; dead after the policy\'s attempts; replayed after the fix, applied once', async (t) => {
  const r = await rig(t, stack, bundle, { actors, shards: 1, esm: { batchSize: 50 } })
  const others = ['q1', 'q2', 'q3', 'q4', 'q5']
  let poisonId = ''
  for (let n = 1; n <= 3; n++) {
    const id = await r.producer.tell(Counter, { k: 'p', n, ...(n === 2 ? { poison: 'until-fixed' as const } : {}) })
    if (n === 2) poisonId = id
    for (const k of others) await r.producer.tell(Counter, { k, n })
  }
  await r.settle()
  for (const k of others) t.same(await r.producer.state(Counter, k), { sum: 6, ns: [1, 2, 3] }, `${k} flowed past the poison in the same shard`)
  t.same(await r.producer.state(Counter, 'p'), { sum: 4, ns: [1, 3] }, 'the poisoned key went on after its dead letter, in order')
  const letters = await r.producer.deadLetters()
  t.equal(letters.length, 1, 'one dead letter')
  t.equal(letters[0]!.envelope.id, poisonId)
  t.equal(letters[0]!.attempts.length, Counter.policy.maxAttempts, `after the policy's ${Counter.policy.maxAttempts} attempts`)
  t.match(letters[0]!.error.message, /counter p cannot take 2 yet/)
  t.equal((await r.producer.receipt(poisonId))?.status, 'dead', 'a dead-lettered message keeps its receipt, asked for or not')

  writeFileSync(join(r.markers, 'fixed'), '') // the fix is deployed
  t.equal(await r.producer.replay(poisonId), poisonId, 'replay sends the same message id')
  await r.settle()
  t.same(await r.producer.state(Counter, 'p'), { sum: 6, ns: [1, 3, 2] }, 'the replayed message was applied once')
  t.same(
    (await r.producer.receipt(poisonId))?.history.map((e) => [e.status, e.reason === 'replayed' ? 'replayed' : undefined]),
    [
      ['dead', undefined],
      ['accepted', 'replayed'],
      ['done', undefined],
    ],
    'its receipt keeps the run that died, then the replay, and ends done',
  )
  t.same(await r.producer.deadLetters(), [], 'no dead letter left')
  await t.rejects(r.producer.replay(poisonId), { code: 'TROUPE_NO_DEAD_LETTER' }, 'a second replay finds nothing to send')
  await r.settle()
  t.same(await r.producer.state(Counter, 'p'), { sum: 6, ns: [1, 3, 2] }, 'and nothing is applied twice')
})

t.test('hostile records put straight on the stream: dead letters with their reasons; good records around them applied once', async (t) => {
  const r = await rig(t, stack, bundle, { actors, shards: 1, esm: { batchSize: 100 } })
  // What a stream can carry: a Lambda event's base64 is always valid, and the stream refuses records over 1 MiB.
  const onStream = hostileRecords.filter((h) => {
    const data = h.data()
    return Buffer.isBuffer(data) && data.byteLength > 0 && data.byteLength < 1024 * KiB
  })
  const records = onStream.map((h) => ({ Data: h.data() as Buffer, PartitionKey: 'hostile' }))
  for (let n = 1; n <= 3; n++) await r.producer.tell(Counter, { k: 'good', n })
  await r.producer.transport.flush()
  const out = await r.aws.kinesis.send(new PutRecordsCommand({ StreamName: r.name, Records: records }))
  t.equal(out.FailedRecordCount, 0, `${records.length} hostile records on the stream`)
  for (let n = 4; n <= 6; n++) await r.producer.tell(Counter, { k: 'good', n })
  await r.settle()
  t.same(await r.producer.state(Counter, 'good'), { sum: 21, ns: [1, 2, 3, 4, 5, 6] }, 'every good record once, in order')
  const letters = await r.producer.deadLetters()
  t.equal(letters.length, onStream.length, 'one dead letter per hostile record')
  for (const h of onStream) t.ok(letters.some((l) => h.reason.test(l.error.message)), `${h.name}: ${h.reason}`)
  const unreadable = letters.filter((l) => /is not a message troupe can read/.test(l.error.message))
  t.ok(unreadable.length > 0 && unreadable.every((l) => typeof (l.envelope.body as { base64?: string }).base64 === 'string'), 'unreadable records keep their bytes (base64) in the dead letter')
  for (const l of unreadable) {
    const body = l.envelope.body as { base64: string; bytes: number; sequenceNumber: string }
    const kept = Buffer.from(body.base64, 'base64')
    t.ok(records.some((r) => r.Data.equals(kept)) && body.bytes === kept.byteLength, `record ${body.sequenceNumber}: all ${body.bytes} bytes, as put on the stream`)
  }
  t.equal(r.failures.length, 0, 'the mapping gave up on nothing')
  t.equal(r.fn.stats().crashes, 0, 'no handler crashed')
})

t.test('size limits: a batch over 5 MiB is split, a state over 400 KB is a named dead letter, the key flows on', async (t) => {
  const r = await rig(t, stack, bundle, { actors, shards: 1, esm: { batchSize: 100 } })
  // Twelve 900 KiB messages told at once: about 10.5 MiB, more than one PutRecords call takes.
  const big = 'x'.repeat(900 * KiB)
  await Promise.all(Array.from({ length: 12 }, (_, i) => r.producer.tell(Tally, { k: `big${i}`, n: big.length })))
  await r.settle()
  for (let i = 0; i < 12; i++) t.same(await r.producer.state(Tally, `big${i}`), { ns: [big.length] }, `big${i} arrived`)
  t.ok(12 * big.length > PUT_RECORDS_MAX_BYTES, 'the messages were more than one call may carry')

  // 150 KB strings: the third makes the state pass DynamoDB's 400 KB item.
  const chunk = 'y'.repeat(150 * 1000)
  for (let i = 0; i < 4; i++) await r.producer.tell(Hoarder, { k: 'h', s: `${i}${chunk}` })
  await r.producer.tell(Counter, { k: 'h', n: 1 })
  await r.settle()
  const kept = (await r.producer.state(Hoarder, 'h'))?.kept.map((s) => s[0])
  t.same(kept, ['0', '1'], 'the state stayed at what fits')
  const letters = await r.producer.deadLetters()
  t.equal(letters.length, 2, 'each message that would outgrow the item is a dead letter')
  for (const l of letters) t.match(l.error, { name: 'ItemTooLargeError', message: /state of rel\.hoarder#h .*KB/ })
  t.same(await r.producer.state(Counter, 'h'), { sum: 1, ns: [1] }, 'other actors flow on')
})

t.test('large messages on the Lambda path: with payloads on both sides, a 3 MiB body arrives whole beside small ones', async (t) => {
  const r = await rig(t, stack, bundle, { actors, shards: 1, producer: { payloads: {} }, fn: { environment: { TROUPE_PAYLOADS: '1' } } })
  const big = 'z'.repeat(3 * 1024 * KiB)
  await r.producer.tell(Hoarder, { k: 'pl', s: 'small' })
  await r.producer.tell(Counter, { k: 'pl', n: 1, tally: true })
  await r.producer.tell(Tally, { k: 'pl-big', n: big.length, pad: big } as never)
  await r.settle()
  t.same(await r.producer.state(Tally, 'pl-big'), { ns: [big.length] }, 'the 3 MiB message arrived and ran')
  t.same(await r.producer.state(Tally, 'pl'), { ns: [1] })
  t.same(await r.producer.deadLetters(), [])
})
