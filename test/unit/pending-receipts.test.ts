// Receipts that wait in an instance's item (lib/hosts/durable/pending-receipts.ts): what a direct
// run keeps and writes, and what a reader of a receipt sees while the entry moves from the item to
// the journal.
import t from 'tap'
import type { MessageStatus } from '../../lib/core/receipt.js'
import { encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { PENDING, type OutboxEntry } from '../../lib/hosts/durable/outbox.js'
import { INVOKED, isAnswer, settlePending, withPending } from '../../lib/hosts/durable/pending-receipts.js'
import type { ReceiptRecord, StoredInstance, StoredReceipt } from '../../lib/store/index.js'
import { assembleReceipt } from '../../lib/store/receipt-records.js'

const record = (id: string, status: MessageStatus, extra: Partial<ReceiptRecord> = {}): ReceiptRecord => ({
  id,
  actor: 'a',
  key: 'k',
  entry: { status, at: 1, attempt: 0, ...(status === 'accepted' ? { reason: INVOKED } : {}) },
  expiresAt: 10,
  ...extra,
})
const receipt = (r: ReceiptRecord): OutboxEntry => ({ kind: 'receipt', record: r })
/** A receipt entry as direct run `by`'s commit keeps it. */
const answer = (r: ReceiptRecord, by = 'run-1'): OutboxEntry => ({ kind: 'receipt', record: r, by })
const item = (entries: OutboxEntry[]): StoredInstance => ({ state: '{}', version: 1, updatedAt: 1, meta: encodeMeta({ marks: {}, recent: [], outbox: [{ lane: PENDING, pos: '0', entries }] }) })
const journalOf = (...records: ReceiptRecord[]): StoredReceipt => assembleReceipt(records[0]!.id, records)!

t.test('isAnswer: only the final entry of the answered message', async (t) => {
  t.ok(isAnswer(receipt(record('m', 'done')), 'm'))
  t.ok(isAnswer(receipt(record('m', 'dead')), 'm'))
  t.notOk(isAnswer(receipt(record('m', 'throttled')), 'm'), 'not a status on the way')
  t.notOk(isAnswer(receipt(record('other', 'done')), 'm'), 'not another message')
  t.notOk(isAnswer(receipt(record('m', 'done')), undefined), 'not when nothing is answered')
})

t.test('settlePending keeps messages and a few answers, writes timers and letters, and writes the answers once 12 wait', async (t) => {
  const message: OutboxEntry = { kind: 'message', envelope: { id: 'x', type: 't', key: '', body: {}, sentAt: 0, attempt: 0 } as never }
  const timer: OutboxEntry = { kind: 'cancel', timerId: 'tm' }
  const few = Array.from({ length: 11 }, (_, i) => answer(record(`r${i}`, 'done')))
  t.strictSame(settlePending([message, timer, ...few]), { write: [timer], keep: [message, ...few] })
  const twelve = [...few, answer(record('r11', 'done'))]
  t.strictSame(settlePending([message, ...twelve]), { write: twelve, keep: [message] })
  const big = [answer(record('b', 'done', { reply: 'x'.repeat(16 * 1024) }))]
  t.strictSame(settlePending(big), { write: big, keep: [] }, 'or once their replies pass 16 KiB')
})

t.test('settlePending writes again the receipts of the same run, come again: its write after the commit may never have landed', async (t) => {
  // A wake-up's run of a parked message fired again (the first did not finish): its final entry
  // went to the journal after its commit, maybe not, and no reader looks for it in the item.
  const woken = answer(record('woken', 'done'), 'wake-1')
  const asked = answer(record('asked', 'done'), 'ask-1')
  t.strictSame(settlePending([woken, asked], 'wake-1'), { write: [woken], keep: [asked] }, 'the same run again')
  t.strictSame(settlePending([woken, asked], 'wake-2'), { write: [], keep: [woken, asked] }, 'another run keeps them')
})

t.test('withPending', async (t) => {
  const accepted = record('m', 'accepted')
  const done = record('m', 'done', { reply: '"r"' })
  t.test('a final receipt in the journal: the item is not read', async (t) => {
    let itemReads = 0
    const got = await withPending(
      async () => journalOf(accepted, done),
      async () => (itemReads++, undefined),
    )
    t.equal(got?.status, 'done')
    t.equal(itemReads, 0)
  })
  t.test('an ask not made by Invoke: the item is not read', async (t) => {
    let itemReads = 0
    const plain = record('m', 'accepted', { entry: { status: 'accepted', at: 1, attempt: 0 } })
    t.equal((await withPending(async () => journalOf(plain), async () => (itemReads++, undefined)))?.status, 'accepted')
    t.equal(itemReads, 0)
  })
  t.test('the final entry waiting in the item: merged, in entry order, with its reply', async (t) => {
    const got = await withPending(
      async () => journalOf(accepted),
      async (type, key) => (type === 'a' && key === 'k' ? item([receipt(record('other', 'done')), receipt(done)]) : undefined),
    )
    t.match(got, { id: 'm', status: 'done', reply: '"r"', history: [{ status: 'accepted' }, { status: 'done' }] })
    t.equal(got?.history.length, 2)
  })
  t.test('taken out of the item between the two reads: the journal is read again, and has it', async (t) => {
    let journalReads = 0
    const got = await withPending(
      async () => (++journalReads === 1 ? journalOf(accepted) : journalOf(accepted, done)),
      async () => item([]),
    )
    t.equal(got?.status, 'done', 'never back to accepted')
    t.equal(journalReads, 2)
  })
})
