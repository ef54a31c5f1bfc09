// The durable host's bookkeeping, as pure logic: sequence numbers compared as Kinesis orders
// them, and what counts as applied.
import t from 'tap'
import { decodeMeta, emptyMeta, encodeMeta, reached, remember, type InstanceMeta } from '../../lib/hosts/durable/instance-meta.js'
import { compareSequence, earliest } from '../../lib/core/position.js'

/** What the host treats as read for a message without an origin: at or below the mark, or a recent id. */
function applied(meta: InstanceMeta, shard: string, sequenceNumber: string, id: string, member?: number): boolean {
  return reached(meta, shard, sequenceNumber, member) || meta.recent.includes(id)
}

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

t.test('members of an aggregate record share its sequence number; the mark keeps how far into it a turn got', async (t) => {
  const meta = emptyMeta()
  const at = (index: number, last = false) => ({ index, last })
  remember(meta, 's/1', '100', 'a', 64)
  remember(meta, 's/1', '200', 'b0', 64, at(0))
  remember(meta, 's/1', '200', 'b1', 64, at(1))
  t.same(meta.members, { 's/1': 1 }, 'part-way through record 200: members 0 and 1 applied')
  t.ok(applied(meta, 's/1', '200', 'x', 0))
  t.ok(applied(meta, 's/1', '200', 'x', 1))
  t.notOk(applied(meta, 's/1', '200', 'x', 2), 'the member that failed runs on redelivery')
  t.notOk(applied(meta, 's/1', '200', 'x', 3), 'and so do the ones after it')
  t.ok(applied(meta, 's/1', '100', 'x'), 'an earlier record is applied whole')
  t.same(decodeMeta(encodeMeta(meta)), meta, 'the sub-mark survives the round trip')
  remember(meta, 's/1', '200', 'b2', 64, at(2))
  remember(meta, 's/1', '200', 'b3', 64, at(3, true))
  t.equal(meta.members, undefined, 'after its last member the record counts whole')
  t.ok(applied(meta, 's/1', '200', 'x', 3))
  t.notOk(applied(meta, 's/1', '201', 'x', 0))
  remember(meta, 's/1', '300', 'c0', 64, at(0))
  remember(meta, 's/1', '301', 'd', 64)
  t.equal(meta.members, undefined, 'a later plain record moves the mark past the aggregate')
})

t.test('meta written before aggregate records (no sub-marks) still reads: its marks cover whole records', async (t) => {
  const old = encodeMeta({ marks: { 's/1': '500' }, recent: ['a'] })
  const meta = decodeMeta(old)
  t.equal(meta.members, undefined)
  t.ok(applied(meta, 's/1', '500', 'x'))
  t.ok(applied(meta, 's/1', '500', 'x', 7), 'every member of the record at the mark')
  t.notOk(applied(meta, 's/1', '501', 'x', 0))
})

t.test('the mark only moves forward: a record below it (hostile or inconsistent) leaves it where it is', async (t) => {
  const meta = emptyMeta()
  remember(meta, 's/1', '500', 'a', 64)
  remember(meta, 's/1', '400', 'b', 64)
  t.equal(meta.marks['s/1'], '500')
  remember(meta, 's/1', '500', 'c', 64)
  t.equal(meta.marks['s/1'], '500', 'the same sequence number twice')
  t.same(meta.recent, ['a', 'b', 'c'], 'the ids are still remembered')
})

t.test('an outbox kept before segments reads as one segment of its own lane', async (t) => {
  const legacy = encodeMeta({ marks: {}, recent: [], outbox: [{ kind: 'cancel', timerId: 'x' }] } as never)
  t.same(decodeMeta(legacy).outbox, [{ lane: 'legacy', pos: '0', entries: [{ kind: 'cancel', timerId: 'x' }] }])
})

t.test('a change of bookkeeping (a pause) leaves an item whose state version is no number as it is: written back, it would lose its sv', async (t) => {
  const { changeInstanceMeta } = await import('../../lib/hosts/durable/instance-meta-change.js')
  const { MemoryStateStore } = await import('../../lib/store/memory.js')
  const state = new MemoryStateStore()
  state.put('t', 'k', { state: '{"json":{"n":1}}', version: 1, updatedAt: 1, unreadableVersion: '{"S":"3"}' }, undefined)
  const before = state.get('t', 'k')
  await t.rejects(
    changeInstanceMeta(state, () => 2, 't', 'k', (meta) => ((meta.paused = true), true), 'the pause'),
    { code: 'TROUPE_STATE_VERSION_UNREADABLE', message: /state of t key "k" .* its field sv holds \{"S":"3"\}/ },
  )
  t.same(state.get('t', 'k'), before, 'nothing written')
})
