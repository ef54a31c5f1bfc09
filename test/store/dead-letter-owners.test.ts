// Dead letters of other messages under one id (a record may claim any id): what the journals do
// beyond the conformance cases (lib/testing/journal-dead-letter-cases.ts): a write moved past
// another message's letter stays moved however long its copies may come, and items written
// before owners were kept (no `who`) are judged by their letters.
import t, { type Test } from 'tap'
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import { letterOwner, movedLetter, type DeadLetter } from '../../lib/core/dead-letter.js'
import { letterKey } from '../../lib/store/dynamodb-dead-letter-item.js'
import { DynamoDBJournalStore } from '../../lib/store/dynamodb-journal.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { letter, NOW } from '../../lib/testing/journal-fixtures.js'
import { tableStores } from './fixtures/table-stores.js'

const { dynamodb, table } = await tableStores(t)
const DAY_S = 86_400

async function freshJournal(t: Test): Promise<{ journal: DynamoDBJournalStore; tableName: string }> {
  const { tableName, drop } = await table('owners')
  t.teardown(drop)
  return { journal: new DynamoDBJournalStore({ client: dynamodb, tableName }), tableName }
}

/** The message V (pageStats, key k). */
const real = letter('V', 'pageStats', NOW, { real: true })
/** A record claiming V for an actor no host runs: dead on arrival, at `deadAt`. */
const intruder = (deadAt: number): DeadLetter => letter('V', 'intruder', deadAt, { intruder: true })
const lettersOfReal = (all: readonly DeadLetter[]) => all.filter((l) => (l.envelope.body as { real?: boolean } | undefined)?.real === true)
/** A later death of V (after a replay of it that ran and died again). */
const laterDeath = letter('V', 'pageStats', NOW + 20, { real: true, later: true })
const isLater = (l: DeadLetter) => (l.envelope.body as { later?: boolean } | undefined)?.later === true

t.test('memory: a write moved past another message stays moved after that letter is taken and forgotten', async (t) => {
  const journal = new MemoryJournalStore({ deadLetterLimit: 2 })
  journal.putDeadLetters([intruder(NOW - 10)])
  journal.putDeadLetters([real])
  t.equal(lettersOfReal(journal.deadLetters()).length, 1, 'moved')
  journal.takeDeadLetter('V')
  // Two more letters taken: past the limit, what was left of the intruder's is forgotten.
  for (const id of ['x1', 'x2']) {
    journal.putDeadLetters([letter(id)])
    journal.takeDeadLetter(id)
  }
  journal.putDeadLetters([real]) // a copy of the write (an outbox sent again)
  const mine = lettersOfReal(journal.deadLetters())
  t.equal(mine.length, 1, 'still one letter of the message')
  const moved = mine[0]!
  t.not(moved.envelope.id, 'V', 'where it was moved')
  t.ok(journal.takeDeadLetter(moved.envelope.id), 'replayed')
  journal.putDeadLetters([real])
  t.strictSame(lettersOfReal(journal.deadLetters()), [], 'and once replayed, a copy does not bring it back under V')
})

t.test('dynamodb: a write moved past what is left of another message keeps that item as long as a copy of the write may come', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await journal.putDeadLetters([intruder(NOW - 10)])
  await journal.takeDeadLetter('V')
  // As if the intruder's letter ended 7.5 days ago: its tombstone would go in half a day.
  const soon = Math.ceil(Date.now() / 1000) + DAY_S / 2
  await dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: letterKey('V'), UpdateExpression: 'SET #ttl = :t', ExpressionAttributeNames: { '#ttl': 'ttl' }, ExpressionAttributeValues: { ':t': { N: String(soon) } } }))
  const before = Date.now()
  await journal.putDeadLetters([real])
  const moved = lettersOfReal(await journal.deadLetters())
  t.equal(moved.length, 1)
  t.not(moved[0]?.envelope.id, 'V', 'moved past the tombstone')
  const item = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: letterKey('V'), ConsistentRead: true }))
  t.ok(Number(item.Item?.ttl?.N) >= Math.floor(before / 1000) + 8 * DAY_S, 'the tombstone is kept 8 days from the move, as long as a copy of the moved write may come')
  t.equal(item.Item?.who?.S !== undefined && item.Item.ended !== undefined, true, 'still what is left of the intruder')
})

t.test('dynamodb: a letter written before owners were kept is judged by its letter', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await journal.putDeadLetters([real])
  await dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: letterKey('V'), UpdateExpression: 'REMOVE who' }))
  await journal.putDeadLetters([intruder(NOW + 10)])
  t.strictSame(lettersOfReal(await journal.deadLetters()), [real], "another message's later letter does not replace it")
  t.equal((await journal.deadLetters()).length, 2, 'it is kept beside it')
  await journal.putDeadLetters([real])
  t.equal((await journal.deadLetters()).length, 2, 'a copy of its own write changes nothing')
  const later = letter('V', 'pageStats', NOW + 20, { real: true, later: true })
  await journal.putDeadLetters([later])
  t.strictSame(lettersOfReal(await journal.deadLetters()), [later], 'a later death of its message replaces it, under V')
})

t.test('dynamodb: what is left of a letter replayed before owners were kept is never taken by another message', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await journal.putDeadLetters([real])
  await journal.takeDeadLetter('V')
  await dynamodb.send(new UpdateItemCommand({ TableName: tableName, Key: letterKey('V'), UpdateExpression: 'REMOVE who' }))
  await journal.putDeadLetters([intruder(NOW + 10)])
  t.equal((await journal.deadLetters()).length, 1, "the intruder's letter is kept, beside it")
  await journal.putDeadLetters([real]) // a copy of the replayed message's write
  t.strictSame(lettersOfReal(await journal.deadLetters()), [], 'a letter replayed stays replayed')
})

t.test('memory: a later death of a moved message replaces its moved letter', async (t) => {
  const journal = new MemoryJournalStore()
  journal.putDeadLetters([intruder(NOW - 10)])
  journal.putDeadLetters([real])
  journal.putDeadLetters([laterDeath])
  const mine = lettersOfReal(journal.deadLetters())
  t.equal(mine.length, 1, 'one letter of the message: two would replay it twice')
  t.ok(mine.every(isLater), 'the later death')
})

t.test('dynamodb: a later death of a moved message replaces its moved letter', async (t) => {
  const { journal } = await freshJournal(t)
  await journal.putDeadLetters([intruder(NOW - 10)])
  await journal.putDeadLetters([real])
  await journal.putDeadLetters([laterDeath])
  const mine = lettersOfReal(await journal.deadLetters())
  t.equal(mine.length, 1, 'one letter of the message: two would replay it twice')
  t.ok(mine.every(isLater), 'the later death')
})

t.test('dynamodb: what is left of another message gone (its ttl) between the refused write and keeping it longer: the write takes the id, and a copy finds it there', async (t) => {
  const { tableName } = await freshJournal(t)
  // DynamoDB's TTL sweep deletes the tombstone between the refused PutItem and the UpdateItem that keeps it.
  const racing = new Proxy(dynamodb, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver)
      return async (command: unknown, ...rest: unknown[]) => {
        if (command instanceof UpdateItemCommand && command.input.UpdateExpression === 'SET #ttl = :ttl') {
          await target.send(new DeleteItemCommand({ TableName: tableName, Key: letterKey('V') }))
        }
        return (target.send as (...a: unknown[]) => unknown).call(target, command, ...rest)
      }
    },
  })
  const journal = new DynamoDBJournalStore({ client: racing, tableName })
  await journal.putDeadLetters([intruder(NOW - 10)])
  await journal.takeDeadLetter('V')
  await journal.putDeadLetters([real])
  t.strictSame(lettersOfReal(await journal.deadLetters()), [real], 'written under V, free by then')
  await journal.putDeadLetters([real]) // a copy of the write (an outbox sent again)
  t.strictSame(lettersOfReal(await journal.deadLetters()), [real], 'a copy of the write is still one letter')
})

t.test('dynamodb: a live letter from before owners were kept that cannot be read never takes the place of another', async (t) => {
  const { journal, tableName } = await freshJournal(t)
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...letterKey('V'), type: { S: 'pageStats' }, deadAt: { N: String(NOW + 10) }, letter: { S: 'not superjson' } } }))
  await journal.putDeadLetters([real])
  const mine = lettersOfReal(await journal.deadLetters())
  t.equal(mine.length, 1, 'kept')
  t.not(mine[0]?.envelope.id, 'V', 'beside it')
  t.strictSame(mine[0]?.envelope.body, real.envelope.body, 'whole')
  const item = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: letterKey('V'), ConsistentRead: true }))
  t.equal(item.Item?.letter?.S, 'not superjson', 'and the unreadable one stays as it was')
})

t.test("memory: another message's letter under a message's moved id does not stop a later death of it from replacing its letter", async (t) => {
  const journal = new MemoryJournalStore()
  journal.putDeadLetters([real])
  // `<id>~<who>` is made from the message's id, type and key: a record can claim it.
  journal.putDeadLetters([letter(movedLetter(real, letterOwner(real)).envelope.id, 'intruder', NOW)])
  journal.putDeadLetters([laterDeath])
  const mine = lettersOfReal(journal.deadLetters())
  t.equal(mine.length, 1, 'one letter of the message')
  t.equal(mine[0]?.envelope.id, 'V', 'at its own id')
  t.ok(mine.every(isLater), 'its later death')
})
