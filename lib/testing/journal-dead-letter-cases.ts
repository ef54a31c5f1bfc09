// The journal conformance cases of dead letters: put, listed oldest first, replaced and taken;
// bodies of every serializable type, hostile keys, odd ids, and letters of megabytes (bodies,
// unreadable records, attempts and errors) that come back whole.
import { randomBytes } from 'node:crypto'
import { PAYLOAD_FIELD } from '../routing/claim-check.js'
import { recordToPutBack, unreadableRecordLetter, type UnreadableRecord } from '../routing/unreadable-record.js'
import type { DeadLetter } from '../core/dead-letter.js'
import { letter, MiB, NOW, ODD_IDS, type WithJournal } from './journal-fixtures.js'

export function deadLetterCases(withStore: WithJournal): void {
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
    t.strictSame(await journal.deadLetters(), [letter('m2', 'checkout', NOW + 1)], 'the same death written again after a take is not kept again')
    t.equal(await journal.takeDeadLetter('m1'), undefined, 'nor taken')
    await journal.putDeadLetters([letter('m1', 'pageStats', NOW + 5)])
    t.strictSame(await journal.takeDeadLetter('m1'), letter('m1', 'pageStats', NOW + 5), 'a later death of the message is kept again')
  })

  withStore('dead letters: the same death of a message written again, or an older one, changes nothing: a replay keeps its hold, and a letter it ended stays ended', async (t, journal) => {
    const first = letter('m1', 'pageStats', NOW + 10)
    await journal.putDeadLetters([first])
    await journal.putDeadLetters([{ ...letter('m1', 'pageStats', NOW), error: { name: 'Error', message: 'older' } }])
    t.strictSame(await journal.deadLetters(), [first], 'an older death does not replace a later one')
    const hold = { id: 'h1', until: NOW + 1_000 }
    const sent = { lane: 'r:one', pos: '0', i: 0, fence: '0' }
    t.strictSame(await journal.claimDeadLetter('m1', hold, NOW), { letter: first, gen: 1 })
    t.equal(await journal.markDeadLetterSent('m1', 'h1', sent), 'kept')
    await journal.putDeadLetters([first, first])
    t.strictSame(await journal.deadLetters(), [first], 'written again while held: still listed once')
    t.equal(await journal.markDeadLetterSent('m1', 'h1', sent), 'kept', 'and still held by its replay, with where it sent')
    await journal.dropClaimedDeadLetter('m1', 'h1')
    t.strictSame(await journal.deadLetters(), [], 'the replay ended it')
    await journal.putDeadLetters([first])
    t.strictSame(await journal.deadLetters(), [], 'the same death written again after the replay is not kept')
    t.equal(await journal.claimDeadLetter('m1', { ...hold, id: 'h2' }, NOW), undefined, 'nor held')
    t.equal(await journal.markDeadLetterSent('m1', 'h1', sent), 'gone', 'its replay finds it gone')
    t.strictSame(await journal.deadLetters('pageStats'), [], 'nor listed by its type')
    const later = letter('m1', 'pageStats', NOW + 20)
    await journal.putDeadLetters([later])
    t.strictSame(await journal.claimDeadLetter('m1', { ...hold, id: 'h3' }, NOW), { letter: later, gen: 1 }, 'a later death is a letter again, held first')
  })

  withStore('dead letters: a replay holds a letter until it sent its message; a hold that ended is taken over, with where the message may have gone', async (t, journal) => {
    const hold = { id: 'h1', until: NOW + 1_000 }
    const sent = { lane: 'r:one', pos: '0', i: 0, fence: '0' }
    t.equal(await journal.claimDeadLetter('m1', hold, NOW), undefined, 'no letter: nothing to hold')
    const large = letter('m2', 'pageStats', NOW + 1, { s: 'x'.repeat(MiB) })
    await journal.putDeadLetters([letter('m1'), large])
    t.strictSame(await journal.claimDeadLetter('m1', hold, NOW), { letter: letter('m1'), gen: 1 }, 'held: the letter, the first hold, sent nowhere')
    await t.rejects(async () => journal.claimDeadLetter('m1', { ...hold, id: 'h2' }, NOW + 999), { code: 'TROUPE_REPLAY_UNDER_WAY', until: NOW + 1_000 }, 'another replay waits while it holds')
    t.strictSame(await journal.deadLetters(), [letter('m1'), large], 'a held letter is still listed')
    t.equal(await journal.markDeadLetterSent('m1', 'h2', sent), 'taken over', 'only the replay that holds it says where it sends')
    t.equal(await journal.markDeadLetterSent('m1', 'h1', sent), 'kept')
    await journal.releaseDeadLetter('m1', 'h2')
    await t.rejects(async () => journal.claimDeadLetter('m1', { ...hold, id: 'h2' }, NOW + 999), { code: 'TROUPE_REPLAY_UNDER_WAY' }, 'nor ends its hold')
    await journal.releaseDeadLetter('m1', 'h1')
    const second = { ...hold, id: 'h3' }
    t.strictSame(await journal.claimDeadLetter('m1', second, NOW), { letter: letter('m1'), gen: 2, sentAs: sent }, 'a replay takes over at once, and learns where the message may have gone')
    await journal.releaseDeadLetter('m1', 'h3')
    t.strictSame(await journal.claimDeadLetter('m1', { ...second, id: 'h4' }, NOW), { letter: letter('m1'), gen: 3, sentAs: sent }, 'which stays with the letter, whoever holds it')
    await journal.dropClaimedDeadLetter('m1', 'h3')
    t.equal((await journal.deadLetters()).length, 2, 'a replay that holds it no more deletes nothing')
    t.equal(await journal.markDeadLetterSent('m1', 'h1', sent), 'kept', 'a replay that lost its hold keeps where it sent, once kept (its write tried again)')
    t.equal(await journal.markDeadLetterSent('m1', 'h1', { ...sent, lane: 'r:other' }), 'taken over', 'but nowhere else')
    await journal.dropClaimedDeadLetter('m1', 'h4')
    t.strictSame(await journal.deadLetters(), [large], 'the replay that holds it deletes it')
    t.equal(await journal.markDeadLetterSent('m1', 'h4', sent), 'gone', 'ended under its origin: gone, the message may be on its way')
    t.equal(await journal.markDeadLetterSent('m1', 'h2', { ...sent, lane: 'r:other' }), 'taken over', 'ended under another origin: a replay that noted this one never sent it')
    t.equal(await journal.markDeadLetterSent('nope', 'h2', sent), 'gone', 'no trace of a letter: gone')

    t.strictSame(await journal.claimDeadLetter('m2', hold, NOW), { letter: large, gen: 1 }, 'a letter of a megabyte, whole')
    t.equal(await journal.markDeadLetterSent('m2', 'h1', sent), 'kept')
    const newer = { ...letter('m2', 'pageStats', NOW + 10), error: { name: 'Error', message: 'died again' } }
    await journal.putDeadLetters([newer])
    t.equal(await journal.markDeadLetterSent('m2', 'h1', sent), 'taken over', 'a newer letter of the message is held by no replay')
    await journal.dropClaimedDeadLetter('m2', 'h1')
    t.strictSame(await journal.deadLetters(), [newer], 'and stays')
    t.strictSame(await journal.claimDeadLetter('m2', hold, NOW), { letter: newer, gen: 1 }, 'sent nowhere, and held first: it is a new death of the message')
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

  withStore('dead letters: a large letter is replaced whole by a later death, large or small, and back', async (t, journal) => {
    const body = (c: string, n: number) => ({ c: c.repeat(n) })
    const first = letter('m1', 'pageStats', NOW, body('a', MiB))
    const second = letter('m1', 'pageStats', NOW + 1, body('b', MiB / 2))
    await journal.putDeadLetters([first])
    await journal.putDeadLetters([second])
    await journal.putDeadLetters([second, first]) // the same again, and an older one
    t.strictSame(await journal.deadLetters(), [second], 'a smaller large one replaces it')
    const small = letter('m1', 'pageStats', NOW + 2)
    await journal.putDeadLetters([small])
    t.strictSame(await journal.deadLetters(), [small], 'a small one replaces it')
    const third = letter('m1', 'pageStats', NOW + 3, body('c', MiB))
    await journal.putDeadLetters([third])
    t.strictSame(await journal.deadLetters(), [third], 'and a large one the small one')
    const fourth = letter('m1', 'pageStats', NOW + 4, body('d', MiB))
    await journal.putDeadLetters([fourth, third, second]) // the latest death of a call wins, wherever it is
    t.strictSame(await journal.takeDeadLetter('m1'), fourth)
    t.strictSame(await journal.deadLetters(), [])
    await journal.putDeadLetters([fourth])
    t.strictSame(await journal.deadLetters(), [], 'the death taken, written again, is not kept')
    const fifth = letter('m1', 'pageStats', NOW + 5, body('e', MiB / 2))
    await journal.putDeadLetters([fifth])
    t.strictSame(await journal.takeDeadLetter('m1'), fifth, 'a later one after a take: kept again, whole')
  })

  withStore('dead letters: a letter of another message under the same id (another actor type or key, or an unreadable record) is kept beside it, never in its place', async (t, journal) => {
    const mine = letter('m1', 'pageStats', NOW)
    const otherType = letter('m1', 'checkout', NOW + 10)
    const otherKey = { ...letter('m1', 'pageStats', NOW + 20), envelope: { ...letter('m1').envelope, key: 'elsewhere' } }
    await journal.putDeadLetters([mine])
    await journal.putDeadLetters([otherType, otherKey])
    const listed = await journal.deadLetters()
    t.equal(listed.length, 3, 'three letters: none replaced')
    t.strictSame(listed[0], mine, 'the first stays whole under its id')
    const moved = listed.slice(1)
    t.strictSame(moved.map((l) => [l.envelope.type, l.envelope.key]), [['checkout', 'k'], ['pageStats', 'elsewhere']], 'the others are kept whole')
    t.strictSame(moved.map((l) => l.envelope.body), [otherType.envelope.body, otherKey.envelope.body])
    for (const l of moved) {
      t.match(l.envelope.id, /^m1~.{16}$/, `${l.envelope.type}/${l.envelope.key}: under an id of its own`)
      t.match(l.error.message, `(kept as letter ${l.envelope.id}: letter m1 holds another message's death)`, 'its error says why')
    }
    t.ok(moved[0]!.envelope.id !== moved[1]!.envelope.id, 'one id each')

    await journal.putDeadLetters([otherType, otherKey, mine]) // copies of every write
    t.strictSame(await journal.deadLetters(), listed, 'copies of the writes are known as copies, wherever their letters are')
    t.strictSame(await journal.takeDeadLetter('m1'), mine)
    await journal.putDeadLetters([otherType])
    t.strictSame((await journal.deadLetters()).map((l) => l.envelope.id), moved.map((l) => l.envelope.id), 'once the first is taken, a copy of another still goes beside it, not in its place')
    const later = letter('m1', 'pageStats', NOW + 30)
    await journal.putDeadLetters([later])
    t.strictSame(await journal.takeDeadLetter('m1'), later, 'a later death of the first message is its letter again, under its id')
    await journal.putDeadLetters([otherType])
    t.strictSame((await journal.deadLetters()).map((l) => l.envelope.id), moved.map((l) => l.envelope.id), 'and a copy of another still finds its letter where it was moved')
    const otherLater = letter('m1', 'checkout', NOW + 40)
    await journal.putDeadLetters([otherLater])
    t.equal((await journal.takeDeadLetter(moved[0]!.envelope.id))?.deadAt, NOW + 40, "a later death of another replaces that one's moved letter")
    t.equal((await journal.deadLetters()).length, 1, 'leaving no second letter of it')
  })

  withStore("dead letters: a message claiming an unreadable record's letter id leaves that letter and its bytes whole", async (t, journal) => {
    const data = Buffer.from('not json at all', 'utf8')
    const unreadable = unreadableRecordLetter({ shard: 'troupe/shardId-000000000001', sequenceNumber: '49001', data, reason: 'the record is not JSON', now: NOW })
    const claimant = { ...letter(unreadable.envelope.id, unreadable.envelope.type, NOW + 10), envelope: { ...letter(unreadable.envelope.id, unreadable.envelope.type, NOW + 10).envelope, key: unreadable.envelope.key } }
    await journal.putDeadLetters([unreadable])
    await journal.putDeadLetters([claimant])
    t.strictSame(await journal.takeDeadLetter(unreadable.envelope.id), unreadable, "the record's letter, every byte of it")
    const rest = await journal.deadLetters()
    t.equal(rest.length, 1, 'and the claimant beside it')
    t.strictSame(rest[0]?.envelope.body, claimant.envelope.body)
  })

  withStore('dead letters: a large letter of another message under the same id is kept beside it, and a large one is not replaced by another', async (t, journal) => {
    const big = (c: string) => ({ c: c.repeat(MiB) })
    const first = letter('m1', 'pageStats', NOW, big('a'))
    const other = letter('m1', 'checkout', NOW + 10, big('b'))
    const small = letter('m1', 'orders', NOW + 20)
    await journal.putDeadLetters([first])
    await journal.putDeadLetters([other, small])
    await journal.putDeadLetters([other]) // a copy
    const listed = await journal.deadLetters()
    t.equal(listed.length, 3, 'three letters')
    t.strictSame(await journal.takeDeadLetter('m1'), first, 'the first, whole')
    const moved = listed.filter((l) => l.envelope.id !== 'm1')
    t.strictSame(moved.map((l) => l.envelope.type).sort(), ['checkout', 'orders'])
    const taken = await journal.takeDeadLetter(moved.find((l) => l.envelope.type === 'checkout')!.envelope.id)
    t.strictSame(taken?.envelope.body, other.envelope.body, "the other's bytes, whole")
  })
}
