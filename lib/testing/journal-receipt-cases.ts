// The journal conformance cases of receipts: entries written in any order, over any number of
// calls and again, read back in order with their reply or error, until they expire; odd ids,
// many entries in one call, and entries that cannot be placed in order.
import type { StoredReceipt } from '../store/index.js'
import { BOOM, entry, lifecycle, NOW, ODD_IDS, type WithJournal } from './journal-fixtures.js'

export function receiptCases(withStore: WithJournal): void {
  withStore('receipts: nothing is kept until it is put; an unknown id has no receipt', async (t, journal) => {
    t.equal(await journal.receipt('nope', NOW), undefined)
    await journal.putReceipts([]) // nothing to write is fine
    await journal.putReceipts(lifecycle('known'))
    t.equal(await journal.receipt('nope', NOW), undefined, 'still none beside another message')
    t.equal(await journal.receipt('know', NOW), undefined, 'a prefix of a known id is another id')
  })

  withStore('receipts: deleting one removes all its entries and no other receipt; a new life starts clean', async (t, journal) => {
    await journal.putReceipts([...lifecycle('m1'), ...lifecycle('m2')])
    await journal.deleteReceipt('m1')
    t.equal(await journal.receipt('m1', NOW), undefined)
    t.equal((await journal.receipt('m2', NOW))?.status, 'done', 'the other receipt stays')
    await journal.deleteReceipt('never-written') // nothing to delete is fine
    await journal.putReceipts([lifecycle('m1')[0]!])
    t.equal((await journal.receipt('m1', NOW))?.history.length, 1)
  })

  withStore('receipts: deleting one but an entry keeps that entry alone, as it was last written', async (t, journal) => {
    const [first, ...rest] = lifecycle('m1')
    await journal.putReceipts([first!, ...rest])
    const again = { ...first!, entry: { ...first!.entry, reason: 'replayed' } }
    await journal.putReceipts([again])
    await journal.deleteReceipt('m1', again)
    t.strictSame((await journal.receipt('m1', NOW))?.history, [again.entry])
    await journal.deleteReceipt('m1', rest[0])
    t.equal(await journal.receipt('m1', NOW), undefined, 'an entry it does not hold keeps nothing')
  })

  withStore('receipts: a whole life is read back exactly, in order', async (t, journal) => {
    const records = lifecycle('m1')
    await journal.putReceipts(records)
    const wanted: StoredReceipt = {
      id: 'm1',
      actor: 'pageStats',
      key: 'k',
      status: 'done',
      attempts: 3,
      history: records.map((r) => r.entry),
      reply: '{"json":{"ok":true}}',
    }
    t.strictSame(await journal.receipt('m1', NOW), wanted)
  })

  withStore('receipts: entries written out of order, over several calls, read in attempt and status order', async (t, journal) => {
    const records = lifecycle('m1')
    const shuffled = [records[6]!, records[2]!, records[0]!, records[4]!]
    await journal.putReceipts(shuffled)
    await journal.putReceipts([records[5]!, records[1]!])
    await journal.putReceipts([records[3]!])
    const got = await journal.receipt('m1', NOW)
    t.strictSame(
      got?.history.map((e) => `${e.attempt}:${e.status}`),
      ['0:accepted', '1:running', '1:retrying', '2:running', '2:retrying', '3:running', '3:done'],
    )
    t.equal(got?.status, 'done')
    t.equal(got?.attempts, 3)
  })

  withStore('receipts: a receipt still under way has the status of its latest entry and no reply', async (t, journal) => {
    await journal.putReceipts(lifecycle('m1').slice(0, 3))
    const got = await journal.receipt('m1', NOW)
    t.equal(got?.status, 'retrying')
    t.equal(got?.attempts, 1)
    t.equal(got?.history.length, 3)
    t.equal(got?.history[2]?.reason, 'Error: boom')
    t.equal(got?.reply, undefined)
    t.equal(got?.error, undefined)
  })

  withStore('receipts: writing the same entries again changes nothing (a redelivered batch)', async (t, journal) => {
    const records = lifecycle('m1')
    await journal.putReceipts(records)
    const first = await journal.receipt('m1', NOW)
    await journal.putReceipts(records)
    await journal.putReceipts([...records, ...records]) // repeats within one call too
    t.strictSame(await journal.receipt('m1', NOW), first)
  })

  withStore('receipts: an entry is its message, attempt and status; a rewrite replaces it, the last write wins', async (t, journal) => {
    await journal.putReceipts([entry('m1', 'accepted', 0, { at: 1 }), entry('m1', 'running', 1, { at: 2 })])
    await journal.putReceipts([entry('m1', 'running', 1, { at: 3 })])
    await journal.putReceipts([entry('m1', 'running', 1, { at: 4 }), entry('m1', 'running', 1, { at: 5 })])
    t.strictSame((await journal.receipt('m1', NOW))?.history, [
      { status: 'accepted', at: 1, attempt: 0 },
      { status: 'running', at: 5, attempt: 1 },
    ])
  })

  withStore('receipts: the history a replay carries on its first entry is read apart, before the run now', async (t, journal) => {
    const before = [
      { status: 'accepted' as const, at: 1, attempt: 0 },
      { status: 'dead' as const, at: 2, attempt: 1, reason: 'Error: boom' },
    ]
    await journal.putReceipts([{ ...entry('m1', 'accepted', 0, { at: 3, reason: 'replayed' }), earlier: before }, entry('m1', 'done', 1, { at: 4 })])
    const got = await journal.receipt('m1', NOW)
    t.strictSame(got?.earlier, before, 'the runs before')
    t.strictSame(got?.history, [
      { status: 'accepted', at: 3, attempt: 0, reason: 'replayed' },
      { status: 'done', at: 4, attempt: 1 },
    ], 'the run now')
    t.equal(got?.attempts, 1, "the run now's attempts")
  })

  withStore('receipts: entries past their expiresAt are not read; none left is no receipt', async (t, journal) => {
    await journal.putReceipts([
      entry('m1', 'accepted', 0, { expiresAt: NOW + 1_000 }),
      entry('m1', 'running', 1, { expiresAt: NOW + 2_000 }),
      entry('m1', 'done', 1, { expiresAt: NOW + 2_500, reply: '"r"' }),
    ])
    t.equal((await journal.receipt('m1', NOW))?.history.length, 3)
    t.equal((await journal.receipt('m1', NOW + 999))?.history.length, 3, 'a millisecond before')
    const at1000 = await journal.receipt('m1', NOW + 1_000)
    t.strictSame(
      at1000?.history.map((e) => e.status),
      ['running', 'done'],
      'at expiresAt the entry is gone',
    )
    t.equal(at1000?.reply, '"r"')
    const at2000 = await journal.receipt('m1', NOW + 2_000)
    t.strictSame(
      at2000?.history.map((e) => e.status),
      ['done'],
    )
    t.equal(at2000?.status, 'done')
    t.equal(at2000?.attempts, 1)
    t.equal(await journal.receipt('m1', NOW + 2_500), undefined)
    t.equal(await journal.receipt('m1', NOW + 1e12), undefined)
    t.equal((await journal.receipt('m1', NOW))?.history.length, 3, 'an earlier reader still sees them')
  })

  withStore('receipts: the final entry carries the reply of a done ask, the error of a dead or filtered one', async (t, journal) => {
    await journal.putReceipts([
      entry('done', 'accepted', 0),
      entry('done', 'running', 1),
      entry('done', 'done', 1, { reply: '{"json":{"views":3,"at":"2024"},"meta":{"values":{"at":["Date"]}}}' }),
      entry('dead', 'accepted', 0),
      entry('dead', 'running', 1),
      entry('dead', 'dead', 1, { reason: BOOM.message, error: BOOM }),
      entry('filtered', 'accepted', 0, { actor: 'strict', key: '' }),
      entry('filtered', 'filtered', 0, { reason: 'not for us', error: { name: 'Filtered', message: 'not for us' }, actor: 'strict', key: '' }),
    ])
    const done = await journal.receipt('done', NOW)
    t.equal(done?.reply, '{"json":{"views":3,"at":"2024"},"meta":{"values":{"at":["Date"]}}}', 'the reply text as written')
    t.equal(done?.error, undefined)
    const dead = await journal.receipt('dead', NOW)
    t.strictSame(dead?.error, BOOM, 'the whole error record, code and stack included')
    t.equal(dead?.status, 'dead')
    t.equal(dead?.history.at(-1)?.reason, BOOM.message)
    t.equal(dead?.reply, undefined)
    const filtered = await journal.receipt('filtered', NOW)
    t.strictSame(filtered?.error, { name: 'Filtered', message: 'not for us' })
    t.equal(filtered?.status, 'filtered')
    t.equal(filtered?.attempts, 0)
    t.equal(filtered?.actor, 'strict')
    t.equal(filtered?.key, '', 'an unkeyed actor’s empty key')
  })

  withStore('receipts: ids with odd characters, unicode and 1,000 characters work and never mix', async (t, journal) => {
    await journal.putReceipts(ODD_IDS.flatMap((id, i) => [entry(id, 'accepted', 0, { key: `k${i}` }), entry(id, 'done', 1, { key: `k${i}`, reply: String(i) })]))
    for (const [i, id] of ODD_IDS.entries()) {
      const got = await journal.receipt(id, NOW)
      const label = `id #${i} (${id.length} characters)`
      t.equal(got?.id, id, label)
      t.equal(got?.key, `k${i}`, `${label}: its own entries`)
      t.equal(got?.reply, String(i), `${label}: its own reply`)
      t.equal(got?.history.length, 2, `${label}: no neighbour's entries`)
    }
  })

  withStore('receipts: more than 25 entries in one call (one batch request holds 25)', async (t, journal) => {
    const many = Array.from({ length: 60 }, (_, i) => `m${i}`)
    const long = Array.from({ length: 40 }, (_, a) => entry('long', 'running', a + 1))
    await journal.putReceipts([...many.flatMap((id) => [entry(id, 'accepted', 0), entry(id, 'done', 1, { reply: `"${id}"` })]), ...long])
    for (const id of many) t.equal((await journal.receipt(id, NOW))?.reply, `"${id}"`, id)
    const got = await journal.receipt('long', NOW)
    t.equal(got?.history.length, 40)
    t.equal(got?.attempts, 40)
    t.strictSame(
      got?.history.map((e) => e.attempt),
      long.map((r) => r.entry.attempt),
      'attempts sort as numbers, 10 after 9',
    )
  })

  withStore('receipts: an entry that cannot be placed in order is refused by message id and actor, and nothing is written', async (t, journal) => {
    for (const attempt of [-1, 1.5, Number.NaN, 1_000_000]) {
      await t.rejects(
        async () => journal.putReceipts([entry('fine', 'accepted', 0), entry('m-bad', 'running', attempt)]),
        { code: 'TROUPE_INVALID_RECEIPT', message: /message m-bad \(actor pageStats\).*attempt/ },
        `attempt ${attempt}`,
      )
    }
    await t.rejects(async () => journal.putReceipts([entry('m-bad', 'running', 1, { expiresAt: Number.NaN })]), {
      code: 'TROUPE_INVALID_RECEIPT',
      message: /message m-bad .*expiresAt/,
    })
    t.equal(await journal.receipt('fine', NOW), undefined, 'the good entry of a refused call was not written either')
    t.equal(await journal.receipt('m-bad', NOW), undefined)
  })

  withStore('receipts: what a store returns is a copy', async (t, journal) => {
    const records = lifecycle('m1')
    await journal.putReceipts(records)
    records[0]!.entry.status = 'dead' // the caller's objects are not kept
    const got = (await journal.receipt('m1', NOW))!
    got.history[0]!.at = -1
    got.history.pop()
    t.strictSame((await journal.receipt('m1', NOW))?.history, lifecycle('m1').map((r) => r.entry))
  })
}
