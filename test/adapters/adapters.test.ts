// The AWS event adapters on their own: what is told, skipped, refused (logged, never retried)
// and failed (reported for the source to retry), and the compile-time check of `map`.
import { readFileSync } from 'node:fs'
import t from 'tap'
import type { DynamoDBStreamEvent, EventBridgeEvent, S3Event, SNSEvent } from 'aws-lambda'
import { z } from 'zod'
import { Actor, createLogger, type Context, type Envelope } from '../../lib/index.js'
import { AdapterSendError, fromDynamoDBStream, fromEventBridge, fromS3, fromSns, type S3ObjectCreated, type TableChange } from '../../lib/adapters/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

const sample = <T>(file: string): T => JSON.parse(readFileSync(new URL(`../../examples/schedules/events/${file}`, import.meta.url), 'utf8')) as T

class Objects extends Actor<S3ObjectCreated, void, { keys: string[] }> {
  static readonly type = 'objects'
  key(msg: S3ObjectCreated) {
    return msg.bucket
  }
  initialState() {
    return { keys: [] as string[] }
  }
  receive(msg: S3ObjectCreated, ctx: Context<{ keys: string[] }>) {
    ctx.state.keys.push(msg.key)
  }
}

/** Takes small objects only: its schema refuses the rest. */
class SmallObjects extends Actor<{ key: string; size: number }> {
  static readonly type = 'smallObjects'
  static readonly schema = z.object({ key: z.string(), size: z.number().max(10_000) })
  receive() {}
}

class Changes extends Actor<{ id: string; seq: string }, void, { seqs: string[] }> {
  static readonly type = 'changes'
  key() {
    return 'all'
  }
  initialState() {
    return { seqs: [] as string[] }
  }
  receive(msg: { id: string; seq: string }, ctx: Context<{ seqs: string[] }>) {
    ctx.state.seqs.push(msg.seq)
  }
}

class Notes extends Actor<{ text: string }> {
  static readonly type = 'notes'
  receive() {}
}

function setup() {
  const test = createTestSystem({ actors: [Objects, SmallObjects, Changes, Notes] })
  const accepted: Envelope[] = []
  test.system.on((e) => {
    if (e.type === '@troupe.accepted') accepted.push(e.envelope)
  })
  const lines: Record<string, unknown>[] = []
  const logger = createLogger('warn', {}, (line) => lines.push(JSON.parse(line)))
  return { ...test, accepted, lines, logger }
}

t.test('S3: objects created are told with the request id as correlation id; other events are skipped; keys are decoded', async (t) => {
  const { system, settle, accepted } = setup()
  const delivered = await fromS3(system, Objects)(sample<S3Event>('s3-object-created.json'))
  await settle()
  t.same((await system.state(Objects, 'amzn-s3-demo-bucket'))?.keys, ['HappyFace.jpg', 'photos/summer trip, 2026.mp4'])
  t.same(delivered.skipped, ['amzn-s3-demo-bucket/0055AED6DCD9029B42'], 'the ObjectRemoved event')
  t.same(accepted.map((e) => e.correlationId), ['D82B88E5F771F645', 'C3D13FE58DE4C810'])
  t.same(await fromS3(system, Objects)({ Records: [] }), { told: [], skipped: [], refused: [], failed: [] }, "a bucket's test event has no records")
})

t.test("S3: a key that cannot be decoded, and a body the actor's schema refuses, are refused and logged; the rest go on", async (t) => {
  const { system, lines, logger } = setup()
  const event = sample<S3Event>('s3-object-created.json')
  event.Records[0]!.s3.object.key = 'broken%E0%A4%A'
  const delivered = await fromS3(system, SmallObjects, { logger, map: (o) => ({ key: o.key, size: o.size }) })(event)
  t.equal(delivered.told.length, 0)
  t.match(delivered.refused, [
    { record: 'amzn-s3-demo-bucket/0055AED6DCD90281E5', error: /malformed.*URI/i },
    { record: 'amzn-s3-demo-bucket/0055AED6DCD9028A10', error: /smallObjects.*size/ },
  ])
  t.equal(lines.length, 2)
  t.match(lines[1], { level: 'warn', source: 's3', actor: 'smallObjects', record: 'amzn-s3-demo-bucket/0055AED6DCD9028A10' })
})

t.test('S3: a send that fails throws, so Lambda retries the event', async (t) => {
  const { system } = setup()
  await system.stop()
  await t.rejects(fromS3(system, Objects)(sample<S3Event>('s3-object-created.json')), AdapterSendError)
})

t.test('SNS: one message per notification, mapped; a map that throws refuses the record', async (t) => {
  const { system, accepted, logger } = setup()
  const event = sample<SNSEvent>('sns-notification.json')
  const ok = await fromSns(system, Notes, { map: (n) => ({ text: `${n.subject}: ${n.message} (${n.attributes.Test})` }) })(event)
  t.equal(ok.told.length, 1)
  t.same(accepted[0]?.body, { text: 'TestInvoke: Hello from SNS! (TestString)' })
  t.equal(accepted[0]?.correlationId, '95df01b4-ee98-5cb9-9903-4c221d41eb5e')
  const bad = await fromSns(system, Notes, { logger, map: (n) => JSON.parse(n.message) as { text: string } })(event)
  t.match(bad.refused, [{ record: '95df01b4-ee98-5cb9-9903-4c221d41eb5e', error: /map threw/ }])
})

t.test('DynamoDB stream: changes in stream order; the partial batch response names the first record not sent', async (t) => {
  const { system, settle } = setup()
  const event = sample<DynamoDBStreamEvent>('dynamodb-stream.json')
  const map = (c: TableChange) => ({ id: String(c.keys.Id), seq: c.sequenceNumber })
  const result = await fromDynamoDBStream(system, Changes, { map })(event)
  await settle()
  t.same(result.batchItemFailures, [])
  t.same((await system.state(Changes, 'all'))?.seqs, ['111', '222', '333'])

  // A number beyond JavaScript's precision arrives whole, as a bigint.
  const big = sample<DynamoDBStreamEvent>('dynamodb-stream.json')
  big.Records[0]!.dynamodb!.Keys = { Id: { N: '123456789012345678901234567890' } }
  let id: unknown
  await fromDynamoDBStream(system, Changes, { map: (c) => ((id ??= c.keys.Id), map(c)) })(big)
  t.equal(id, 123456789012345678901234567890n)

  // An attribute of a type DynamoDB does not have cannot become a message: refused, and the batch goes on.
  const odd = sample<DynamoDBStreamEvent>('dynamodb-stream.json')
  odd.Records[1]!.dynamodb!.NewImage = { Id: { X: '1' } } as never
  const refused = await fromDynamoDBStream(system, Changes, { map, logger: createLogger('silent') })(odd)
  t.match(refused.delivered.refused, [{ record: '2', error: /cannot be read.*Unsupported type/ }])
  t.equal(refused.delivered.told.length, 2)
  t.same(refused.batchItemFailures, [], 'a refused record never holds the shard')

  await system.stop()
  const failed = await fromDynamoDBStream(system, Changes, { map })(sample<DynamoDBStreamEvent>('dynamodb-stream.json'))
  t.same(failed.batchItemFailures, [{ itemIdentifier: '111' }], 'Lambda retries from the first failed record')
})

t.test('EventBridge: the event is told with its id as correlation id; a map returning undefined skips it', async (t) => {
  const { system, accepted } = setup()
  const [ec2] = sample<EventBridgeEvent<string, { state: string }>[]>('eventbridge-ec2-state-change.json')
  const told = await fromEventBridge<{ state: string }, typeof Notes>(system, Notes, { map: (e) => ({ text: `${e.detailType}: ${e.detail.state}` }) })(ec2!)
  t.equal(told.told.length, 1)
  t.same(accepted[0]?.body, { text: 'EC2 Instance State-change Notification: pending' })
  t.equal(accepted[0]?.correlationId, '7bf73129-1428-4cd3-a780-95db273d1602')
  const skipped = await fromEventBridge(system, Notes, { map: () => undefined })(ec2!)
  t.same(skipped.skipped, ['7bf73129-1428-4cd3-a780-95db273d1602'])
})

t.test('types: map is needed when the mailbox is not the adapter shape, and must return the mailbox', async (t) => {
  const { system } = setup()
  fromS3(system, Objects) // the mailbox is S3ObjectCreated: no map needed
  // @ts-expect-error Notes takes { text }, not an SNS notification: a map is needed
  fromSns(system, Notes)
  // @ts-expect-error the map returns the wrong shape
  fromSns(system, Notes, { map: (n) => ({ body: n.message }) })
  t.pass('checked by tsc')
})
