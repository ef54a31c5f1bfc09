// The durable host's bookkeeping, as pure logic: sequence numbers compared as Kinesis orders
// them, and what counts as applied.
import t from 'tap'
import { applied, decodeMeta, emptyMeta, encodeMeta, remember } from '../../lib/hosts/durable/instance-meta.js'
import { compareSequence, earliest } from '../../lib/hosts/durable/sequence.js'

t.test('sequence numbers compare as numbers far beyond 2^53, never as text', async (t) => {
  const small = '49590338271490256608559692538361571095921575989136588898'
  const bigger = '49590338271490256608559692538361571095921575989136588899'
  const longer = '495903382714902566085596925383615710959215759891365888980'
  t.ok(compareSequence(small, bigger) < 0)
  t.ok(compareSequence(bigger, longer) < 0, 'a longer number is larger even when its text sorts first')
  t.ok(compareSequence('9', '10') < 0)
  t.equal(compareSequence(small, small), 0)
  t.equal(earliest(undefined, '5'), '5')
  t.equal(earliest('10', '9'), '9')
  t.equal(earliest('7', undefined), '7')
})

t.test('a record is applied at or below its shard’s watermark, or when its id is recent', async (t) => {
  const meta = emptyMeta()
  t.notOk(applied(meta, 's/1', '100', 'a'))
  remember(meta, 's/1', '100', 'a', 2)
  t.ok(applied(meta, 's/1', '100', 'x'), 'the same sequence number')
  t.ok(applied(meta, 's/1', '99', 'x'), 'an earlier one')
  t.notOk(applied(meta, 's/1', '101', 'x'), 'a later one')
  t.notOk(applied(meta, 's/2', '50', 'x'), 'another shard has its own watermark')
  t.ok(applied(meta, 's/2', '50', 'a'), 'a known id under a new sequence number (a re-sent outbox)')
  remember(meta, 's/1', '101', 'b', 2)
  remember(meta, 's/1', '102', 'c', 2)
  t.same(meta.recent, ['b', 'c'], 'recent ids are bounded, oldest dropped')
  remember(meta, 's/1', '103', 'dead', 0)
  t.same(meta.recent, ['b', 'c'], 'a dead message is not remembered, so its replay runs')
  t.equal(meta.marks['s/1'], '103')
})

t.test('watermarks of many shards are bounded; the meta round-trips', async (t) => {
  const meta = emptyMeta()
  for (let i = 0; i < 40; i++) remember(meta, `s/${i}`, String(i + 1), `m${i}`, 64)
  t.equal(Object.keys(meta.marks).length, 16, 'old shards are forgotten')
  t.ok('s/39' in meta.marks)
  t.notOk('s/0' in meta.marks)
  meta.failing = { id: 'm1', attempts: [{ attempt: 1, startedAt: 1, endedAt: 2, error: { name: 'Error', message: 'x' } }] }
  t.same(decodeMeta(encodeMeta(meta)), meta)
  t.same(decodeMeta(undefined), emptyMeta())
})
