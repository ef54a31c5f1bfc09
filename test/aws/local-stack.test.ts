// The local AWS stack: dynalite and a Kinesis emulator on 127.0.0.1, started and stopped by the test.
import t, { type Test } from 'tap'
import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis'
import { clients, startLocalStack, type LocalStackOptions } from '../../lib/local/local-stack.js'

async function waitForStream(kinesis: KinesisClient, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`stream ${name} never became ACTIVE`)
}

/** PutRecords then GetRecords from TRIM_HORIZON on every shard: the records come back intact. */
async function kinesisRoundTrip(t: Test, kinesis: KinesisClient, stream: string) {
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }))
  await waitForStream(kinesis, stream)
  const sent = Array.from({ length: 20 }, (_, i) => ({ key: `key-${i % 5}`, data: `record ${i} ✓` }))
  const put = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: sent.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(r.data) })),
    }),
  )
  t.equal(put.FailedRecordCount ?? 0, 0, 'no record failed')
  t.equal(put.Records?.length, 20)
  const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }))
  t.equal(shards.Shards?.length, 2)
  const got: { key: string; data: string; seq: bigint }[] = []
  for (const shard of shards.Shards ?? []) {
    const it = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    )
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator!, Limit: 100 }))
    const records = (out.Records ?? []).map((r) => ({
      key: r.PartitionKey!,
      data: Buffer.from(r.Data!).toString(),
      seq: BigInt(r.SequenceNumber!),
    }))
    for (let i = 1; i < records.length; i++) t.ok(records[i]!.seq > records[i - 1]!.seq, 'ascending within a shard')
    got.push(...records)
  }
  t.same(got.map((r) => r.data).sort(), sent.map((r) => r.data).sort(), 'every record came back intact')
  for (const key of ['key-0', 'key-3']) {
    t.strictSame(
      got.filter((r) => r.key === key).map((r) => r.data),
      sent.filter((r) => r.key === key).map((r) => r.data),
      `${key} kept its order`,
    )
  }
}

async function dynamoRoundTrip(t: Test, dynamodb: DynamoDBClient, table: string) {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  )
  // dynalite on disk may answer CreateTable before the table takes writes, as AWS does: wait for ACTIVE.
  for (let i = 0; i < 100; i++) {
    const d = await dynamodb.send(new DescribeTableCommand({ TableName: table }))
    if (d.Table?.TableStatus === 'ACTIVE') break
    await new Promise((r) => setTimeout(r, 20))
  }
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, n: { N: '1' }, s: { S: 'ünï' } } }))
  const got = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } }, ConsistentRead: true }))
  t.strictSame(got.Item, { pk: { S: 'a' }, n: { N: '1' }, s: { S: 'ünï' } })
}

async function withStack(t: Test, options: LocalStackOptions, body: (c: ReturnType<typeof clients>) => Promise<void>) {
  const stack = await startLocalStack(options)
  const c = clients(stack)
  try {
    t.match(stack.dynamodbEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/, 'DynamoDB on loopback')
    t.match(stack.kinesisEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/, 'Kinesis on loopback')
    await body(c)
  } finally {
    c.dynamodb.destroy()
    c.kinesis.destroy()
    await stack.stop()
  }
  return stack
}

t.test('dynalite and kinesalite start in process, answer, and stop', async (t) => {
  const stack = await withStack(t, {}, async ({ dynamodb, kinesis }) => {
    await dynamoRoundTrip(t, dynamodb, 'things')
    await kinesisRoundTrip(t, kinesis, 'events')
  })
  t.equal(stack.kinesis, 'kinesalite')
  await stack.stop() // a second stop is harmless
  const after = clients(stack, { maxAttempts: 1 })
  t.teardown(() => {
    after.dynamodb.destroy()
    after.kinesis.destroy()
  })
  await t.rejects(after.dynamodb.send(new ListTablesCommand({})), { code: 'ECONNREFUSED' }, 'DynamoDB is gone')
})

t.test('two stacks run side by side on their own ports', async (t) => {
  const [a, b] = await Promise.all([startLocalStack(), startLocalStack()])
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  t.not(a.dynamodbEndpoint, b.dynamodbEndpoint)
  t.not(a.kinesisEndpoint, b.kinesisEndpoint)
  const ca = clients(a)
  const cb = clients(b)
  t.teardown(() => [ca, cb].forEach((c) => (c.dynamodb.destroy(), c.kinesis.destroy())))
  await dynamoRoundTrip(t, ca.dynamodb, 'only_in_a')
  t.strictSame((await cb.dynamodb.send(new ListTablesCommand({}))).TableNames, [], 'b has its own data')
})

t.test('with a path, tables, items and streams survive a restart', async (t) => {
  const path = t.testdir()
  await withStack(t, { path }, async ({ dynamodb, kinesis }) => {
    await dynamoRoundTrip(t, dynamodb, 'kept')
    await kinesis.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }))
    await waitForStream(kinesis, 'kept')
  })
  await withStack(t, { path }, async ({ dynamodb, kinesis }) => {
    const got = await dynamodb.send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'a' } }, ConsistentRead: true }))
    t.equal(got.Item?.s?.S, 'ünï', 'the item is still there')
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'kept' }))
    t.equal(s.StreamDescriptionSummary?.StreamStatus, 'ACTIVE', 'the stream is still there')
  })
})

t.test('kinesis-local runs in a child process on loopback and stops with the stack', async (t) => {
  const stack = await withStack(t, { kinesis: 'kinesis-local' }, async ({ dynamodb, kinesis }) => {
    await dynamoRoundTrip(t, dynamodb, 'things')
    await kinesisRoundTrip(t, kinesis, 'events')
  })
  t.equal(stack.kinesis, 'kinesis-local')
})

t.test('options are checked before anything starts', async (t) => {
  await t.rejects(startLocalStack({ kinesis: 'localstack' as never }), { code: 'TROUPE_CONFIG', message: /kinesis must be/ })
  await t.rejects(startLocalStack({ createDelayMs: -1 }), { code: 'TROUPE_CONFIG', message: /createDelayMs/ })
})
