// The claim check's S3 store against a real S3 API (s3rver on 127.0.0.1, started here): the
// PayloadStore conformance suite (several MiB, a missing or expired key), the prefix, errors
// naming the bucket and key;
// and the AWS mode end to end on the local Kinesis and DynamoDB with its payloads in S3.
import { randomBytes } from 'node:crypto'
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { Actor, type Context } from '../../lib/index.js'
import { ClaimCheck, PAYLOAD_FIELD } from '../../lib/routing/claim-check.js'
import { S3PayloadStore } from '../../lib/store/s3-payload-store.js'
import { startLocalS3, type LocalS3 } from '../fixtures/local-s3.js'
import { payloadStoreConformance } from '../fixtures/payload-store-conformance.js'
import { localStackFor } from '../fixtures/local-stack.js'

const MiB = 1024 * 1024
const BUCKET = 'troupe-test-payloads'

let s3: LocalS3
t.before(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] })
})
t.teardown(() => s3?.stop())

t.test('the PayloadStore conformance suite', async (t) => {
  const store = new S3PayloadStore({ client: s3.client, bucket: BUCKET })
  payloadStoreConformance(t, 's3', () => store, { expires: true })
})

t.test('objects go under the prefix, where the lifecycle rule expires them; another prefix is apart', async (t) => {
  const store = new S3PayloadStore({ client: s3.client, bucket: BUCKET })
  const data = randomBytes(MiB)
  await store.put('msg/m-big', data, Date.now() + 60_000)
  const raw = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'troupe-payloads/msg/m-big' }))
  t.equal(raw.ContentLength, MiB, 'under the default prefix')
  t.match(raw.Metadata, { 'expires-at': /^\d+$/ }, 'with its expiry as metadata')

  const other = new S3PayloadStore({ client: s3.client, bucket: BUCKET, prefix: 'other/' })
  t.equal(await other.get('msg/m-big'), undefined, 'another prefix sees nothing of it')
  await other.put('msg/m-1', Buffer.from('x'), Date.now() + 60_000)
  t.ok(await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'other/msg/m-1' })), 'and keeps its own under its prefix')
})

t.test('a payload past its expiresAt reads as gone before the lifecycle rule deletes it', async (t) => {
  const store = new S3PayloadStore({ client: s3.client, bucket: BUCKET })
  await store.put('msg/m-old', Buffer.from('old'), Date.now() - 1)
  t.equal(await store.get('msg/m-old'), undefined)
  // An object put by something else, without the metadata, is read as it is.
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'troupe-payloads/msg/m-bare', Body: 'bare' }))
  t.equal(Buffer.from((await store.get('msg/m-bare'))!).toString(), 'bare')
})

t.test('a failing S3 call names the operation, bucket and key; bad options are refused at construction', async (t) => {
  const missing = new S3PayloadStore({ client: s3.client, bucket: 'no-such-bucket-here' })
  await t.rejects(missing.put('msg/m-1', Buffer.from('x'), Date.now() + 1000), { code: 'TROUPE_PAYLOAD_STORE', message: /PutObject of s3:\/\/no-such-bucket-here\/troupe-payloads\/msg\/m-1 failed \(NoSuchBucket/ })
  await t.rejects(missing.get('msg/m-1'), { code: 'TROUPE_PAYLOAD_STORE', message: /GetObject of s3:\/\/no-such-bucket-here\/troupe-payloads\/msg\/m-1 failed \(NoSuchBucket/ })
  t.throws(() => new S3PayloadStore({ client: undefined as never, bucket: BUCKET }), { code: 'TROUPE_CONFIG', message: /needs client/ })
  t.throws(() => new S3PayloadStore({ client: s3.client, bucket: 'Bad_Bucket' }), { code: 'TROUPE_CONFIG', message: /bucket must be an S3 bucket name.*"Bad_Bucket"/ })
  t.throws(() => new S3PayloadStore({ client: s3.client, bucket: BUCKET, prefix: 7 as never }), { code: 'TROUPE_CONFIG', message: /prefix must be a string/ })
})

t.test('through the claim check: a large body is a reference, and comes back as sent', async (t) => {
  const check = new ClaimCheck({ store: new S3PayloadStore({ client: s3.client, bucket: BUCKET }), aboveBytes: 1024 })
  const body = { k: 'k', s: 'y'.repeat(2 * MiB), m: new Map([['a', 1n]]) }
  const envelope = (b: unknown) => makeEnvelope({ id: 'm-check' as MessageId, type: 'big', key: 'k', body: b, correlationId: 'm-check' as CorrelationId, sentAt: 1 })
  const sent = await check.offload(envelope(body))
  t.same(Object.keys(sent.body as object), [PAYLOAD_FIELD])
  t.same((await check.restore(envelope(sent.body))).body, body)
})

class Big extends Actor<{ k: string; s: string }, void, { lengths: number[]; last: string }> {
  static readonly type = 'pl3.big'
  key(msg: { k: string }) {
    return msg.k
  }
  initialState() {
    return { lengths: [] as number[], last: '' }
  }
  receive(msg: Big['In'], ctx: Context<{ lengths: number[]; last: string }>) {
    ctx.state.lengths.push(msg.s.length)
    ctx.state.last = msg.s.slice(-16)
  }
}

t.test('the AWS mode with payloads in S3: a body over the record limit is told, applied once, whole', async (t) => {
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-pl3-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const store = new S3PayloadStore({ client: s3.client, bucket: BUCKET })
  const system = new AwsSystem({ actors: [Big], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error', payloads: { store } })
  t.teardown(() => system.stop())
  // Not one character repeated: a body that is the same everywhere would hide a chunk out of place.
  const s = randomBytes(0.9 * MiB).toString('hex') // 1.8 MiB of text
  const id = await system.tell(Big, { k: 'a', s })
  await system.idle()
  t.same(await system.state(Big, 'a'), { lengths: [s.length], last: s.slice(-16) }, 'applied once, the body whole')
  const object = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `troupe-payloads/msg/${id}` }))
  t.ok(object.ContentLength! > s.length, `the body went to S3 under its message id (${object.ContentLength} bytes)`)
  t.same(await system.deadLetters(), [])
})
