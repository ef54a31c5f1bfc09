// The journal stores (receipts and dead letters) against the journal conformance suite: the
// memory store, and the DynamoDB store on a dynalite started in memory on a random port
// (fixtures/table-stores.ts), a fresh table per subtest; then what only the DynamoDB store has:
// dead letters over 400 KB kept whole in the payload store, receipt entries refused over it,
// throttled batches, its request costs and its items.
import t, { type Test } from 'tap'
import { BatchWriteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb'
import { letterItem, letterText } from '../../lib/store/dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, itemBytes } from '../../lib/store/dynamodb-table.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import type { ReceiptRecord } from '../../lib/store/index.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryPayloadStore } from '../../lib/store/payload-store.js'
import type { DeadLetter } from '../../lib/core/dead-letter.js'
import { journalConformance } from '../../lib/testing/journal-conformance.js'
import { tableStores } from './fixtures/table-stores.js'

const { dynamodb, table, fresh, countedClient } = await tableStores(t)

/** A DynamoDB journal on a fresh table, dropped when the test ends. */
async function freshJournal(t: Test, client: DynamoDBClient = dynamodb): Promise<{ journal: DynamoDBJournalStore; tableName: string }> {
  const { tableName, drop } = await table('journal')
  t.teardown(drop)
  return { journal: new DynamoDBJournalStore({ client, tableName }), tableName }
}

t.test('conformance: memory', async (t) => {
  journalConformance(t, async () => new MemoryJournalStore())
})

t.test('conformance: DynamoDB', async (t) => {
  journalConformance(t, () => fresh('journal', (options) => new DynamoDBJournalStore(options)))
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

/** The payload chunks in a table: `payload#<key>` → how many. */
async function payloadChunks(tableName: string): Promise<Map<string, number>> {
  const out = await dynamodb.send(new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': { S: 'payload#' } } }))
  const chunks = new Map<string, number>()
  for (const item of out.Items ?? []) chunks.set(item.pk!.S!, (chunks.get(item.pk!.S!) ?? 0) + 1)
  return chunks
}

t.test('a dead letter over 400 KB is kept whole in the payload store; its item holds where, and a summary', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  const big = { blob: 'x'.repeat(900 * 1024), note: 'ünïcödé' }
  await journal.putDeadLetters([letter('huge', big), letter('small', { n: 1 })])
  const item = (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'deadletters' }, sk: { S: 'i#huge' } } }))).Item
  t.match(item, { type: { S: 'uploads' }, deadAt: { N: String(NOW) }, payload: { M: { key: { S: /^dead\/huge\/[A-Za-z0-9_-]{43}$/ }, bytes: { N: String } } } })
  t.ok(item!.letter!.S!.length < 2_000, 'the item keeps a summary, not the body')
  const chunks = await payloadChunks(tableName)
  t.strictSame([...chunks.values()], [3], 'the letter in three chunks of the app table')
  const chunk = (await dynamodb.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: [...chunks.keys()][0]! } } }))).Items?.[0]
  t.equal(chunk?.ttl, undefined, 'chunks without ttl: a dead letter is kept until it is taken')
  const [huge, small] = await journal.deadLetters()
  t.strictSame(huge, letter('huge', big), 'listed whole')
  t.strictSame(small, letter('small', { n: 1 }))
  t.strictSame(await journal.takeDeadLetter('huge'), letter('huge', big), 'taken whole')
  t.strictSame(await payloadChunks(tableName), new Map(), 'a taken letter leaves no chunks behind')
})

t.test('a letter near 400 KB leaves room in its item for a replay to hold it; one kept full before is moved to the payload store when held', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  const size = (n: number) => itemBytes(letterItem(letter('near', { blob: 'x'.repeat(n) }), letterText(letter('near', { blob: 'x'.repeat(n) }))))
  let n = 399 * 1024
  while (size(n + 1) <= DYNAMODB_MAX_ITEM_BYTES) n++
  const near = letter('near', { blob: 'x'.repeat(n) })
  const key = { pk: { S: 'deadletters' }, sk: { S: 'i#near' } }
  const sent = { lane: 'r:abc', pos: '0', i: 0, fence: '0' }

  await journal.putDeadLetters([near])
  t.ok((await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item?.payload, 'a letter of that size goes to the payload store')
  t.strictSame(await journal.claimDeadLetter('near', { id: 'h1', until: NOW + 1 }, NOW), { letter: near, gen: 1 }, 'and is held')
  t.equal(await journal.markDeadLetterSent('near', 'h1', sent), 'kept')

  // As a version that kept it whole in its item, with no room, would have left it.
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: letterItem(near, letterText(near)) }))
  t.equal((await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item?.payload, undefined, 'kept full in its item')
  t.strictSame(await journal.claimDeadLetter('near', { id: 'h2', until: NOW + 1 }, NOW), { letter: near, gen: 1 }, 'held: moved to the payload store, whole')
  t.ok((await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item?.payload)
  t.equal(await journal.markDeadLetterSent('near', 'h2', sent), 'kept')
  await journal.dropClaimedDeadLetter('near', 'h2')
  t.strictSame(await journal.deadLetters(), [])
  t.strictSame(await payloadChunks(tableName), new Map(), 'and leaves no chunks behind')
})

t.test('a letter whose body superjson cannot encode (20,000 levels) is kept without it, and says so', async (t) => {
  const { journal } = await freshJournal(t)
  const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown
  await journal.putDeadLetters([letter('deep', deep)])
  const [got] = await journal.deadLetters()
  t.match(got?.envelope.body, { truncated: true, reason: /call stack/ })
  t.match(got?.error.message, /^disk full \[troupe: the body could not be encoded \(.*call stack.*\) and was removed\]$/)
  t.strictSame(got?.attempts, letter('deep', {}).attempts, 'the rest of the letter is whole')
})

t.test('a large letter replaced by another leaves only the chunks of the one kept', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await journal.putDeadLetters([letter('m1', { s: 'a'.repeat(500 * 1024) })])
  await journal.putDeadLetters([letter('m1', { s: 'b'.repeat(500 * 1024) }, { deadAt: NOW + 1 })]) // a redelivered batch dead-letters it again
  t.equal((await payloadChunks(tableName)).size, 1, "the first letter's payload is deleted")
  t.strictSame(await journal.deadLetters(), [letter('m1', { s: 'b'.repeat(500 * 1024) }, { deadAt: NOW + 1 })])
})

t.test('a letter whose payload is gone is listed as its summary, saying so; take refuses it and keeps it', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  const attempts = Array.from({ length: 3 }, (_, i) => ({ attempt: i + 1, startedAt: NOW, endedAt: NOW, error: { name: 'Error', message: 'disk full' } }))
  await journal.putDeadLetters([letter('gone', { s: 'g'.repeat(600 * 1024) }, { attempts })])
  const [pk] = [...(await payloadChunks(tableName)).keys()]
  const keys = (await dynamodb.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk! } } }))).Items!
  await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk!, sk: k.sk! } } })) } }))
  const [listed] = await journal.deadLetters()
  t.equal(listed?.envelope.id, 'gone', 'still listed')
  t.match(listed?.envelope, { type: 'uploads', key: 'u1', correlationId: 'c', body: { '@troupe.deadLetter': { key: /^dead\/gone\//, bytes: Number } } }, 'the envelope, its body replaced by where it was')
  t.match(listed?.error.message, /^disk full \[troupe: the whole letter \(\d+ bytes\) is kept under payload key dead\/gone\/\S+, and nothing is kept under it: shown without its body and attempts\]$/)
  await t.rejects(journal.takeDeadLetter('gone'), { code: 'TROUPE_DEAD_LETTER_PAYLOAD', message: /dead letter of message gone \(actor uploads\) is kept whole in the payload store under dead\/gone\/\S+ \(\d+ bytes\), and nothing is kept under it/ })
  t.equal((await journal.deadLetters()).length, 1, 'a refused take keeps the letter')
})

t.test('a journal given its own payload store keeps large letters there', async (t) => {
  const { tableName } = await freshJournal(t)
  const payloads = new MemoryPayloadStore()
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName, payloads })
  const big = letter('big', { s: 'z'.repeat(500 * 1024) })
  await journal.putDeadLetters([big])
  t.equal(payloads.size, 1)
  t.strictSame(await payloadChunks(tableName), new Map(), 'nothing in the table')
  t.strictSame(await journal.takeDeadLetter('big'), big)
  t.equal(payloads.size, 0, 'taken: deleted from the store')
  t.throws(() => new DynamoDBJournalStore({ client: dynamodb, tableName, payloads: {} as MemoryPayloadStore }), { code: 'TROUPE_CONFIG', message: /payloads must be a PayloadStore/ })
})

t.test('a payload store that does not answer fails the put, the list and the take, and loses no letter', async (t) => {
  const { tableName } = await freshJournal(t)
  const memory = new MemoryPayloadStore()
  let down = false
  const flaky = {
    put: (k: string, d: Uint8Array, e: number) => (down ? Promise.reject(new Error('payload store unreachable')) : memory.put(k, d, e)),
    get: (k: string) => (down ? Promise.reject(new Error('payload store unreachable')) : memory.get(k)),
  }
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName, payloads: flaky })
  const big = letter('big', { s: 'q'.repeat(500 * 1024) })
  down = true
  await t.rejects(journal.putDeadLetters([big]), /payload store unreachable/, 'the writer hears of it (a batch is delivered again)')
  t.strictSame(await journal.deadLetters(), [], 'no item that points at nothing')
  down = false
  await journal.putDeadLetters([big])
  down = true
  await t.rejects(journal.deadLetters(), /payload store unreachable/)
  await t.rejects(journal.takeDeadLetter('big'), /payload store unreachable/)
  down = false
  t.strictSame(await journal.takeDeadLetter('big'), big, 'the failed take put it back')
})

/**
 * A payload store in memory whose next read, once `pauseNextRead` is called, waits: `pauseNextRead`
 * resolves, once that read has begun, to what lets it go on.
 */
function pausingPayloads() {
  const memory = new MemoryPayloadStore()
  let armed = false
  let begun!: (go: () => void) => void
  const payloads = {
    put: (k: string, d: Uint8Array, e: number) => memory.put(k, d, e),
    delete: (k: string) => memory.delete(k),
    get: async (k: string) => {
      if (armed) {
        armed = false
        await new Promise<void>((go) => begun(go))
      }
      return memory.get(k)
    },
  }
  const pauseNextRead = () => {
    armed = true
    return new Promise<() => void>((r) => (begun = r))
  }
  return { memory, payloads, pauseNextRead }
}

t.test('a copy of a large letter written while a take reads it deletes no byte of it: the take gets it whole', async (t) => {
  const { tableName } = await freshJournal(t)
  const { memory, payloads, pauseNextRead } = pausingPayloads()
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName, payloads })
  const big = letter('big', { s: 'x'.repeat(600 * 1024) })
  await journal.putDeadLetters([big])
  const paused = pauseNextRead()
  const taking = journal.takeDeadLetter('big')
  const reading = await paused
  // The take has ended the letter's item and reads its bytes: a copy of the letter's write comes now.
  await journal.putDeadLetters([big])
  reading()
  t.strictSame(await taking, big, 'the take gets the letter whole')
  t.equal(memory.size, 0, 'and then deletes its bytes: nothing is left behind')
  t.strictSame(await journal.deadLetters(), [], 'nor does the copy bring the letter back')
})

t.test('a copy of a large letter refused because the letter was ended meanwhile keeps its bytes for the take reading them', async (t) => {
  const { tableName } = await freshJournal(t)
  const { memory, payloads, pauseNextRead } = pausingPayloads()
  const other = new DynamoDBJournalStore({ client: dynamodb, tableName, payloads })
  const big = letter('big', { s: 'y'.repeat(600 * 1024) })
  let taking: Promise<unknown> | undefined
  let reading: (() => void) | undefined
  // The copy's writer found no letter, wrote its bytes, and is about to write its item: meanwhile
  // the first write of the letter lands, and a take ends it and reads its bytes (the same key).
  const client = {
    async send(command: { input: unknown }): Promise<unknown> {
      if (command instanceof PutItemCommand && command.input.Item?.sk?.S === 'i#big' && taking === undefined) {
        await other.putDeadLetters([big])
        const paused = pauseNextRead()
        taking = other.takeDeadLetter('big')
        reading = await paused
      }
      return dynamodb.send(command as Parameters<DynamoDBClient['send']>[0])
    },
  } as unknown as DynamoDBClient
  const copy = new DynamoDBJournalStore({ client, tableName, payloads })
  await copy.putDeadLetters([big])
  t.ok(taking, 'the take ran while the copy was written')
  t.equal(memory.size, 1, 'the refused copy left the bytes the take reads')
  reading!()
  t.strictSame(await taking, big, 'the take gets the letter whole')
  t.equal(memory.size, 0, 'and then deletes its bytes')
  t.strictSame(await other.deadLetters(), [], 'the letter stays ended')
})

t.test('a dead letter DynamoDB does not take is an error naming it', async (t) => {
  const { tableName } = await freshJournal(t)
  const client = {
    async send(command: { input: unknown }): Promise<unknown> {
      if (command instanceof PutItemCommand) throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), { name: 'ProvisionedThroughputExceededException' })
      return dynamodb.send(command as Parameters<DynamoDBClient['send']>[0])
    },
  } as unknown as DynamoDBClient
  const journal = new DynamoDBJournalStore({ client, tableName })
  await t.rejects(journal.putDeadLetters([letter('d1', {})]), {
    code: 'TROUPE_STORE_UNAVAILABLE',
    message: new RegExp(`the dead letter of message d1 \\(actor uploads\\) was not written to table ${tableName}: ProvisionedThroughputExceededException`),
  })
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
  await t.rejects(journal.putReceipts(Array.from({ length: 7 }, (_, i) => receipt(`m${i}`))), {
    code: 'TROUPE_STORE_UNAVAILABLE',
    message: new RegExp(`DynamoDB left 7 receipt entries unprocessed after 8 BatchWriteItem calls \\(table ${tableName} is throttled\\): message m0 \\(actor report\\), .* and 2 more$`),
  })
  t.equal(batchCalls(), 8)
})

t.test('a failed BatchWriteItem call ends the put: the other calls of it send nothing again', async (t) => {
  const { tableName } = await freshJournal(t)
  let calls = 0
  // The first call is throttled whole; the second breaks.
  const client = {
    async send(command: { input: unknown }): Promise<unknown> {
      if (!(command instanceof BatchWriteItemCommand)) return dynamodb.send(command as Parameters<DynamoDBClient['send']>[0])
      if (++calls === 2) throw new Error('the second call broke')
      return { UnprocessedItems: { [tableName]: command.input.RequestItems?.[tableName] ?? [] } }
    },
  } as unknown as DynamoDBClient
  const journal = new DynamoDBJournalStore({ client, tableName })
  await t.rejects(journal.putReceipts(Array.from({ length: 30 }, (_, i) => receipt(`m${i}`))), { message: 'the second call broke' })
  t.equal(calls, 2, 'the throttled call is not sent again once the other failed')
})

t.test('each journal operation costs the requests the design says', async (t) => {
  // A client of its own: no request of another test is counted here.
  const { client, counter } = countedClient(t)
  const { journal } = await freshJournal(t, client)
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
  t.strictSame(await cost(() => journal.putDeadLetters(letters)), { 'DynamoDB.PutItem': 30 }, '30 dead letters: one conditional PutItem each')
  const again = counter.snapshot()
  // Each refusal says whose letter is there, so that a copy is told from another message's letter:
  // DynamoDB answers it with the refusal (ReturnValuesOnConditionCheckFailure); dynalite drops
  // that parameter, so here each is read.
  t.strictSame(await cost(() => journal.putDeadLetters(letters)), { 'DynamoDB.PutItem': 30, 'DynamoDB.GetItem': 30 }, 'the same again: 30 conditional writes, and on dynalite 30 reads')
  t.equal(counter.since(again).byApi['DynamoDB.PutItem']?.errors, 30, 'each refused by its condition')
  t.strictSame(await cost(() => journal.deadLetters()), { 'DynamoDB.Query': 1 }, 'deadLetters')
  t.strictSame(await cost(() => journal.deadLetters('uploads')), { 'DynamoDB.Query': 1 }, 'deadLetters of a type')
  t.strictSame(await cost(() => journal.takeDeadLetter('d1')), { 'DynamoDB.UpdateItem': 1 }, 'takeDeadLetter: one UpdateItem leaves its death')
  t.strictSame(await cost(() => journal.takeDeadLetter('d1')), { 'DynamoDB.UpdateItem': 1 }, 'takeDeadLetter of a taken letter')
  const large = letter('large', { s: 'x'.repeat(500 * 1024) })
  t.strictSame(await cost(() => journal.putDeadLetters([large])), { 'DynamoDB.GetItem': 1, 'DynamoDB.PutItem': 3 }, 'a 500 KB letter: whether its item holds it already, its two chunks, then its item')
  t.strictSame(await cost(() => journal.deadLetters('uploads')), { 'DynamoDB.Query': 2 }, 'deadLetters with it: one Query more, for its chunks')
  t.strictSame(await cost(() => journal.takeDeadLetter('large')), { 'DynamoDB.UpdateItem': 1, 'DynamoDB.Query': 2, 'DynamoDB.BatchWriteItem': 1 }, 'taking it: its chunks read, then deleted')
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
  const before = Date.now()
  await journal.takeDeadLetter('d1')
  const ended = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'deadletters' }, sk: { S: 'i#d1' } } }))
  t.same(Object.keys(ended.Item ?? {}).sort(), ['deadAt', 'ended', 'pk', 'sk', 'ttl', 'who'], "a letter taken leaves only its death, whose it was, when it ended, and a ttl")
  t.equal(ended.Item?.deadAt?.N, String(NOW))
  const ttl = Number(ended.Item?.ttl?.N)
  t.ok(ttl >= Math.floor((before + 8 * 86_400_000) / 1000) && ttl <= Math.ceil((Date.now() + 8 * 86_400_000) / 1000), 'which expires 8 days on, in epoch seconds')
})

t.test('a missing table is an error that says how to make it', async (t) => {
  const journal = new DynamoDBJournalStore({ client: dynamodb, tableName: 'no_such_table' })
  await t.rejects(journal.receipt('m1', NOW), { code: 'TROUPE_STORE_NO_TABLE', message: /createTable\(client, 'no_such_table'\)/ })
  await t.rejects(journal.putDeadLetters([letter('d1', {})]), { code: 'TROUPE_STORE_NO_TABLE' })
})
