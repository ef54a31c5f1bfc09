// A copy of an older letter's write (its batch delivered again after the message was replayed and
// died again) is refused by the journal, and its pin of the message's ctx.once records must not move
// the later death's pin: the replay of the letter that stands unpins them, and they expire again.
import t from 'tap'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import type { DeadLetter } from '../../lib/core/dead-letter.js'
import { OutboxSender } from '../../lib/hosts/durable/outbox.js'
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'

const DAY = 24 * 60 * 60_000

t.test('a refused copy of an earlier death\'s letter leaves the records of the standing letter unpinnable', async (t) => {
  const store = new MemorySideEffects()
  const journal = new MemoryJournalStore()
  const outbox = new OutboxSender({ send: () => Promise.reject(new Error('none')) } as never, new MemoryTimerStore(), journal, undefined, undefined, async (letters) => {
    for (const l of letters) await store.pin(l.envelope.id, l.deadAt) // SideEffects.pin
  })
  const id = 'm1' as MessageId
  const envelope = makeEnvelope({ id, type: 'pay', key: 'a', body: { k: 'a' }, correlationId: id as string as CorrelationId, sentAt: 1 })
  const letter = (deadAt: number): DeadLetter => ({ envelope: { ...envelope }, error: { name: 'Error', message: 'boom' }, attempts: [], deadAt })
  const NOW = Date.now()
  store.put({ messageId: id, name: 'charge', actor: 'pay', key: 'a', status: 'done', result: '{"json":1}', at: NOW, expiresAt: NOW + 8 * DAY })

  await outbox.send([{ kind: 'dead', letter: letter(NOW + 100) }]) // the first death (replayed since: its letter left its death)
  // ... its replay ran and died again: the later letter, with its pin.
  await outbox.send([{ kind: 'dead', letter: letter(NOW + 200) }])
  // The first death's outbox sent again (its batch delivered again): the journal keeps the later letter.
  await outbox.send([{ kind: 'dead', letter: letter(NOW + 100) }])
  t.equal((await journal.deadLetters())[0]?.deadAt, NOW + 200, 'the later letter stands')
  t.equal(store.get(id, 'charge', NOW)?.pinnedBy, NOW + 200, 'its records are pinned by the letter that stands')

  // The standing letter is replayed: its replay unpins (lib/aws/dead-letter-replay.ts unpin).
  store.unpin(id, NOW + 200, NOW + 8 * DAY)
  t.equal(store.get(id, 'charge', NOW + 30 * DAY), undefined, 'no letter waits: the record expires with the lane horizon')
})
