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
import { randomBytes } from 'node:crypto'
import type { CorrelationId, MessageId } from '../core/ids.js'
import { makeEnvelope } from '../core/envelope.js'
import type { MessageStatus } from '../core/receipt.js'
import type { JournalStore, ReceiptRecord, StoredReceipt } from '../store/index.js'
import { PAYLOAD_FIELD } from '../routing/claim-check.js'
import { recordToPutBack, unreadableRecordLetter, type UnreadableRecord } from '../routing/unreadable-record.js'
import type { DeadLetter, ErrorRecord } from '../supervisor/dead-letter.js'
import { ODD_KEYS, type Assert } from './store-conformance.js'

export type JournalFactory = () => Promise<JournalStore & { close?(): Promise<void> }>

/** A time the entries below live until; reads at `NOW` see them. */
const NOW = 1_700_000_000_000
const LATER = NOW + 86_400_000
const MiB = 1024 * 1024

/** Message ids that break naive key schemes: the store suite's odd keys, and 1,000 characters of each width. */
const ODD_IDS: readonly string[] = [
  ...ODD_KEYS,
  '%',
  'receipt#x',
  'deadletters',
  'e#000001#1#running',
  'x'.repeat(1000),
  'ü'.repeat(1000),
  '日#%'.repeat(333) + '🙂',
]

const entry = (
  id: string,
  status: MessageStatus,
  attempt: number,
  extra: { at?: number; reason?: string; reply?: string; error?: ErrorRecord; expiresAt?: number; actor?: string; key?: string } = {},
): ReceiptRecord => {
  const record: ReceiptRecord = {
    id,
    actor: extra.actor ?? 'pageStats',
    key: extra.key ?? 'k',
    entry: { status, at: extra.at ?? NOW - 1_000 + attempt * 10 + rank(status), attempt },
    expiresAt: extra.expiresAt ?? LATER,
  }
  if (extra.reason !== undefined) record.entry.reason = extra.reason
  if (extra.reply !== undefined) record.reply = extra.reply
  if (extra.error !== undefined) record.error = extra.error
  return record
}

function rank(status: MessageStatus): number {
  return { accepted: 0, paused: 0.5, throttled: 0.6, running: 1, retrying: 2, done: 3, filtered: 3, dead: 3 }[status]
}

/** A message's whole life: accepted, two failed attempts, then done with a reply. */
const lifecycle = (id: string, extra: Parameters<typeof entry>[3] = {}): ReceiptRecord[] => [
  entry(id, 'accepted', 0, extra),
  entry(id, 'running', 1, extra),
  entry(id, 'retrying', 1, { ...extra, reason: 'Error: boom' }),
  entry(id, 'running', 2, extra),
  entry(id, 'retrying', 2, { ...extra, reason: 'Error: boom again' }),
  entry(id, 'running', 3, extra),
  entry(id, 'done', 3, { ...extra, reply: '{"json":{"ok":true}}' }),
]

const BOOM: ErrorRecord = { name: 'TerminalError', message: '[TROUPE_TERMINAL] no such page', code: 'TROUPE_TERMINAL', stack: 'TerminalError: no such page\n    at receive (page.ts:1:1)' }

const letter = (id: string, type = 'pageStats', deadAt = NOW, body: unknown = { path: '/home', n: 1 }): DeadLetter => ({
  envelope: makeEnvelope({
    id: id as MessageId,
    type,
    key: 'k',
    body,
    correlationId: 'corr' as CorrelationId,
    causationId: 'cause' as MessageId,
    attempt: 3,
    sentAt: deadAt - 5_000,
  }),
  error: BOOM,
  attempts: [1, 2, 3].map((attempt) => ({ attempt, startedAt: deadAt - 4_000 + attempt, endedAt: deadAt - 3_000 + attempt, error: { name: 'Error', message: `attempt ${attempt} failed` } })),
  deadAt,
})

export function journalConformance(t: Assert, factory: JournalFactory): void {
  const withStore = (name: string, body: (t: Assert, journal: JournalStore) => Promise<void>) =>
    t.test(name, async (t) => {
      const journal = await factory()
      try {
        await body(t, journal)
      } finally {
        await journal.close?.()
      }
    })

  // ---------------------------------------------------------------- receipts

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

  // ---------------------------------------------------------------- dead letters

  withStore('dead letters: an empty store lists none and takes none', async (t, journal) => {
    t.strictSame(await journal.deadLetters(), [])
    t.strictSame(await journal.deadLetters('pageStats'), [])
    t.equal(await journal.takeDeadLetter('nope'), undefined)
    await journal.putDeadLetters([]) // nothing to write is fine
    t.strictSame(await journal.deadLetters(), [])
  })

  withStore('dead letters: put, list oldest first, filter by actor type', async (t, journal) => {
    const letters = [letter('c', 'pageStats', NOW + 2), letter('a', 'checkout', NOW + 1), letter('b', 'pageStats', NOW), letter('a2', 'pageStats', NOW + 2)]
    await journal.putDeadLetters(letters)
    t.strictSame(await journal.deadLetters(), [letters[2], letters[1], letters[3], letters[0]], 'by deadAt, then id; whole letters')
    t.strictSame(await journal.deadLetters('pageStats'), [letters[2], letters[3], letters[0]])
    t.strictSame(await journal.deadLetters('checkout'), [letters[1]])
    t.strictSame(await journal.deadLetters('nobody'), [])
  })

  withStore('dead letters: a letter put again replaces the first (keyed by message id)', async (t, journal) => {
    await journal.putDeadLetters([letter('m1', 'pageStats', NOW)])
    const again = { ...letter('m1', 'pageStats', NOW + 10), error: { name: 'Error', message: 'second' } }
    await journal.putDeadLetters([again])
    await journal.putDeadLetters([again, again]) // repeats within one call too
    t.strictSame(await journal.deadLetters(), [again])
  })

  withStore('dead letters: take removes and returns a letter; taking it twice finds nothing', async (t, journal) => {
    await journal.putDeadLetters([letter('m1'), letter('m2', 'checkout', NOW + 1)])
    t.strictSame(await journal.takeDeadLetter('m1'), letter('m1'))
    t.equal(await journal.takeDeadLetter('m1'), undefined, 'the second take')
    t.strictSame(await journal.deadLetters(), [letter('m2', 'checkout', NOW + 1)], 'the other stays')
    await journal.putDeadLetters([letter('m1')])
    t.strictSame(await journal.takeDeadLetter('m1'), letter('m1'), 'a letter put again after a take is kept again')
  })

  withStore('dead letters: bodies with Map, Set, Date, BigInt, undefined and nesting survive', async (t, journal) => {
    const body = {
      when: new Date(Date.UTC(2024, 1, 29, 12)),
      counts: new Map<string, bigint>([
        ['a', 1n],
        ['huge', 12345678901234567890123456789n],
      ]),
      tags: new Set(['x', 'y']),
      nothing: undefined,
      nested: [{ deep: new Map([[1, [new Date(0)]]]) }],
      text: 'ünïcödé 日本語 🙂',
    }
    await journal.putDeadLetters([letter('m1', 'pageStats', NOW, body)])
    const [listed] = await journal.deadLetters()
    t.strictSame(listed, letter('m1', 'pageStats', NOW, body))
    const b = listed?.envelope.body as typeof body
    t.ok(b.when instanceof Date && b.counts instanceof Map && b.tags instanceof Set, 'the types themselves')
    t.equal(b.counts.get('huge'), 12345678901234567890123456789n)
    t.ok(Object.hasOwn(b, 'nothing'), 'an undefined field stays a field')
    t.strictSame(await journal.takeDeadLetter('m1'), letter('m1', 'pageStats', NOW, body))
  })

  withStore('dead letters: ids with odd characters, unicode and 1,000 characters work and never mix', async (t, journal) => {
    await journal.putDeadLetters(ODD_IDS.map((id, i) => letter(id, 'odd', NOW + i)))
    t.strictSame(
      (await journal.deadLetters('odd')).map((l) => l.envelope.id),
      ODD_IDS,
    )
    for (const [i, id] of ODD_IDS.entries()) {
      t.strictSame(await journal.takeDeadLetter(id), letter(id, 'odd', NOW + i), `id #${i} (${id.length} characters)`)
    }
    t.strictSame(await journal.deadLetters(), [])
  })

  withStore('dead letters: more than 25 in one call (one batch request holds 25)', async (t, journal) => {
    const letters = Array.from({ length: 60 }, (_, i) => letter(`m${String(i).padStart(2, '0')}`, i % 2 ? 'odd' : 'even', NOW + i))
    await journal.putDeadLetters(letters)
    t.strictSame(await journal.deadLetters(), letters)
    t.equal((await journal.deadLetters('odd')).length, 30)
  })

  withStore('dead letters: hostile bodies (__proto__, constructor.prototype keys) round trip as keys, polluting nothing', async (t, journal) => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"~constructor":1,"~~__proto__":2,"list":[{"__proto__":{"polluted":true}}],"prototype":"p"}'
    const body = JSON.parse(text) as Record<string, unknown>
    const inMap = new Map<string, unknown>([['k', JSON.parse('{"__proto__":{"polluted":true}}')]])
    await journal.putDeadLetters([letter('json', 'hostile', NOW, body), letter('map', 'hostile', NOW + 1, { inMap })])
    const [json, map] = await journal.deadLetters('hostile')
    const back = json?.envelope.body as Record<string, unknown>
    t.equal(JSON.stringify(back), text, 'the same keys and values, in order')
    t.ok(Object.hasOwn(back, '__proto__'), '__proto__ is an own key')
    t.equal(Object.getPrototypeOf(back), Object.prototype, 'the prototype is untouched')
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
    t.equal(typeof ({} as { constructor: unknown }).constructor, 'function')
    const m = (map?.envelope.body as { inMap: Map<string, object> }).inMap
    t.ok(m instanceof Map && Object.hasOwn(m.get('k')!, '__proto__'), 'inside a Map too')
    t.equal(JSON.stringify((await journal.takeDeadLetter('json'))?.envelope.body), text, 'take gives the same')
    t.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  withStore('dead letters: what a store returns is a copy', async (t, journal) => {
    const mine = letter('m1')
    await journal.putDeadLetters([mine])
    ;(mine.envelope.body as { n: number }).n = 99
    const [listed] = await journal.deadLetters()
    ;(listed!.envelope.body as { n: number }).n = 42
    listed!.attempts.length = 0
    t.strictSame(await journal.deadLetters(), [letter('m1')])
  })

  withStore('dead letters: a 1 MiB body comes back whole, listed and taken, and is what a replay sends', async (t, journal) => {
    const body = { blob: randomBytes(768 * 1024).toString('base64'), text: 'ünïcödé 日本語 🙂'.repeat(1000), when: new Date(7), tags: new Map([['a', 1n]]) }
    t.ok(JSON.stringify(body).length > MiB, 'the body is over 1 MiB')
    const big = letter('big', 'pageStats', NOW, body)
    await journal.putDeadLetters([big, letter('small', 'pageStats', NOW + 1)])
    const [listed, small] = await journal.deadLetters()
    const sameBody = (got: DeadLetter | undefined) => {
      const b = got?.envelope.body as typeof body | undefined
      return b?.blob === body.blob && b.text === body.text && b.when instanceof Date && b.when.getTime() === 7 && b.tags instanceof Map && b.tags.get('a') === 1n
    }
    t.ok(sameBody(listed), 'listed: the body byte for byte, its types kept')
    t.strictSame({ ...listed, envelope: { ...listed?.envelope, body: undefined } }, { ...big, envelope: { ...big.envelope, body: undefined } }, 'listed: the envelope, the error and every attempt')
    t.strictSame(small, letter('small', 'pageStats', NOW + 1), 'its neighbour in the same call')
    t.equal((await journal.deadLetters('pageStats')).filter(sameBody).length, 1, 'filtered by type: whole too')
    const taken = await journal.takeDeadLetter('big')
    t.ok(sameBody(taken), 'taken (what replay sends): the whole body')
    t.equal(taken?.attempts.length, 3)
    t.equal(await journal.takeDeadLetter('big'), undefined, 'taken once')
    t.strictSame((await journal.deadLetters()).map((l) => l.envelope.id), ['small'])
  })

  withStore('dead letters: an unreadable record of 2 MiB keeps every byte, as bytes and as Lambda base64; replay would put them all back', async (t, journal) => {
    const data = randomBytes(2 * MiB + 1)
    const base = { shard: 'troupe/shardId-000000000001', reason: 'the record is not valid UTF-8', now: NOW }
    const asBytes = unreadableRecordLetter({ ...base, data, sequenceNumber: '49001' })
    const asBase64 = unreadableRecordLetter({ ...base, data: data.toString('base64'), sequenceNumber: '49002' })
    const notBase64 = unreadableRecordLetter({ ...base, data: `${data.toString('base64').slice(0, 1000)}*!`, sequenceNumber: '49003' })
    await journal.putDeadLetters([asBytes, asBase64, notBase64])
    const listed = await journal.deadLetters()
    t.equal(listed.length, 3)
    for (const [i, seq] of ['49001', '49002'].entries()) {
      const got = listed.find((l) => (l.envelope.body as UnreadableRecord).sequenceNumber === seq)
      const b = got?.envelope.body as { base64?: string; bytes?: number } | undefined
      t.equal(b?.bytes, data.byteLength, `${['bytes', 'base64'][i]}: bytes counts the record's bytes, not base64 characters`)
      t.ok(b?.base64 !== undefined && Buffer.from(b.base64, 'base64').equals(data), `${['bytes', 'base64'][i]}: every byte, in order`)
      t.strictSame(got, [asBytes, asBase64][i], `${['bytes', 'base64'][i]}: the whole letter`)
    }
    const text = listed.find((l) => (l.envelope.body as UnreadableRecord).sequenceNumber === '49003')?.envelope.body
    t.match(text, { text: String, characters: 1002, notBase64: true }, 'data that is not base64: kept as text and counted in characters')
    const taken = await journal.takeDeadLetter(asBytes.envelope.id)
    t.equal(taken?.error.code, 'TROUPE_BAD_RECORD')
    const record = taken && recordToPutBack(taken, ['troupe'])
    t.ok(record?.data.equals(data), 'taken, it puts back the record whole, on its stream')
    t.equal(record?.stream, 'troupe')
  })

  withStore('dead letters: every attempt and every error is kept whole, however long', async (t, journal) => {
    const long = 'why '.repeat(60_000) // 240 KB
    const wordy: DeadLetter = {
      ...letter('wordy'),
      error: { name: 'Error', message: long, code: 'E_WHY', stack: long },
      attempts: Array.from({ length: 150 }, (_, i) => ({
        attempt: i + 1,
        startedAt: NOW - 1_000 + i,
        endedAt: NOW - 900 + i,
        error: { name: 'Error', message: long.slice(0, 5_000), stack: `Error\n${'    at x\n'.repeat(100)}` },
      })),
    }
    await journal.putDeadLetters([wordy])
    t.strictSame(await journal.deadLetters(), [wordy], 'listed whole')
    t.strictSame(await journal.takeDeadLetter('wordy'), wordy, 'taken whole')
  })

  withStore('dead letters: a body that is a claim-check reference is kept as it is', async (t, journal) => {
    const reference = { [PAYLOAD_FIELD]: { key: 'msg/ref', bytes: 3 * MiB, sha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' } }
    await journal.putDeadLetters([letter('ref', 'pageStats', NOW, reference)])
    t.strictSame((await journal.deadLetters())[0]?.envelope.body, reference, 'listed: the reference, not a body')
    t.strictSame((await journal.takeDeadLetter('ref'))?.envelope.body, reference, 'taken: the reference, which a replay sends again')
  })

  withStore('dead letters: a large letter put again is replaced whole, by a large or a small one, and back', async (t, journal) => {
    const body = (c: string, n: number) => ({ c: c.repeat(n) })
    const first = letter('m1', 'pageStats', NOW, body('a', MiB))
    const second = letter('m1', 'pageStats', NOW + 1, body('b', MiB / 2))
    await journal.putDeadLetters([first])
    await journal.putDeadLetters([second])
    await journal.putDeadLetters([second]) // the same again
    t.strictSame(await journal.deadLetters(), [second], 'a smaller large one replaces it')
    const small = letter('m1', 'pageStats', NOW + 2)
    await journal.putDeadLetters([small])
    t.strictSame(await journal.deadLetters(), [small], 'a small one replaces it')
    await journal.putDeadLetters([first])
    t.strictSame(await journal.deadLetters(), [first], 'and a large one the small one')
    await journal.putDeadLetters([first, second, first]) // the last of a call wins
    t.strictSame(await journal.takeDeadLetter('m1'), first)
    t.strictSame(await journal.deadLetters(), [])
    await journal.putDeadLetters([second])
    t.strictSame(await journal.takeDeadLetter('m1'), second, 'put again after a take: kept again, whole')
  })

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
