// A replayed message that dies on arrival (its type unknown here, its payload gone) is dated by
// its sentAt, which a replay keeps: laterDeath's cap of a day must not be counted from that
// sentAt, or a message whose first death came more than a day after it was sent (a paused type,
// a backlog, long retries) dies "before" its own tombstone, and its letter is never written.
import t from 'tap'
import { Actor, TerminalError } from '../../lib/index.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { recordingSender } from './fixtures/recording-sender.js'

class Doomed extends Actor<{ k: string }, void, { n: number }> {
  static readonly type = 'rd.doomed'
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(): void {
    throw new TerminalError('bad')
  }
}

const DAY = 86_400_000
const SENT = Date.now() - 10 * DAY

t.test('a replay that dies on arrival is a letter again, though its first death was days after it was sent', async (t) => {
  const journal = new MemoryJournalStore()
  const host = (actors: (typeof Doomed)[]) =>
    new DurableHost({ actors, state: new MemoryStateStore(), timers: new MemoryTimerStore(), journal, messages: recordingSender([]), logger: createLogger('silent') })
  const e = makeEnvelope({ id: 'm1' as MessageId, type: Doomed.type, key: 'k', body: { k: 'k' }, correlationId: 'm1' as CorrelationId, sentAt: SENT })
  // It waited (its type paused, a backlog) and died at its turn, days after it was sent.
  await host([Doomed]).handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '100', data: encodeRecord(e), arrivedAt: SENT + 1 }] })
  const [letter] = await journal.deadLetters()
  t.ok(letter, 'a letter')
  t.ok(letter!.deadAt > SENT + DAY, 'dated by its turn, more than a day past its sentAt')
  // A replay (lib/aws/dead-letter-replay.ts): the letter ends, the message goes back with diedAt.
  journal.takeDeadLetter('m1')
  const { origin: _o, ...rest } = letter!.envelope
  const replayed: Envelope = { ...rest, attempt: 0, diedAt: letter!.deadAt }
  // The host that reads it no longer knows the type (renamed, or not deployed here).
  await host([]).handle({ stream: 's', shardId: 'in', records: [{ sequenceNumber: '200', data: encodeRecord(replayed), arrivedAt: Date.now() }] })
  const again = await journal.deadLetters()
  t.equal(again.length, 1, 'the replayed message is a dead letter again, not lost')
  t.ok(again[0] === undefined || again[0].deadAt > letter!.deadAt, 'dated after the letter it came from')
})
