// Cost in dollars, without AWS: item sizes as DynamoDB bills them (checked against dynalite's own
// capacity rules), the units a request is billed by, the price book and price files, and what
// counted requests cost per million messages beside a month's standing costs.
import { createRequire } from 'node:module'
import t from 'tap'
import { billedUnits } from '../../lib/cost/billed-units.js'
import { fixedMonthly, HOURS_PER_MONTH, perMillion, priceUsage, TICKS_PER_MONTH, total } from '../../lib/cost/bill.js'
import { itemBytes } from '../../lib/cost/item-size.js'
import { messageCost } from '../../lib/cost/message-cost.js'
import { choosePrices, parsePriceOverride, priceRegions } from '../../lib/cost/price-book.js'
import { PRICE_NAMES, PRICES } from '../../lib/cost/prices.js'
import { DEFAULT_LAMBDA, NO_USAGE, usageOfRequests } from '../../lib/cost/usage.js'

const dynalite = createRequire(import.meta.url)('dynalite/db/index.js') as { itemSize(item: unknown): number; capacityUnits(item: unknown, isRead: boolean, consistent: boolean): number }

const close = (t: { ok(value: boolean, message: string): unknown }, actual: number, expected: number, message: string) =>
  t.ok(Math.abs(actual - expected) < 1e-9, `${message}: ${actual} ≈ ${expected}`)

t.test('item sizes follow DynamoDB’s rules, as dynalite bills them', async (t) => {
  const items: Record<string, unknown>[] = [
    { pk: { S: 'state#counter' }, sk: { S: '-' }, s: { S: 'x'.repeat(700) } },
    { pk: { S: 'a' }, flag: { BOOL: true }, none: { NULL: true }, tags: { SS: ['red', 'green'] } },
    { pk: { S: 'a' }, m: { M: { a: { S: 'bb' }, l: { L: [{ S: 'c' }, { BOOL: false }, { M: {} }] } } } },
    { pk: { S: 'a' }, b: { B: Buffer.from('hello world').toString('base64') } },
  ]
  for (const item of items) t.equal(itemBytes(item), dynalite.itemSize(item), JSON.stringify(item).slice(0, 60))
  // Numbers are "approximately" one byte per two significant digits plus one; dynalite refines by a byte.
  for (const n of ['0', '7', '42', '12345', '-3.25', '1000', '123456789012']) {
    const item = { n: { N: n } }
    t.ok(Math.abs(itemBytes(item) - dynalite.itemSize(item)) <= 1, `number ${n}: ${itemBytes(item)} bytes, dynalite ${dynalite.itemSize(item)}`)
  }
  const big = { pk: { S: 'k' }, data: { S: 'p'.repeat(2_500) } }
  t.equal(billedUnits('DynamoDB.PutItem', { Item: big }, 0), dynalite.capacityUnits(big, false, false), 'write units of a 2.5 KB item, as dynalite counts them')
})

t.test('the units a request is billed by', async (t) => {
  const record = (bytes: number, key = 'k') => ({ Data: new Uint8Array(bytes), PartitionKey: key })
  t.equal(billedUnits('Kinesis.PutRecords', { Records: [record(10), record(25 * 1024 - 1), record(30_000)] }, 0), 1 + 1 + 2, 'a PUT payload unit per started 25 KB of each record, key included')
  t.equal(billedUnits('Kinesis.PutRecord', record(60_000), 0), 3)
  t.equal(billedUnits('Kinesis.GetRecords', {}, 5_000_000), 0, 'reading is not billed by units')

  const item = { pk: { S: 'k' }, body: { S: 'x'.repeat(1_500) } }
  t.equal(billedUnits('DynamoDB.PutItem', { Item: item }, 0), 2, 'a write unit per started KB')
  t.equal(billedUnits('DynamoDB.PutItem', { Item: { ...item, due: { S: '0001#t' } } }, 0), 4, 'a timer is written to the byDue index too')
  t.equal(billedUnits('DynamoDB.DeleteItem', { Key: { pk: { S: 'timers#3' }, sk: { S: 'i#x' } } }, 0), 2, 'so is its delete')
  t.equal(billedUnits('DynamoDB.PutItem', { Item: { pk: { S: 'timers#3' }, sk: { S: 'i#x' }, cancelled: { BOOL: true } } }, 0), 2, 'and the record of a cancel, which may take a timer’s place')
  t.equal(billedUnits('DynamoDB.PutItem', { Item: { pk: { S: 'state#a#b' }, sk: { S: 'state' }, cancelled: { BOOL: true } } }, 0), 1, 'an attribute of that name elsewhere is no such record')
  t.equal(billedUnits('DynamoDB.DeleteItem', { Key: { pk: { S: 'state#a' } } }, 0), 1, 'a delete shows no size: the least DynamoDB bills')
  t.equal(billedUnits('DynamoDB.UpdateItem', { ReturnValues: 'ALL_NEW' }, 2_100), 3, 'an update that returns the new item is sized by it')
  t.equal(billedUnits('DynamoDB.UpdateItem', {}, 40), 1)
  t.equal(billedUnits('DynamoDB.BatchWriteItem', { RequestItems: { t: [{ PutRequest: { Item: item } }, { DeleteRequest: { Key: { pk: { S: 'a' } } } }] } }, 0), 3)
  t.equal(billedUnits('DynamoDB.TransactWriteItems', { TransactItems: [{ Put: { Item: item } }, { Update: {} }] }, 0), 2 * 2 + 2 * 1, 'a transaction doubles')

  t.equal(billedUnits('DynamoDB.GetItem', { ConsistentRead: true }, 9_000), 3, 'a strongly consistent read unit per started 4 KB')
  t.equal(billedUnits('DynamoDB.GetItem', {}, 100), 0.5, 'an eventually consistent read costs half')
  t.equal(billedUnits('DynamoDB.BatchGetItem', { RequestItems: { t: { Keys: new Array(100).fill({}), ConsistentRead: true } } }, 20_000), 100, 'at least a unit per key, found or not')
  t.equal(billedUnits('DynamoDB.Query', { ConsistentRead: true }, 50), 1)
})

t.test('the price book: dated, sourced, overridable, a region at a time', async (t) => {
  t.match(PRICES.date, /^\d{4}-\d{2}-\d{2}$/)
  for (const [region, prices] of Object.entries(PRICES.regions)) {
    for (const name of PRICE_NAMES) t.match(prices[name], { usd: Number, per: Number, source: /^https:\/\/aws\.amazon\.com\// }, `${region} ${name}`)
  }
  const us = choosePrices()
  t.equal(us.region, 'us-east-1')
  t.equal(us.prices['dynamodb.writeRequestUnit'].usd, 0.625, 'after the November 2024 cut')
  t.equal(us.prices['dynamodb.readRequestUnit'].usd, 0.125)
  t.equal(us.prices['kinesis.shardHour'].usd, 0.015)
  t.equal(us.prices['kinesis.putPayloadUnit'].usd, 0.014)
  t.equal(choosePrices({ region: 'us-west-2' }).basis, 'the us-east-1 list prices', 'a copied region says so')

  const set = choosePrices({ overrides: { 'dynamodb.writeRequestUnit': 0.7 } })
  t.equal(set.prices['dynamodb.writeRequestUnit'].usd, 0.7)
  t.same(set.overridden, ['dynamodb.writeRequestUnit'])
  t.same(parsePriceOverride('kinesis.shardHour=0.02'), ['kinesis.shardHour', 0.02])
  t.throws(() => parsePriceOverride('kinesis.shard=1'), { code: 'TROUPE_CONFIG', message: /the name one of kinesis\.shardHour/ })
  t.throws(() => parsePriceOverride('kinesis.shardHour=cheap'), { message: /must be a number of dollars/ })
  t.throws(() => choosePrices({ region: 'eu-west-1' }), { message: /no prices for region eu-west-1: known are us-east-1.*--prices/ })

  // A price file: a known region gives what differs; a new region every price.
  const eu = Object.fromEntries(PRICE_NAMES.map((n) => [n, { usd: PRICES.regions['us-east-1']![n].usd * 1.1, source: 'https://example.com/eu' }]))
  const file = { date: '2027-01-31', regions: { 'us-east-1': { 'kinesis.shardHour': 0.02 }, 'eu-west-1': eu } }
  t.same(priceRegions(file).sort(), ['eu-west-1', 'us-east-1', 'us-east-2', 'us-west-2'])
  const mine = choosePrices({ file, region: 'us-east-1' })
  t.equal(mine.date, '2027-01-31', 'the file’s date')
  t.match(mine.prices['kinesis.shardHour'], { usd: 0.02, per: 1, source: 'a price file' })
  t.equal(mine.prices['kinesis.putPayloadUnit'].usd, 0.014, 'the rest from the book')
  close(t, choosePrices({ file, region: 'eu-west-1' }).prices['lambda.request'].usd, 0.22, 'a new region')
  t.throws(() => choosePrices({ file: { regions: { 'eu-west-1': { 'kinesis.shardHour': 0.02 } } }, fileName: 'p.json', region: 'eu-west-1' }), { message: /p\.json: regions\.eu-west-1 .* must give every price; missing kinesis\.putPayloadUnit/ })
  t.throws(() => choosePrices({ file: { regions: { 'us-east-1': { 'dynamodb.wru': 1 } } }, fileName: 'p.json' }), { message: /p\.json: regions\.us-east-1\.dynamodb\.wru is not a price troupe knows/ })
  t.throws(() => choosePrices({ file: { regions: { 'us-east-1': { 'lambda.request': { usd: -1 } } } }, fileName: 'p.json' }), { message: /lambda\.request must be \{ "usd"/ })
  t.throws(() => choosePrices({ file: [], fileName: 'p.json' }), { message: /p\.json must be a JSON object with "regions"/ })
})

t.test('usage, lines and dollars per million', async (t) => {
  const prices = choosePrices()
  const byApi = {
    'Kinesis.PutRecords': { requests: 2, errors: 0, requestBytes: 300_000, responseBytes: 0, units: 1_000 },
    'DynamoDB.PutItem': { requests: 1_000, errors: 0, requestBytes: 500_000, responseBytes: 0, units: 1_000 },
    'DynamoDB.BatchGetItem': { requests: 10, errors: 0, requestBytes: 10_000, responseBytes: 0, units: 1_000 },
    'Kinesis.GetRecords': { requests: 50, errors: 0, requestBytes: 0, responseBytes: 300_000, units: 0 },
  }
  const { usage, estimated } = usageOfRequests(byApi)
  t.same(usage, { ...NO_USAGE, kinesisPutPayloadUnits: 1_000, dynamodbWriteRequestUnits: 1_000, dynamodbReadRequestUnits: 1_000 })
  t.same(estimated, [], 'all counted, nothing guessed')
  const lines = priceUsage(usage, prices, DEFAULT_LAMBDA)
  const per = perMillion(lines, 1_000)
  close(t, per.usd, 0.014 + 0.625 + 0.125, 'per million messages')
  close(t, per.byService.DynamoDB!, 0.75, 'DynamoDB')

  const old = usageOfRequests({ 'DynamoDB.GetItem': { requests: 4, errors: 0, requestBytes: 0, responseBytes: 0 }, 'Kinesis.PutRecords': { requests: 1, errors: 0, requestBytes: 4 * 25 * 1024, responseBytes: 0 } })
  t.equal(old.usage.dynamodbReadRequestUnits, 4, 'no units counted: one per request')
  t.equal(old.usage.kinesisPutPayloadUnits, 3, 'or from the bytes put, base64 taken off')
  t.equal(old.estimated.length, 2, 'each guess is named')

  const month = fixedMonthly({ shards: 4 }, prices, DEFAULT_LAMBDA)
  close(t, month.find((l) => l.item === 'kinesis.shardHour')!.usd, 4 * HOURS_PER_MONTH * 0.015, 'four shards, a month')
  const tickGbSeconds = (TICKS_PER_MONTH * DEFAULT_LAMBDA.msPerInvocation * DEFAULT_LAMBDA.memoryMb) / 1000 / 1024
  close(t, total(month), 43.8 + TICKS_PER_MONTH * 0.2e-6 + tickGbSeconds * 0.0000133334 + TICKS_PER_MONTH * 8 * 0.125e-6, 'and the tick: an invocation and 8 Queries a minute')
})

t.test('messageCost: what troupe inspect cost prints', async (t) => {
  const counted = {
    messages: 1_000,
    byApi: {
      'Kinesis.PutRecords': { requests: 2, errors: 0, requestBytes: 300_000, responseBytes: 0, units: 1_000 },
      'DynamoDB.PutItem': { requests: 1_000, errors: 0, requestBytes: 500_000, responseBytes: 0, units: 1_000 },
      'Lambda.Invoke': { requests: 5, errors: 0, requestBytes: 0, responseBytes: 0, units: 0 },
    },
  }
  const cost = messageCost(counted, { prices: choosePrices(), shards: 2 })
  // 1,000 records in batches of 100 and 5 asks: 15 invocations of 100 ms at 512 MB arm64.
  const lambda = 15 * 0.2e-6 + 15 * 0.1 * 0.5 * 0.0000133334
  close(t, cost.perMillionMessages.usd, 0.014 + 0.625 + lambda * 1_000, 'per million')
  close(t, cost.perMillionByApi['DynamoDB.PutItem']!, 0.625, 'by API')
  t.equal(cost.perMillionByApi['Lambda.Invoke'], undefined, 'compute belongs to no API')
  t.equal(cost.fixedMonthly.shards, 2)
  t.match(cost.assumptions.join('\n'), /one invocation per 100 records.*100 ms each at 512 MB arm64/)

  const container = messageCost(counted, { prices: choosePrices(), noLambda: true, lambda: { msPerInvocation: 5 } })
  close(t, container.perMillionMessages.usd, 0.639, 'a container pays no Lambda')
  t.same(container.fixedMonthly.lines.map((l) => l.item), ['kinesis.shardHour'], 'nor the tick')
  t.equal(messageCost({ messages: 0, byApi: {} }, { prices: choosePrices() }).perMillionMessages.usd, 0, 'no messages, no figure')
})
