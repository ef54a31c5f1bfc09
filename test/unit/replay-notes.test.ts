// The note an instance keeps of a replay on its way (replay-notes.ts), and how a run reads a copy
// from a replay's lane (record-reads.ts): the pure logic, with no server. The whole path, with
// replays that stop part-way, is test/reliability/replay-in-doubt.test.ts.
import t from 'tap'
import { systemClock } from '../../lib/core/clock.js'
import { makeEnvelope, type Envelope, type Origin } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import type { DirectSource } from '../../lib/hosts/durable/durable-batch.js'
import { decodeMeta, emptyMeta, encodeMeta, type InstanceMeta } from '../../lib/hosts/durable/instance-meta.js'
import { noteRead, verdict } from '../../lib/hosts/durable/record-reads.js'
import { MAX_REPLAY_NOTES, noteReplay, replayOrigin, type ReplayRank } from '../../lib/hosts/durable/replay-notes.js'

const reader = { recentIds: 64, clock: systemClock }

function copy(origin: Origin, id = 'm1'): Envelope {
  const envelope = makeEnvelope({ id: id as MessageId, type: 'tally', key: 'a', body: {}, correlationId: 'c' as CorrelationId, sentAt: 0 })
  envelope.origin = origin
  return envelope
}
/** The first replay of a letter that died at 1,000: a fresh note. */
const fresh = (rank: ReplayRank = { deadAt: 1_000, gen: 1 }) => ({ resume: false as const, rank })
const look = { resume: true as const }
const source = (envelope: Envelope): DirectSource => ({ kind: 'direct', stream: 'in', envelope })
/** Reads a copy as a run does: its verdict, and what reading it leaves. */
function read(meta: InstanceMeta, envelope: Envelope): string {
  const seen = verdict(meta, source(envelope), undefined, envelope, undefined)
  if (seen === 'new' || seen === 'copy') noteRead(reader, meta, source(envelope), undefined, envelope, undefined, 1_000)
  return seen
}

t.test("a replay's copy is new while its note is kept, and a copy once reading it ended the note, however late", async (t) => {
  const origin = replayOrigin()
  t.match(origin, { lane: /^r:[A-Za-z0-9_-]{12}$/, pos: '0', i: 0, fence: '0' })
  const meta = emptyMeta()
  t.equal(read(meta, copy(origin)), 'copy', 'no note: a copy (its note ended, or it never was one)')
  t.equal(noteReplay(meta, 'm1', origin, fresh()), 'noted')
  const kept = decodeMeta(encodeMeta(meta))
  t.same(kept.replays, [['m1', origin.lane, 1_000, 1]], 'the note is kept with the item')
  t.equal(read(kept, copy(origin, 'm2')), 'copy', "another message's copy under that lane is no copy of this note's")
  t.equal(read(kept, copy(origin)), 'new')
  t.equal(kept.replays, undefined, 'reading it ended the note')
  t.notOk(Object.keys(kept.seen ?? {}).some((k) => k.includes('r:')), 'its lane takes no room in the memory of lanes')
  t.equal(read(kept, copy(origin)), 'copy', 'a later copy')
})

t.test('a replay that takes over from one that may have sent: it sends while the note stands, and nothing once it ended', async (t) => {
  const origin = replayOrigin()
  const meta = emptyMeta()
  t.equal(noteReplay(meta, 'm1', origin, look), 'gone', 'no note: the instance read it')
  t.equal(meta.replays, undefined, 'and looking writes none')
  noteReplay(meta, 'm1', origin, fresh())
  t.equal(noteReplay(meta, 'm1', origin, look), 'noted')
  t.same(meta.replays, [['m1', origin.lane, 1_000, 1]], 'the same note, once')
})

t.test('a replay of a letter sent nowhere drops the notes of its message by replays before it, and never one by a replay after it', async (t) => {
  const meta = emptyMeta()
  const stopped = [replayOrigin(), replayOrigin()]
  noteReplay(meta, 'm1', stopped[0]!, fresh({ deadAt: 1_000, gen: 1 }))
  meta.replays!.push(['m1', stopped[1]!.lane, 1_000, 2]) // a replay whose note was written while another took it over
  noteReplay(meta, 'other', replayOrigin(), fresh())
  const next = replayOrigin()
  t.equal(noteReplay(meta, 'm1', next, fresh({ deadAt: 1_000, gen: 3 })), 'noted')
  t.same(meta.replays?.map(([id]) => id), ['other', 'm1'])
  t.same(meta.replays?.[1], ['m1', next.lane, 1_000, 3])
  for (const o of stopped) t.equal(read(meta, copy(o)), 'copy', 'were one of them sent, it would be no copy to apply')

  const late = replayOrigin()
  t.equal(noteReplay(meta, 'm1', late, fresh({ deadAt: 1_000, gen: 2 })), 'outranked', 'a replay taken over that notes late undoes nothing')
  t.same(meta.replays?.[1], ['m1', next.lane, 1_000, 3])
  const newer = replayOrigin()
  t.equal(noteReplay(meta, 'm1', newer, fresh({ deadAt: 2_000, gen: 1 })), 'noted', 'the first replay of a newer letter of the message outranks them all')
  t.same(meta.replays?.[1], ['m1', newer.lane, 2_000, 1])
})

t.test('an item keeps at most 64 notes', async (t) => {
  const meta = emptyMeta()
  for (let n = 0; n < MAX_REPLAY_NOTES; n++) t.equal(noteReplay(meta, `m${n}`, replayOrigin(), fresh()), 'noted')
  t.equal(noteReplay(meta, 'one more', replayOrigin(), fresh()), 'full')
  t.equal(noteReplay(meta, 'm0', replayOrigin(), fresh({ deadAt: 1_000, gen: 2 })), 'noted', 'a message noted already takes its own place again')
  t.equal(meta.replays?.length, MAX_REPLAY_NOTES)
  t.equal(read(meta, copy(replayOrigin(), 'm1')), 'copy', 'a copy under another lane ends no note')
  t.equal(meta.replays?.length, MAX_REPLAY_NOTES)
  const [id, lane] = meta.replays![0]!
  t.equal(read(meta, copy({ lane, pos: '0', i: 0, fence: '0' }, id)), 'new', 'reading one')
  t.equal(noteReplay(meta, 'one more', replayOrigin(), fresh()), 'noted', 'makes room')
})
