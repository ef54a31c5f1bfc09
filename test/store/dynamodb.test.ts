// The DynamoDB store against the store conformance suite, on a dynalite started in memory on a
// random port (fixtures/table-stores.ts); then what only this store has: its request costs,
// paging past DynamoDB's 1 MB pages, BatchGetItem, and its errors.
import t from 'tap'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { DYNAMODB_MAX_ITEM_BYTES, createTable, dynamodbStores, type DynamoDBStoreOptions } from '../../lib/store/dynamodb.js'
import type { TimerRecord } from '../../lib/store/index.js'
import { storeConformance } from '../../lib/testing/store-conformance.js'
import { tableStores } from './fixtures/table-stores.js'

const { dynamodb, table, countedClient } = await tableStores(t)

async function freshStores(options: Partial<DynamoDBStoreOptions> = {}) {
  const { tableName, drop } = await table('troupe')
  return { ...dynamodbStores({ client: dynamodb, tableName, ...options }), tableName, close: drop }
}

t.test('conformance with the default 8 timer shards', async (t) => {
  storeConformance(t, () => freshStores(), { maxItemBytes: DYNAMODB_MAX_ITEM_BYTES })
})

t.test('conformance with one timer shard', async (t) => {
  storeConformance(t, () => freshStores({ timerShards: 1 }), { maxItemBytes: DYNAMODB_MAX_ITEM_BYTES })
})

const timer = (id: string, dueAt: number, body = '{}'): TimerRecord => ({ id, target: 'x', body, dueAt, correlationId: 'c', fired: 0 })

t.test('each store operation costs the requests the design says', async (t) => {
  const { client, counter } = countedClient(t)
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  const { state, timers } = dynamodbStores({ client, tableName, timerShards: 8 })
  const cost = async (what: () => Promise<unknown>) => {
    const before = counter.snapshot()
    await what().catch(() => {})
    return Object.fromEntries(Object.entries(counter.since(before).byApi).map(([api, c]) => [api, c.requests]))
  }
  t.strictSame(await cost(() => state.get('a', 'k')), { 'DynamoDB.GetItem': 1 }, 'state.get')
  t.strictSame(await cost(() => state.put('a', 'k', { state: '{}', version: 1, updatedAt: 1 }, undefined)), { 'DynamoDB.PutItem': 1 }, 'state.put')
  t.strictSame(await cost(() => state.put('a', 'k', { state: '{}', version: 2, updatedAt: 1 }, 5)), { 'DynamoDB.PutItem': 1 }, 'a conflicting put')
  t.strictSame(await cost(() => state.delete('a', 'k')), { 'DynamoDB.DeleteItem': 1 }, 'state.delete')
  t.strictSame(await cost(() => timers.put(timer('t', 5))), { 'DynamoDB.PutItem': 1 }, 'timers.put')
  t.strictSame(await cost(() => timers.put(timer('t', 9))), { 'DynamoDB.PutItem': 1 }, 'timers.put replacing')
  t.strictSame(await cost(() => timers.get('t')), { 'DynamoDB.GetItem': 1 }, 'timers.get')
  t.strictSame(await cost(() => timers.delete('t')), { 'DynamoDB.DeleteItem': 1 }, 'timers.delete')
  const order = (v: number) => ({ owner: 'job#a', life: 1, v, n: 0 })
  t.strictSame(await cost(() => timers.put({ ...timer('o', 5), order: order(2) })), { 'DynamoDB.PutItem': 1 }, 'an ordered put')
  t.strictSame(await cost(() => timers.delete('o', order(3))), { 'DynamoDB.PutItem': 1 }, "an ordered cancel: its record in the timer's place")
  t.strictSame(await cost(() => timers.put({ ...timer('o', 5), order: order(2) })), { 'DynamoDB.PutItem': 1 }, 'an ordered put refused, not tried again')
  t.strictSame(await cost(() => timers.due(10, 100)), { 'DynamoDB.Query': 8 }, 'timers.due: one Query per shard')
  t.strictSame(await cost(() => timers.next()), { 'DynamoDB.Query': 8 }, 'timers.next: one Query per shard')
  t.strictSame(await cost(() => timers.list()), { 'DynamoDB.Query': 8 }, 'timers.list of a small set')
  const refs = Array.from({ length: 250 }, (_, i) => ({ type: 'a', key: `k${i}` }))
  t.strictSame(await cost(() => state.getMany(refs)), { 'DynamoDB.BatchGetItem': 3 }, 'getMany of 250 keys')
})

t.test('a timer item whose order is not whole counts as one without an order, as it reads', async (t) => {
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  const { timers } = dynamodbStores({ client: dynamodb, tableName, timerShards: 1 })
  await timers.put({ ...timer('job#a#r', 5), order: { owner: 'job#a', life: 1, v: 9, n: 0 } })
  // The same item with its life taken out (written by hand, or damaged).
  const key = { pk: { S: 'timers#0' }, sk: { S: 'i#job#a#r' } }
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...key, id: { S: 'job#a#r' }, target: { S: 'x' }, body: { S: '{}' }, dueAt: { N: '5' }, due: { S: '0000000000000005#i#job#a#r' }, cid: { S: 'c' }, fired: { N: '0' }, oo: { S: 'job#a' }, ov: { N: '9' }, on: { N: '0' } } }))
  t.equal((await timers.get('job#a#r'))?.order, undefined, 'it reads with no order')
  await timers.put({ ...timer('job#a#r', 7), order: { owner: 'job#a', life: 1, v: 2, n: 0 } })
  t.equal((await timers.get('job#a#r'))?.dueAt, 7, 'and an ordered put replaces it, as one on a timer without an order')
  // Its version written as text.
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...key, id: { S: 'job#a#r' }, target: { S: 'x' }, body: { S: '{}' }, dueAt: { N: '5' }, due: { S: '0000000000000005#i#job#a#r' }, cid: { S: 'c' }, fired: { N: '0' }, oo: { S: 'job#a' }, ol: { N: '1' }, ov: { S: '9' }, on: { N: '0' } } }))
  t.equal((await timers.get('job#a#r'))?.order, undefined)
  await timers.delete('job#a#r', { owner: 'job#a', life: 1, v: 2, n: 0 })
  t.equal(await timers.get('job#a#r'), undefined, 'an ordered cancel takes its place too')
})

t.test('due, list and next page past 1 MB of timers in one shard', async (t) => {
  const { client, counter } = countedClient(t)
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  const { timers } = dynamodbStores({ client, tableName, timerShards: 1 })
  const body = 'x'.repeat(150 * 1024)
  for (let i = 0; i < 16; i++) await timers.put(timer(`t${String(i).padStart(2, '0')}`, 1_000 + i, body)) // 2.4 MB
  const queries = () => counter.requests('DynamoDB.Query')

  let before = queries()
  const due = await timers.due(5_000, 100)
  t.strictSame(
    due.map((x) => x.id),
    Array.from({ length: 16 }, (_, i) => `t${String(i).padStart(2, '0')}`),
  )
  t.ok(queries() - before >= 3, `due read 2.4 MB in ${queries() - before} pages`)
  t.equal((await timers.due(5_000, 12)).length, 12)
  before = queries()
  t.equal((await timers.list()).length, 16)
  t.ok(queries() - before >= 3, `list read 2.4 MB in ${queries() - before} pages`)
  t.equal(await timers.next(), 1_000)
})

t.test('getMany loads instances in order, with gaps and repeats', async (t) => {
  const { state, close } = await freshStores()
  t.teardown(close)
  for (let i = 0; i < 150; i += 2) await state.put('counter', `k${i}`, { state: `"${i}"`, version: 1, updatedAt: i }, undefined)
  const refs = [...Array.from({ length: 150 }, (_, i) => ({ type: 'counter', key: `k${i}` })), { type: 'counter', key: 'k0' }]
  const got = await state.getMany(refs)
  t.equal(got.length, 151)
  t.strictSame(got[0], { state: '"0"', version: 1, updatedAt: 0 })
  t.equal(got[1], undefined)
  t.strictSame(got[148], { state: '"148"', version: 1, updatedAt: 148 })
  t.strictSame(got[150], got[0], 'a repeated key answers twice')
  t.strictSame(await state.getMany([]), [])
})

t.test('getMany of 1,000 keys keeps 4 BatchGetItem calls in flight, and finds every item', async (t) => {
  const { client } = countedClient(t)
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  const { state } = dynamodbStores({ client, tableName })
  for (let i = 0; i < 1_000; i += 50) await state.put('counter', `k${i}`, { state: `${i}`, version: 1, updatedAt: i }, undefined)
  let inFlight = 0
  let most = 0
  let calls = 0
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchGetItemCommand') return next(args)
      calls++
      most = Math.max(most, ++inFlight)
      try {
        return await next(args)
      } finally {
        inFlight--
      }
    },
    { step: 'initialize', name: 'countInFlight' },
  )
  const got = await state.getMany(Array.from({ length: 1_000 }, (_, i) => ({ type: 'counter', key: `k${i}` })))
  t.equal(calls, 10, 'ten calls of 100 keys')
  t.equal(most, 4, 'four at once')
  t.strictSame(
    got.flatMap((item, i) => (item === undefined ? [] : [i])),
    Array.from({ length: 20 }, (_, i) => i * 50),
    'every stored item, at its place',
  )
})

t.test('a failed BatchGetItem call fails the read, and no call starts after it', async (t) => {
  const { client } = countedClient(t)
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  const { state } = dynamodbStores({ client, tableName })
  let calls = 0
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'BatchGetItemCommand' && ++calls === 2) throw new Error('the second call broke')
      return next(args)
    },
    { step: 'initialize', name: 'breakSecondCall' },
  )
  await t.rejects(state.getMany(Array.from({ length: 1_000 }, (_, i) => ({ type: 'counter', key: `k${i}` }))), { message: 'the second call broke' })
  t.equal(calls, 4, 'the four calls in flight, none after')
})

t.test('a too-large state names the type, the key and the size before any request', async (t) => {
  const { client, counter } = countedClient(t)
  const { state } = dynamodbStores({ client, tableName: 'never_created' })
  await t.rejects(state.put('pageStats', '/home', { state: 'x'.repeat(512 * 1024), version: 1, updatedAt: 1 }, undefined), {
    name: 'ItemTooLargeError',
    code: 'TROUPE_STATE_TOO_LARGE',
    message: /state of pageStats#\/home is 512\.\d KB; DynamoDB items hold 400 KB/,
  })
  t.equal(counter.requests(), 0, 'nothing was sent')
})

t.test('a missing table is an error that says how to make it', async (t) => {
  const { state, timers } = dynamodbStores({ client: dynamodb, tableName: 'no_such_table' })
  await t.rejects(async () => state.get('a', 'b'), { code: 'TROUPE_STORE_NO_TABLE', message: /createTable\(client, 'no_such_table'\)/ })
  await t.rejects(async () => timers.due(1, 1), { code: 'TROUPE_STORE_NO_TABLE' })
})

t.test('options are checked when the store is made', async (t) => {
  t.throws(() => dynamodbStores({ client: dynamodb, tableName: 'x' }), { code: 'TROUPE_CONFIG', message: /tableName/ })
  t.throws(() => dynamodbStores({ client: dynamodb, tableName: 'troupe', timerShards: 0 }), {
    code: 'TROUPE_CONFIG',
    message: /timerShards must be an integer from 1 to 1000, got 0/,
  })
})

t.test('createTable is idempotent', async (t) => {
  const { tableName, drop } = await table('troupe')
  t.teardown(drop)
  await createTable(dynamodb, tableName)
  await t.rejects(createTable(dynamodb, tableName, { ifNotExists: false }), { name: 'ResourceInUseException' })
})

t.test('the stored item is readable in the console: state text, version, time', async (t) => {
  const { state, tableName, close } = await freshStores()
  t.teardown(close)
  await state.put('pageStats', '/home', { state: '{"json":{"views":1}}', version: 1, updatedAt: 42 }, undefined)
  // A write by someone else in between is seen as a conflict by a writer holding version 1.
  await dynamodb.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: 'state#pageStats#/home' }, sk: { S: 'state' }, state: { S: '{"json":{"views":7}}' }, v: { N: '2' }, at: { N: '43' } },
    }),
  )
  t.strictSame(await state.get('pageStats', '/home'), { state: '{"json":{"views":7}}', version: 2, updatedAt: 43 })
  await t.rejects(state.put('pageStats', '/home', { state: '{}', version: 2, updatedAt: 44 }, 1), { code: 'TROUPE_STORE_CONFLICT' })
})
