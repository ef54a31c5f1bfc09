// Records the stream never delivers but a corrupted or hand-made batch can: a message whose
// sequence number is lower than one its instance already read in that shard, and two messages
// under one sequence number. The watermark alone would skip them as read; troupe keeps each as a
// dead letter naming the shard and both sequence numbers, so nothing is lost in silence. A true
// redelivery below the watermark (a copy of what the instance ran) is still recognised and dropped.
import t from 'tap'
import { makeEnvelope, type Envelope, type Origin } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import type { SendReport } from '../../lib/transport/kinesis.js'
import { Counter } from './fixtures/actors.js'

function envelope(k: string, n: number, origin?: Origin): Envelope {
  const id = `m-${k}-${n}` as MessageId
  const e = makeEnvelope({ id, type: Counter.type, key: k, body: { k, n }, correlationId: id as string as CorrelationId, sentAt: 1 })
  if (origin) e.origin = origin
  return e
}

const record = (sequenceNumber: string, e: Envelope): DurableRecord => ({ sequenceNumber, data: encodeRecord(e) })

function makeHost() {
  const state = new MemoryStateStore()
  const journal = new MemoryJournalStore()
  const host = new DurableHost({
    actors: [Counter],
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: async (): Promise<SendReport> => Promise.reject(new Error('no turn of this test sends a message')) },
    logger: createLogger('error'),
  })
  const ns = async (k: string) => {
    const item = await state.get(Counter.type, k)
    return item && (JSON.parse(item.state) as { json: { ns: number[] } }).json.ns
  }
  return { host, journal, ns }
}

for (const withOrigin of [false, true]) {
  const what = withOrigin ? 'messages with an origin' : 'messages without one (another producer)'
  // A process's lane: one position per message, its fence the message's own position.
  const origin = (n: number): Origin | undefined => (withOrigin ? { lane: 'p:producer', pos: String(n), i: 0, fence: String(n) } : undefined)

  t.test(`${what}: a record below the watermark that was never applied is a dead letter naming the shard and both sequence numbers`, async (t) => {
    const { host, journal, ns } = makeHost()
    const records = [
      ...[1, 2, 3, 4, 5, 6].map((n) => record(String(100 + n), envelope('a', n, origin(n)))),
      // Key A's 7th message comes under a sequence number below its 6th.
      record('103', envelope('a', 7, origin(7))),
      record('110', envelope('b', 4, origin(104))),
      // Key B's 5th message shares its sequence number with the 4th.
      record('110', envelope('b', 5, origin(105))),
      record('111', envelope('b', 6, origin(106))),
    ]
    const r = await host.handle({ stream: 's', shardId: 'shard-0', records })
    t.equal(r.failedFrom, undefined, 'the batch finished: nothing is held back')
    t.same(await ns('a'), [1, 2, 3, 4, 5, 6], 'A applied its six')
    t.same(await ns('b'), [4, 6], 'B applied the two it could trust')
    const letters = (await journal.deadLetters()).sort((x, y) => x.envelope.id.localeCompare(y.envelope.id))
    t.same(
      letters.map((l) => [l.envelope.id, l.error.code]),
      [
        ['m-a-7', 'TROUPE_INCONSISTENT_RECORD'],
        ['m-b-5', 'TROUPE_INCONSISTENT_RECORD'],
      ],
      'the two it could not trust are dead letters, not skipped',
    )
    t.match(letters[0]!.error.message, /^\[TROUPE_INCONSISTENT_RECORD\] record 103 of s\/shard-0 is at or below rel\.counter#a's watermark there \(106\), (yet|and) its message m-a-7/)
    t.match(letters[1]!.error.message, /^\[TROUPE_INCONSISTENT_RECORD\] record 110 of s\/shard-0 is at or below rel\.counter#b's watermark there \(110\), (yet|and) its message m-b-5/)
    t.same(letters[0]!.envelope.body, { k: 'a', n: 7 }, 'the letter keeps the message whole, for a replay')

    // The same batch once more (a true redelivery): everything is recognised, nothing is added.
    const again = await host.handle({ stream: 's', shardId: 'shard-0', records })
    t.match(again, { applied: 0 })
    t.equal(again.duplicates, records.length, 'every record, the two dead letters among them, is known')
    t.same(await ns('a'), [1, 2, 3, 4, 5, 6])
    t.equal((await journal.deadLetters()).length, 2, 'no new dead letter')

    // A replay puts the message on the stream again at a new place (a new origin, when there is one).
    const replayed = envelope('a', 7, withOrigin ? { lane: 'p:replayer', pos: '0', i: 0, fence: '0' } : undefined)
    const rerun = await host.handle({ stream: 's', shardId: 'shard-0', records: [record('120', withOrigin ? replayed : { ...replayed, id: 'm-a-7-replay' as MessageId })] })
    t.match(rerun, { applied: 1, duplicates: 0 })
    t.same(await ns('a'), [1, 2, 3, 4, 5, 6, 7], 'the replay applies it, once')
  })
}

t.test('a copy of an applied message under a lower sequence number (a resend) is recognised by its origin, not dead-lettered', async (t) => {
  const { host, journal, ns } = makeHost()
  const o = (n: number): Origin => ({ lane: 's:other/shard-9', pos: String(500 + n), i: 0, fence: String(500 + n) })
  await host.handle({ stream: 's', shardId: 'shard-0', records: [1, 2, 3].map((n) => record(String(200 + n), envelope('c', n, o(n)))) })
  const r = await host.handle({ stream: 's', shardId: 'shard-0', records: [record('150', envelope('c', 2, o(2)))] })
  t.match(r, { applied: 0, duplicates: 1 })
  t.same(await ns('c'), [1, 2, 3])
  t.same(await journal.deadLetters(), [])
})
