// The journal stores (receipts and dead letters) against the journal conformance suite: the
// memory store, and the DynamoDB store on a dynalite this test starts in memory on a random
// port, a fresh table per subtest; then what only the DynamoDB store has: dead letters cut to
// fit 400 KB, receipt entries refused over it, throttled batches, its request costs and its items.
import t, { type Test } from 'tap'
import { BatchWriteItemCommand, DeleteTableCommand, GetItemCommand, QueryCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { clients, startLocalStack } from '../../lib/aws/local-stack.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { createTable } from '../../lib/store/dynamodb.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import type { ReceiptRecord } from '../../lib/store/index.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { DeadLetter } from '../../lib/supervisor/dead-letter.js'
import { journalConformance } from '../../lib/testing/journal-conformance.js'

const stack = await startLocalStack()
const { dynamodb, kinesis } = clients(stack)
kinesis.destroy()
t.teardown(async () => {
  dynamodb.destroy()
  await stack.stop()
})

let tables = 0
async function freshTable(): Promise<{ tableName: string; drop: () => Promise<void> }> {
  const tableName = `journal_${++tables}`
  await createTable(dynamodb, tableName)
  return { tableName, drop: async () => void (await dynamodb.send(new DeleteTableCommand({ TableName: tableName }))) }
}

/** A DynamoDB journal on a fresh table, dropped when the test ends. */
async function freshJournal(t: Test, client: DynamoDBClient = dynamodb): Promise<{ journal: DynamoDBJournalStore; tableName: string }> {
  const { tableName, drop } = await freshTable()
  t.teardown(drop)
  return { journal: new DynamoDBJournalStore({ client, tableName }), tableName }
}

t.test('conformance: memory', async (t) => {
  journalConformance(t, async () => new MemoryJournalStore())
})

t.test('conformance: DynamoDB', async (t) => {
  journalConformance(t, async () => {
    const { tableName, drop } = await freshTable()
    return Object.assign(new DynamoDBJournalStore({ client: dynamodb, tableName }), { close: drop })
  })
})

const NOW = 1_700_000_000_000

const letter = (id: string, body: unknown, extra: Partial<DeadLetter> = {}): DeadLetter => ({
  envelope: makeEnvelope({ id: id as MessageId, type: 'uploads', key: 'u1', body, correlationId: 'c' as CorrelationId, sentAt: NOW - 1_000 }),
  error: { name: 'Error', message: 'disk full', stack: 'Error: disk full\n    at receive (uploads.ts:1:1)' },
  attempts: [{ attempt: 1, startedAt: NOW - 500, endedAt: NOW - 400, error: { name: 'Error', message: 'disk full' } }],
  deadAt: NOW,
  ...extra,
})

const receipt = (id: string, extra: Partial<ReceiptRecord> = {}): ReceiptRecord => ({
  id,
  actor: 'report',
  key: 'r1',
  entry: { status: 'done', at: NOW, attempt: 1 },
  expiresAt: NOW + 1_500,
  ...extra,
})

t.test('a dead letter over 400 KB is kept, its body cut, and it says so', async (t) => {
  const { journal } = await freshJournal(t)
  const big = { blob: 'x'.repeat(450 * 1024), note: 'ünïcödé' }
  await journal.putDeadLetters([letter('huge', big), letter('small', { n: 1 })])
  const [huge, small] = await journal.deadLetters()
  t.equal(huge?.envelope.id, 'huge', 'kept, not refused')
  t.match(huge?.envelope.body, { truncated: true, bytes: Number })
  t.ok((huge?.envelope.body as { bytes: number }).bytes > 450 * 1024, 'the placeholder says how large the body was')
  t.match(huge?.error.message, /^disk full \[troupe: the body \(\d+ bytes\) was removed to fit DynamoDB's 400 KB item limit\]$/)
  t.strictSame(huge?.attempts, letter('huge', big).attempts, 'the attempts are kept')
  t.equal(huge?.error.stack, letter('huge', big).error.stack, 'the stack too')
  t.match(huge?.envelope, { type: 'uploads', key: 'u1', correlationId: 'c', sentAt: NOW - 1_000 }, 'the rest of the envelope too')
  t.strictSame(small, letter('small', { n: 1 }), 'its neighbour in the same call is whole')
  t.strictSame(await journal.takeDeadLetter('huge'), huge)
})

t.test('a dead letter still over 400 KB without its body loses stacks and long messages, never the letter', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  const long = 'why '.repeat(60_000) // 240 KB
  const attempts = Array.from({ length: 150 }, (_, i) => ({
    attempt: i + 1,
    startedAt: NOW - 1_000 + i,
    endedAt: NOW - 900 + i,
    error: { name: 'Error', message: long.slice(0, 5_000), stack: `Error\n${'    at x\n'.repeat(100)}` },
  }))
  await journal.putDeadLetters([letter('wordy', { n: 1 }, { error: { name: 'Error', message: long, code: 'E_WHY', stack: long }, attempts })])
  const got = await journal.takeDeadLetter('wordy')
  t.match(got?.error.message, /\[troupe: error stacks were removed, messages shortened and only the last 100 attempts kept to fit DynamoDB's 400 KB item limit\]$/)
  t.equal(got?.error.code, 'E_WHY')
  t.equal(got?.error.stack, undefined)
  t.equal(got?.attempts.length, 100)
  t.equal(got?.attempts[0]?.attempt, 51, 'the last attempts are the ones kept')
  t.strictSame(got?.envelope.body, { n: 1 }, 'a small body is not what was cut')
  t.equal((await dynamodb.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'deadletters' } } }))).Count, 0)
})

t.test('a receipt entry over 400 KB is refused by message id and actor before anything is sent', async (t) => {
  const counter = new RequestCounter()
  const { journal } = await freshJournal(t, countRequests(dynamodb, counter))
  const before = counter.requests()
  await t.rejects(journal.putReceipts([receipt('fine'), receipt('m-huge', { reply: 'x'.repeat(410 * 1024) })]), {
    code: 'TROUPE_RECEIPT_TOO_LARGE',
    message: /receipt entry done of message m-huge \(actor report\) is 410\.\d KB/,
  })
  t.equal(counter.requests() - before, 0, 'nothing was sent')
})

/**
 * The local DynamoDB, except that BatchWriteItem writes only the first item of a call and leaves
 * the rest unprocessed, as a throttled table does, for the first `throttledCalls` calls.
 */
function throttledClient(tableName: string, throttledCalls: number): { client: DynamoDBClient; batchCalls: () => number } {
  let calls = 0
  const client = {
    async send(command: { input: unknown }): Promise<unknown> {
      if (command instanceof BatchWriteItemCommand && ++calls <= throttledCalls) {
        const [first, ...rest] = command.input.RequestItems?.[tableName] ?? []
        if (first && throttledCalls !== Infinity) await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: [first] } }))
        const unprocessed: WriteRequest[] = throttledCalls === Infinity ? [first!, ...rest] : rest
        return { UnprocessedItems: unprocessed.length > 0 ? { [tableName]: unprocessed } : {} }
      }
      return dynamodb.send(command as Parameters<DynamoDBClient['send']>[0])
    },
  }
  return { client: client as unknown as DynamoDBClient, batchCalls: () => calls }
}

t.test('items a throttled table leaves unprocessed are sent again until written', async (t) => {
  const { tableName } = await freshJournal(t)
  const { client, batchCalls } = throttledClient(tableName, 3)
  const journal = new DynamoDBJournalStore({ client, tableName })
  await journal.putReceipts(Array.from({ length: 5 }, (_, i) => receipt(`m${i}`)))
  t.equal(batchCalls(), 4, 'one item a call three times, then the last two')
  for (let i = 0; i < 5; i++) t.equal((await journal.receipt(`m${i}`, NOW))?.status, 'done', `m${i}`)
})

t.test('a table that never takes the items is an error that names them, after backing off', async (t) => {
  const { tableName } = await freshJournal(t)
  const { client, batchCalls } = throttledClient(tableName, Infinity)
  const journal = new DynamoDBJournalStore({ client, tableName })
  await t.rejects(journal.putDeadLetters(Array.from({ length: 7 }, (_, i) => letter(`d${i}`, {}))), {
    code: 'TROUPE_STORE_UNAVAILABLE',
    message: new RegExp(`DynamoDB left 7 dead letters unprocessed after 8 BatchWriteItem calls \\(table ${tableName} is throttled\\): message d0 \\(actor uploads\\), .* and 2 more$`),
  })
  t.equal(batchCalls(), 8)
})

t.test('each journal operation costs the requests the design says', async (t) => {
  const counter = new RequestCounter()
  const { journal } = await freshJournal(t, countRequests(dynamodb, counter))
  const cost = async (what: () => Promise<unknown>) => {
    const before = counter.snapshot()
    await what()
    return Object.fromEntries(Object.entries(counter.since(before).byApi).map(([api, c]) => [api, c.requests]))
  }
  const many = Array.from({ length: 60 }, (_, i) => receipt(`m${i}`))
  t.strictSame(await cost(() => journal.putReceipts(many)), { 'DynamoDB.BatchWriteItem': 3 }, '60 entries: 3 batches of 25')
  t.strictSame(await cost(() => journal.putReceipts([])), {}, 'nothing to write sends nothing')
  t.strictSame(await cost(() => journal.receipt('m1', NOW)), { 'DynamoDB.Query': 1 }, 'receipt')
  t.strictSame(await cost(() => journal.receipt('nope', NOW)), { 'DynamoDB.Query': 1 }, 'an unknown receipt')
  const letters = Array.from({ length: 30 }, (_, i) => letter(`d${i}`, { i }))
  t.strictSame(await cost(() => journal.putDeadLetters(letters)), { 'DynamoDB.BatchWriteItem': 2 }, '30 dead letters')
  t.strictSame(await cost(() => journal.deadLetters()), { 'DynamoDB.Query': 1 }, 'deadLetters')
  t.strictSame(await cost(() => journal.deadLetters('uploads')), { 'DynamoDB.Query': 1 }, 'deadLetters of a type')
  t.strictSame(await cost(() => journal.takeDeadLetter('d1')), { 'DynamoDB.DeleteItem': 1 }, 'takeDeadLetter')
  t.strictSame(await cost(() => journal.takeDeadLetter('d1')), { 'DynamoDB.DeleteItem': 1 }, 'takeDeadLetter of a taken letter')
})

t.test('the stored items are readable in the console, and `ttl` is in epoch seconds for DynamoDB TTL', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await journal.putReceipts([receipt('m1', { entry: { status: 'retrying', at: NOW, attempt: 12, reason: 'boom' } })])
  const out = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'receipt#m1' }, sk: { S: 'e#000012#2#retrying' } } }))
  t.match(out.Item, {
    actor: { S: 'report' },
    key: { S: 'r1' },
    status: { S: 'retrying' },
    attempt: { N: '12' },
    reason: { S: 'boom' },
    exp: { N: String(NOW + 1_500) },
    ttl: { N: String(Math.ceil((NOW + 1_500) / 1000)) },
  })
  await journal.putDeadLetters([letter('d1', { n: 1 })])
  const dead = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'deadletters' }, sk: { S: 'i#d1' } } }))
  t.match(dead.Item, { type: { S: 'uploads' }, deadAt: { N: String(NOW) }, letter: { S: /"disk full"/ } })
  t.equal(dead.Item?.ttl, undefined, 'a dead letter never expires')
})

t.test('a missing table is an error that says how to make it', async (t) => {
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName: 'no_such_table' })
  await t.rejects(journal.receipt('m1', NOW), { code: 'TROUPE_STORE_NO_TABLE', message: /createTable\(client, 'no_such_table'\)/ })
  await t.rejects(journal.putDeadLetters([letter('d1', {})]), { code: 'TROUPE_STORE_NO_TABLE' })
})
