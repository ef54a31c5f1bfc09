// The death of a replayed message: later than the letter it came from, whatever the clock of the
// host where it dies says, and never past what a replay of its own letter can carry.
import t from 'tap'
import { isEpochMs, MAX_EPOCH_MS } from '../../lib/core/clock.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { DEATH_AHEAD_MS, laterDeath } from '../../lib/turn/turn-effects.js'

const NOW = Date.UTC(2026, 11, 7)
const envelope = (diedAt?: number) => {
  const e = makeEnvelope({ id: 'm1' as MessageId, type: 'orders', key: 'k', body: {}, correlationId: 'm1' as CorrelationId, sentAt: NOW - 1_000 })
  if (diedAt !== undefined) e.diedAt = diedAt
  return e
}

t.equal(laterDeath(envelope(), NOW), NOW, 'a message never replayed dies when it dies')
t.equal(laterDeath(envelope(NOW - 60_000), NOW), NOW, 'a replayed one whose letter is older, too')
t.equal(laterDeath(envelope(NOW + 60_000), NOW), NOW + 60_001, 'one whose letter a clock ahead dated later: just after it')
t.equal(laterDeath(envelope(NOW), NOW), NOW + 1, 'the same millisecond: just after it')

t.test('a replay dying on arrival, dated by its sentAt, which a replay keeps', async (t) => {
  const sent = NOW - 10 * 86_400_000
  const letterDied = NOW - 60_000 // its first death, days after it was sent (a paused type, a backlog)
  t.equal(laterDeath(envelope(letterDied), sent, NOW), letterDied + 1, "later than its letter: the day's bound counts from the host's reading, not from the sentAt")
})

t.test('a record that claims its message died at the end of time', async (t) => {
  const claimed = envelope(MAX_EPOCH_MS)
  const deadAt = laterDeath(claimed, NOW)
  t.equal(deadAt, NOW + DEATH_AHEAD_MS + 1, 'dies at most a day past its own death')
  t.ok(isEpochMs(deadAt), 'a time a replay can carry as its diedAt')
  const again = laterDeath(envelope(deadAt), NOW + 60_000)
  t.equal(again, deadAt + 1, 'and its replay, dying a minute on, dies later than that letter: its letter replaces it')
})
