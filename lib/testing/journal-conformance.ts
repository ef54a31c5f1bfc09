// The journal conformance suite: every behaviour of the journal port (`JournalStore` in
// lib/store/index.ts), run the same way against every implementation (memory, DynamoDB, and any
// journal a user writes).
//
//   journalConformance(t, async () => new MemoryJournalStore())
//   journalConformance(t, async () => Object.assign(new DynamoDBJournalStore({ client, tableName }), { close }))
//
// The factory is called once per subtest and must return an empty store; `close` runs after it.
// Every letter comes back whole, however large (a store with an item limit keeps the large ones
// elsewhere and fetches them back): bodies of megabytes, unreadable records of megabytes, every
// attempt with its error.
import type { JournalStore } from '../store/index.js'
import { storeCase, type Assert } from './conformance-assert.js'
import { deadLetterCases } from './journal-dead-letter-cases.js'
import { letter, lifecycle, NOW } from './journal-fixtures.js'
import { receiptCases } from './journal-receipt-cases.js'

export type JournalFactory = () => Promise<JournalStore & { close?(): Promise<void> }>

export function journalConformance(t: Assert, factory: JournalFactory): void {
  const withStore = storeCase<JournalStore>(t, factory)

  receiptCases(withStore)
  deadLetterCases(withStore)

  // ---------------------------------------------------------------- together

  withStore('receipts and dead letters of one id never see each other', async (t, journal) => {
    await journal.putReceipts(lifecycle('m1'))
    await journal.putDeadLetters([letter('m1')])
    t.equal((await journal.receipt('m1', NOW))?.history.length, 7)
    await journal.takeDeadLetter('m1')
    t.equal((await journal.receipt('m1', NOW))?.history.length, 7)
    t.strictSame(await journal.deadLetters(), [])
  })
}
