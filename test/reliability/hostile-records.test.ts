// Hostile records straight into the durable host (the turn both the Lambda handler and the shard
// consumer run), each between two good neighbours of the same batch: every hostile record is a
// dead letter with its reason and all of its bytes, every neighbour is applied exactly once, and a
// redelivery of the whole batch applies nothing twice. No crash, no hang, no prototype pollution.
// Property-based generation (fast-check) adds mutations of a good record on top of the corpus.
import fc from 'fast-check'
import t from 'tap'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import { createLogger } from '../../lib/core/logger.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord, decodeRecord, isBase64 } from '../../lib/routing/record-codec.js'
import type { UnreadableRecord } from '../../lib/routing/unreadable-record.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import type { SendReport } from '../../lib/transport/kinesis.js'
import { hostileRecords } from './corpus/records.js'
import { Counter } from './fixtures/actors.js'

const polluted = () => (({}) as Record<string, unknown>).polluted ?? (Object.prototype as Record<string, unknown>).polluted

function envelope(k: string, n: number): Envelope {
  const id = `m-${k}-${n}` as MessageId
  return makeEnvelope({ id, type: Counter.type, key: k, body: { k, n }, correlationId: id as string as CorrelationId, sentAt: 1 })
}

function makeHost() {
  const state = new MemoryStateStore()
  const journal = new MemoryJournalStore()
  const host = new DurableHost({
    actors: [Counter],
    state,
    timers: new MemoryTimerStore(),
    journal,
    // No turn here tells anything: a send would be a bug, and fails the batch loudly.
    messages: { send: async (): Promise<SendReport> => Promise.reject(new Error('no turn of this test sends a message')) },
    logger: createLogger('silent' as never),
  })
  const counter = async (k: string) => {
    const item = await state.get(Counter.type, k)
    return item && (JSON.parse(item.state) as { json: { sum: number; ns: number[] } }).json
  }
  return { host, state, journal, counter }
}

t.test('every corpus record, as bytes and as Lambda base64, is a dead letter with its reason; its neighbours are applied once', async (t) => {
  for (const form of ['bytes', 'base64'] as const) {
    const { host, journal, counter } = makeHost()
    const records: DurableRecord[] = []
    const names = new Map<string, string>()
    let seq = 0
    const push = (data: Uint8Array | string) => records.push({ sequenceNumber: String(1_000_000 + ++seq), data })
    for (const [i, entry] of hostileRecords.entries()) {
      push(encodeRecord(envelope('before', i + 1)))
      const data = entry.data()
      names.set(String(1_000_000 + seq + 1), entry.name)
      if (Buffer.isBuffer(data)) push(form === 'bytes' ? data : data.toString('base64'))
      else if (form === 'base64') push(data.base64)
      else push(Buffer.from(data.base64, 'latin1')) // bad base64 as bytes: still not a record
      push(encodeRecord(envelope('after', i + 1)))
    }
    const started = Date.now()
    const result = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
    t.equal(result.failedFrom, undefined, `${form}: the whole batch finished`)
    const n = hostileRecords.length
    // Every neighbour, and the one readable record whose turn refused it (a dead turn counts).
    t.equal(result.applied, 2 * n + 1, `${form}: every neighbour applied, and nothing else`)
    const expected = { sum: (n * (n + 1)) / 2, ns: Array.from({ length: n }, (_, i) => i + 1) }
    t.same(await counter('before'), expected, `${form}: the neighbours before each hostile record, once, in order`)
    t.same(await counter('after'), expected, `${form}: the neighbours after each hostile record, once, in order`)
    const letters = await journal.deadLetters()
    t.equal(letters.length, n, `${form}: one dead letter per hostile record`)
    for (const entry of hostileRecords) {
      if (form === 'bytes' && !Buffer.isBuffer(entry.data())) continue // base64 faults exist only in Lambda events
      const hit = letters.filter((l) => entry.reason.test(l.error.message))
      t.ok(hit.length >= 1, `${form}: ${entry.name}: dead-lettered with the reason ${entry.reason}`)
    }
    for (const l of letters) t.ok(l.error.message.length < 2_000, `${form}: the reason is readable (${l.error.message.slice(0, 80)}…)`)
    // Every unreadable record's letter keeps all of its data, counted in what it is.
    const unreadable = letters.filter((l) => l.error.code === 'TROUPE_BAD_RECORD')
    t.ok(unreadable.length >= n - 3, `${form}: ${unreadable.length} letters are unreadable records`)
    for (const l of unreadable) {
      const body = l.envelope.body as UnreadableRecord
      const data = records.find((r) => r.sequenceNumber === body.sequenceNumber)!.data
      const label = `${form}: ${names.get(body.sequenceNumber)}`
      if (typeof data !== 'string') {
        t.ok('base64' in body && Buffer.from(body.base64, 'base64').equals(data), `${label}: every byte`)
        t.equal('bytes' in body && body.bytes, data.byteLength, `${label}: bytes counts them`)
      } else if (isBase64(data)) {
        t.ok('base64' in body && body.base64 === data, `${label}: the whole base64`)
        t.equal('bytes' in body && body.bytes, Buffer.from(data, 'base64').byteLength, `${label}: bytes counts the decoded bytes, not base64 characters`)
      } else {
        t.match(body, { text: data, characters: data.length, notBase64: true }, `${label}: not base64, so kept as text and counted in characters`)
      }
    }
    t.equal(polluted(), undefined, `${form}: no prototype pollution`)

    // The stream delivers the same batch again: nothing is applied twice.
    const again = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
    t.equal(again.applied, 0, `${form}: a redelivery applies nothing`)
    t.equal(again.duplicates, 2 * n + 1, `${form}: every turn is recognised as done`)
    t.same(await counter('after'), expected)
    t.ok(Date.now() - started < 60_000, `${form}: no hang`)
  }
})

t.test('fast-check: a good record, mutated, is applied or dead-lettered; never a throw, a loss of its neighbours or pollution', async (t) => {
  const good = encodeRecord(makeEnvelope({ id: 'm-x' as MessageId, type: Counter.type, key: 'x', body: { k: 'x', n: 1, m: new Map([['a', new Set([1n])]]), d: new Date(5) }, correlationId: 'm-x' as CorrelationId, sentAt: 1 })).toString('utf8')
  const mutation = fc.oneof(
    // flip, drop or insert characters of the JSON text
    fc.tuple(fc.nat(good.length - 1), fc.string({ maxLength: 8 }), fc.nat(8)).map(([at, ins, del]) => good.slice(0, at) + ins + good.slice(at + del)),
    // replace a quoted name in the text with an attack name
    fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'v', 'values', 'referentialEqualities', 'json', 'meta', 'body', 'id', 'type', 'key'), fc.nat(40)).map(([name, nth]) => {
      const names = [...good.matchAll(/"([A-Za-z_]+)"/g)]
      const m = names[nth % names.length]!
      return good.slice(0, m.index) + JSON.stringify(name) + good.slice(m.index + m[0].length)
    }),
    // arbitrary JSON values where the metadata or the body goes
    fc.tuple(fc.jsonValue({ maxDepth: 6 }), fc.boolean()).map(([value, inMeta]) => {
      const d = JSON.parse(good) as { json: Record<string, unknown>; meta?: unknown }
      if (inMeta) d.meta = value
      else d.json.body = value
      return JSON.stringify(d)
    }),
  )
  let runs = 0
  let dead = 0
  await fc.assert(
    fc.asyncProperty(mutation, async (text) => {
      runs++
      const { host, journal, counter } = makeHost()
      const records = [
        { sequenceNumber: '1', data: encodeRecord(envelope('n', 1)) },
        { sequenceNumber: '2', data: Buffer.from(text, 'utf8') },
        { sequenceNumber: '3', data: encodeRecord(envelope('n', 2)) },
      ]
      const decoded = decodeRecord(records[1]!.data)
      const result = await host.handle({ stream: 's', shardId: 'shard-1', records })
      const letters = await journal.deadLetters()
      dead += letters.length
      return (
        result.failedFrom === undefined &&
        JSON.stringify(await counter('n')) === JSON.stringify({ sum: 3, ns: [1, 2] }) &&
        (decoded.ok || letters.length === 1) &&
        polluted() === undefined
      )
    }),
    { numRuns: 400, seed: Number(process.env.FC_SEED ?? 4242) },
  )
  t.equal(polluted(), undefined, 'no prototype pollution')
  t.ok(dead > 0, `some mutations were dead-lettered (${dead} of ${runs})`)
})

t.test('an unreadable record is known by its place, not by the id it claims: it replaces no other letter', async (t) => {
  const { host, journal } = makeHost()
  const victim = envelope('victim', 1)
  // A letter the victim's message already has (its turn failed for good, say).
  await journal.putDeadLetters([{ envelope: victim, error: { name: 'Error', message: 'the real failure' }, attempts: [], deadAt: 1 }])
  // Two broken records that name the victim's id, and one that names no id at all, twice over.
  const claiming = (sentAt: unknown) => Buffer.from(JSON.stringify({ json: { id: victim.id, type: Counter.type, key: 'victim', correlationId: 'c', attempt: 0, sentAt, body: {} } }))
  const records: DurableRecord[] = [
    { sequenceNumber: '2000001', data: claiming('A') },
    { sequenceNumber: '2000002', data: claiming('B') },
    { sequenceNumber: '2000003', data: Buffer.from('not json') },
    { sequenceNumber: '2000004', data: Buffer.from('not json') },
  ]
  const result = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
  t.equal(result.failedFrom, undefined)
  const letters = await journal.deadLetters()
  t.equal(letters.length, 5, "the victim's letter and one for each record")
  t.equal(letters.find((l) => l.envelope.id === victim.id)?.error.message, 'the real failure', "the victim's letter is its own")
  const ids = letters.map((l) => l.envelope.id).filter((id) => id !== victim.id).sort()
  t.same(ids, ['record-s/shardId-000000000000-2000001', 'record-s/shardId-000000000000-2000002', 'record-s/shardId-000000000000-2000003', 'record-s/shardId-000000000000-2000004'])
  t.equal(host.counts.get(Counter.type)?.dead, 2, 'the two that name a type this host runs are counted as its dead letters')
  const claimed = letters.find((l) => l.envelope.id === 'record-s/shardId-000000000000-2000001')
  t.match(claimed?.error.message, new RegExp(`^\\[TROUPE_BAD_RECORD\\] record 2000001 of s/shardId-000000000000 \\(it names message "${victim.id}"\\) is not a message troupe can read: `))
})

t.test('records with no sequence number (a hand-made event, read as "undefined") keep a letter each, known by their data', async (t) => {
  const { host, journal } = makeHost()
  const records: DurableRecord[] = [
    { sequenceNumber: 'undefined', data: Buffer.from('first broken record') },
    { sequenceNumber: 'undefined', data: Buffer.from('second broken record') },
  ]
  await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
  const ids = (await journal.deadLetters()).map((l) => l.envelope.id)
  t.equal(ids.length, 2)
  t.equal(new Set(ids).size, 2, 'two letters, one for each record')
  for (const id of ids) t.match(id, /^record-s\/shardId-000000000000-unnumbered-[0-9a-f]{24}$/)
})
