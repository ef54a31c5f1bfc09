// Cost counters: the SDK middleware counts real requests and bytes against the local servers.
import t from 'tap'
import { CreateTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { clients, startLocalStack } from '../../lib/local/local-stack.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'

const stack = await startLocalStack()
t.teardown(() => stack.stop())

function countedClients(t: { teardown(fn: () => void): void }, counter: RequestCounter, maxAttempts?: number) {
  const c = clients(stack, maxAttempts === undefined ? {} : { maxAttempts })
  t.teardown(() => {
    c.dynamodb.destroy()
    c.kinesis.destroy()
  })
  return { dynamodb: countRequests(c.dynamodb, counter), kinesis: countRequests(c.kinesis, counter) }
}

t.test('every DynamoDB and Kinesis request is counted per API, with its bytes', async (t) => {
  const counter = new RequestCounter()
  const { dynamodb, kinesis } = countedClients(t, counter)
  await dynamodb.send(
    new CreateTableCommand({
      TableName: 'counted',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  )
  const payload = 'p'.repeat(10_000)
  for (let i = 0; i < 3; i++) {
    await dynamodb.send(new PutItemCommand({ TableName: 'counted', Item: { pk: { S: `k${i}` }, data: { S: payload } } }))
  }
  await dynamodb.send(new GetItemCommand({ TableName: 'counted', Key: { pk: { S: 'k0' } } }))

  await kinesis.send(new CreateStreamCommand({ StreamName: 'counted', ShardCount: 1 }))
  while ((await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'counted' }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE');
  const records = Array.from({ length: 100 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.alloc(1_000, i) }))
  await kinesis.send(new PutRecordsCommand({ StreamName: 'counted', Records: records }))

  const counts = counter.snapshot()
  t.equal(counts.byApi['DynamoDB.CreateTable']?.requests, 1)
  t.equal(counts.byApi['DynamoDB.PutItem']?.requests, 3)
  t.equal(counts.byApi['DynamoDB.GetItem']?.requests, 1)
  t.equal(counts.byApi['Kinesis.CreateStream']?.requests, 1)
  t.equal(counts.byApi['Kinesis.PutRecords']?.requests, 1, '100 records, one request')
  t.ok(counts.byApi['Kinesis.DescribeStreamSummary']!.requests >= 1)
  t.equal(counts.total.requests, counter.requests())
  t.equal(counts.total.errors, 0)

  const put = counts.byApi['DynamoDB.PutItem']!
  t.ok(put.requestBytes > 3 * 10_000 && put.requestBytes < 3 * 10_300, `PutItem sent ${put.requestBytes} bytes for 3 × 10 KB`)
  const get = counts.byApi['DynamoDB.GetItem']!
  t.ok(get.responseBytes > 10_000 && get.responseBytes < 10_300, `GetItem received ${get.responseBytes} bytes for one 10 KB item`)
  const putRecords = counts.byApi['Kinesis.PutRecords']!
  t.ok(putRecords.requestBytes > (100_000 * 4) / 3, `PutRecords sent ${putRecords.requestBytes} bytes: 100 KB, base64 in JSON`)
  t.ok(putRecords.responseBytes > 0)
  t.strictSame(Object.keys(counts.byApi), Object.keys(counts.byApi).sort(), 'APIs in name order')

  // What AWS bills them by: a write unit per started KB, a PUT payload unit per started 25 KB of a record.
  t.equal(put.units, 3 * 10, 'each 10 KB item is 10 write units')
  t.equal(get.units, 3 * 0.5, 'an eventually consistent read of 10 KB: 3 units of 4 KB at half price')
  t.equal(putRecords.units, 100, 'each 1 KB record is one PUT payload unit')
  t.equal(counts.byApi['DynamoDB.CreateTable']?.units, 0, 'an API billed otherwise has no units')
})

t.test('failed requests count as errors, and each retry as a request', async (t) => {
  const counter = new RequestCounter()
  const { dynamodb } = countedClients(t, counter)
  await dynamodb.send(
    new CreateTableCommand({
      TableName: 'conditional',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  )
  const put = () =>
    dynamodb.send(new PutItemCommand({ TableName: 'conditional', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' }))
  await put()
  await t.rejects(put(), { name: 'ConditionalCheckFailedException' })
  t.strictSame(
    { requests: counter.snapshot().byApi['DynamoDB.PutItem']!.requests, errors: counter.snapshot().byApi['DynamoDB.PutItem']!.errors },
    { requests: 2, errors: 1 },
    'a conditional failure is one request that failed, never retried',
  )
  t.equal(counter.snapshot().byApi['DynamoDB.PutItem']!.units, 2, 'a refused conditional write is billed as a done one')

  // A server that is gone: the SDK retries the refused connection, and every attempt counts.
  const gone = await startLocalStack()
  await gone.stop()
  const c = clients(gone, { maxAttempts: 2 })
  t.teardown(() => (c.dynamodb.destroy(), c.kinesis.destroy()))
  const lost = new RequestCounter()
  countRequests(c.dynamodb, lost)
  await t.rejects(c.dynamodb.send(new ListTablesCommand({})), { code: 'ECONNREFUSED' })
  t.strictSame(lost.snapshot().byApi['DynamoDB.ListTables'], { requests: 2, errors: 2, requestBytes: 4, responseBytes: 0, units: 0 }) // '{}' twice
})

t.test('since() measures one stretch of work; reset() starts again', async (t) => {
  const counter = new RequestCounter()
  const { dynamodb } = countedClients(t, counter)
  await dynamodb.send(new ListTablesCommand({}))
  const before = counter.snapshot()
  await dynamodb.send(new ListTablesCommand({}))
  await dynamodb.send(new ListTablesCommand({}))
  const stretch = counter.since(before)
  t.equal(stretch.total.requests, 2)
  t.strictSame(Object.keys(stretch.byApi), ['DynamoDB.ListTables'])
  t.equal(counter.requests('DynamoDB.ListTables'), 3)
  t.equal(counter.requests('DynamoDB.Nothing'), 0)
  const last = counter.reset()
  t.equal(last.total.requests, 3)
  t.equal(counter.requests(), 0)
  t.strictSame(counter.snapshot(), { total: { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0, units: 0 }, byApi: {} })
})

t.test('attaching twice counts once; one counter may serve many clients', async (t) => {
  const counter = new RequestCounter()
  const { dynamodb } = countedClients(t, counter)
  countRequests(dynamodb, counter)
  const other = countedClients(t, counter)
  await dynamodb.send(new ListTablesCommand({}))
  await other.dynamodb.send(new ListTablesCommand({}))
  t.equal(counter.requests('DynamoDB.ListTables'), 2)
})

t.test('a counter adds what it is told, without any client', async (t) => {
  const counter = new RequestCounter()
  counter.record('Kinesis.PutRecords', { requestBytes: 10, responseBytes: 5, error: false })
  counter.record('Kinesis.PutRecords', { requestBytes: 10, responseBytes: 0, error: true })
  counter.record('DynamoDB.GetItem', { requestBytes: 1, responseBytes: 2, error: false, units: 1 })
  t.strictSame(counter.snapshot(), {
    total: { requests: 3, errors: 1, requestBytes: 21, responseBytes: 7, units: 1 },
    byApi: {
      'DynamoDB.GetItem': { requests: 1, errors: 0, requestBytes: 1, responseBytes: 2, units: 1 },
      'Kinesis.PutRecords': { requests: 2, errors: 1, requestBytes: 20, responseBytes: 5, units: 0 },
    },
  })
})
