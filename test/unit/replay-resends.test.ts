// The note an instance keeps of a replay whose send failed (replay-resends.ts), and how a run reads
// the two copies it names (record-reads.ts): the pure logic, with no server. The whole path, with
// the answers of the stream lost, is test/reliability/replay-in-doubt.test.ts.
import t from 'tap'
import { makeEnvelope, type Envelope, type Origin } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { systemClock } from '../../lib/core/clock.js'
import type { DirectSource } from '../../lib/hosts/durable/durable-batch.js'
import { decodeMeta, emptyMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { noteRead, noteRefused, verdict } from '../../lib/hosts/durable/record-reads.js'
import { noteResend, resendOrigin } from '../../lib/hosts/durable/replay-resends.js'

const reader = { recentIds: 64, clock: systemClock }
const first: Origin = { lane: 'p:replayer', pos: '7', i: 0, fence: '7' }

function copy(origin: Origin, id = 'm1'): Envelope {
  const envelope = makeEnvelope({ id: id as MessageId, type: 'tally', key: 'a', body: {}, correlationId: 'c' as CorrelationId, sentAt: 0 })
  envelope.origin = origin
  return envelope
}
const source = (envelope: Envelope): DirectSource => ({ kind: 'direct', stream: 'in', envelope })
const read = (meta: ReturnType<typeof emptyMeta>, envelope: Envelope) => {
  const seen = verdict(meta, source(envelope), undefined, envelope, undefined)
  if (seen === 'new' || seen === 'copy') noteRead(reader, meta, source(envelope), undefined, envelope, undefined, 1_000)
  return seen
}

t.test('a copy of the failed send read first: it is new, ends the note, and the send again is a copy, whatever the lanes remember', async (t) => {
  const again = resendOrigin()
  t.match(again, { lane: /^r:[A-Za-z0-9_-]{12}$/, pos: '0', i: 0, fence: '0' })
  const meta = emptyMeta()
  t.same(noteResend(meta, 'm1', first, again), { noting: 'noted', changed: true })
  const kept = decodeMeta(encodeMeta(meta))
  t.same(kept.resends?.length, 1, 'the note is kept with the item')
  t.equal(read(kept, copy(first)), 'new')
  t.equal(kept.resends, undefined, 'reading it ended the note')
  t.equal(read(kept, copy(first)), 'copy', 'a later copy of the failed send: the memory of lanes knows it')
  t.equal(read(kept, copy(again)), 'copy', 'the send again: no note, so a copy')
  delete kept.seen
  t.equal(read(kept, copy(again)), 'copy', 'still a copy once the lanes are forgotten')
  t.same(noteResend(kept, 'm1', again, again), { noting: 'gone', changed: false }, 'a replay again finds the note gone')
})

t.test('the send again read first: it is new, takes no room in the memory of lanes, and a late copy of the failed send is a copy', async (t) => {
  const again = resendOrigin()
  const meta = emptyMeta()
  noteResend(meta, 'm1', first, again)
  t.same(noteResend(meta, 'm1', again, again), { noting: 'noted', changed: false }, 'the note stands for a send again that fails too')
  t.equal(read(meta, copy(again, 'other')), 'copy', "another message's send again under that origin is no copy of this one's note")
  t.equal(read(meta, copy(again)), 'new')
  t.equal(meta.resends, undefined)
  t.notOk(Object.keys(meta.seen ?? {}).some((k) => k.includes('r:')), 'no lane of it is kept')
  t.equal(read(meta, copy(again)), 'copy')
  t.equal(read(meta, copy(first)), 'copy', 'a copy of the failed send that the stream took late')
})

t.test('a failed send whose copy the instance already read or refused: the replay is done, and nothing is noted', async (t) => {
  const meta = emptyMeta()
  t.equal(read(meta, copy(first)), 'new')
  t.same(noteResend(meta, 'm1', first, resendOrigin()), { noting: 'read', changed: false })
  const refusing = emptyMeta()
  const e = copy(first)
  noteRefused(refusing, source(e), undefined, e, undefined)
  t.same(noteResend(refusing, 'm1', first, resendOrigin()), { noting: 'read', changed: false }, 'refused for room: its letter keeps it')
  t.equal(refusing.resends, undefined)
})

t.test('a letter that died again and failed its replay again: the new note replaces the old one', async (t) => {
  const meta = emptyMeta()
  noteResend(meta, 'm1', first, resendOrigin())
  const later = resendOrigin()
  noteResend(meta, 'm1', { ...first, pos: '9', fence: '9' }, later)
  t.equal(meta.resends?.length, 1)
  t.equal(meta.resends?.[0]?.[2], `${later.lane}|0|0`)
})
