// What a receiver remembers of each lane (lane-memory.ts), positions, a process's lane, and the
// origin on the wire: the pure logic of "applied once", with no server.
import t from 'tap'
import type { Origin } from '../../lib/core/envelope.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { comparePosition, positionOf, POSITION } from '../../lib/core/position.js'
import { encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { forgetSilent, hasRoomFor, LANE_MEMORY_BUDGET, laneMemoryBytes, markGrowth, markSeen, raiseFence, sameStream, seenBefore, type SeenLanes } from '../../lib/hosts/durable/lane-memory.js'
import { STATELESS_SEEN, StatelessMemory } from '../../lib/hosts/durable/stateless-memory.js'
import { MemoryStateStore } from '../../lib/store/memory.js'
import { ProcessLane } from '../../lib/hosts/durable/process-lane.js'
import { BatchProgress } from '../../lib/hosts/durable/batch-progress.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'

const o = (pos: string, i: number, fence: string, lane = 's:in/shard-0'): Origin => ({ lane, pos, i, fence })

t.test('positions compare as numbers, a member after its record', async (t) => {
  t.ok(comparePosition('99', '100') < 0)
  t.ok(comparePosition('100', '100:1') < 0)
  t.equal(comparePosition('100', '100:0'), 0, "a record's position is its member 0's")
  t.ok(comparePosition('100:9', '100:10') < 0, 'members compare as numbers')
  t.ok(comparePosition('100:999', '101') < 0)
  t.equal(positionOf('7'), '7')
  t.equal(positionOf('7', 0), '7')
  t.equal(positionOf('7', 3), '7:3')
  for (const good of ['0', '5', '49590338271490256608559692538361571095921575989136588898', '12:0', '12:4']) t.ok(POSITION.test(good), good)
  for (const bad of ['', '-1', '01', '1.5', '1:', ':1', '1:2:3', 'x', '1'.repeat(129)]) t.notOk(POSITION.test(bad), JSON.stringify(bad))
})

t.test('a copy is known at any distance: below the fence, or at a position seen up to its index', async (t) => {
  let seen: SeenLanes | undefined
  t.notOk(seenBefore(seen, 'in', o('10', 0, '10')))
  seen = markSeen(seen, 'in', o('10', 0, '10'), undefined)
  seen = markSeen(seen, 'in', o('10', 1, '10'), undefined)
  seen = markSeen(seen, 'in', o('12', 0, '10'), undefined)
  t.ok(seenBefore(seen, 'in', o('10', 0, '3')), 'a copy, whatever fence it carries')
  t.ok(seenBefore(seen, 'in', o('10', 1, '10')))
  t.notOk(seenBefore(seen, 'in', o('10', 2, '10')), 'the next message of the same turn is new')
  seen = markSeen(seen, 'in', o('10', 5, '10'), undefined)
  t.notOk(seenBefore(seen, 'in', o('10', 3, '10')), 'an index never seen is new, even below one that was (a record may overtake)')
  t.notOk(seenBefore(seen, 'in', o('11', 0, '10')), 'a position between is new')
  t.notOk(seenBefore(seen, 'other', o('10', 0, '10')), 'each stream has its own memory')
  t.notOk(seenBefore(seen, 'in', o('10', 0, '10', 'p:x')), 'and each lane')
  // Ten thousand turns of the same lane later, the first one's copy is still known: below the fence.
  for (let pos = 13; pos < 10_013; pos++) seen = markSeen(seen, 'in', o(String(pos), 0, String(pos - 1)), undefined)
  t.ok(seenBefore(seen, 'in', o('10', 0, '10')), 'known after 10,000 others')
  t.ok(seenBefore(seen, 'in', o('12', 0, '10')))
  t.equal(seen['in|s:in/shard-0']!.d.length, 2, 'while only the positions at or above the fence are kept')
  t.equal(seen['in|s:in/shard-0']!.f, '10011')
})

t.test('a lower fence never lowers what is known', async (t) => {
  let seen = markSeen(undefined, 'in', o('50', 0, '40'), undefined)
  seen = markSeen(seen, 'in', o('45', 0, '20'), undefined)
  t.equal(seen['in|s:in/shard-0']!.f, '40')
  t.ok(seenBefore(seen, 'in', o('30', 0, '20')))
})

t.test('a silent lane is forgotten only after its horizon, judged by arrivals through the same stream', async (t) => {
  const horizons = { processMs: 1_000, shardMs: 5_000 }
  let seen = markSeen(undefined, 'in', o('1', 0, '0', 'p:a'), 100)
  seen = markSeen(seen, 'in', o('1', 0, '0'), 100)
  seen = markSeen(seen, 'other', o('1', 0, '0', 'p:a'), 100)
  t.notOk(forgetSilent(seen, 'in', 1_100, horizons), 'not yet')
  t.ok(forgetSilent(seen, 'in', 1_101, horizons), 'the process lane after its horizon')
  t.same(Object.keys(seen).sort(), ['in|s:in/shard-0', 'other|p:a'], "the shard lane stays, and another stream's memory is not touched")
  t.ok(forgetSilent(seen, 'in', 5_101, horizons))
  t.same(Object.keys(seen), ['other|p:a'])
  const direct = markSeen(undefined, 'in', o('1', 0, '0', 'p:a'), undefined)
  t.notOk(forgetSilent(direct, 'in', 1e12, horizons), 'a lane seen without an arrival time is kept')
})

t.test('shard lanes of one stream, and the stateless decisions made in stream order', async (t) => {
  t.ok(sameStream('s:in/shardId-000000000001', 's:in/shardId-000000000004'))
  t.notOk(sameStream('s:in/shardId-1', 's:out/shardId-1'))
  t.notOk(sameStream('p:x', 's:in/shardId-1'))
  const seen = markSeen(undefined, 'in', o('5', 0, '5'), undefined)
  const state = new MemoryStateStore()
  const stored = { state: '{"json":null}', version: 1, updatedAt: 0, meta: encodeMeta({ marks: {}, recent: [], seen }) }
  await state.put(STATELESS_SEEN, 'in/shard-0', stored, undefined)
  const memory = new StatelessMemory(state, 'in', 'in/shard-0', stored, { processMs: 1, shardMs: 1 }, () => 0, undefined)
  const env = (origin?: Origin) => ({ ...(origin ? { origin } : {}) })
  t.ok(memory.decide(env(o('5', 0, '5'))), 'a copy of one run before')
  t.notOk(memory.changed)
  t.notOk(memory.decide(env(o('7', 0, '6'))), 'new')
  t.ok(memory.decide(env(o('7', 0, '7'))), 'its copy later in the same batch')
  t.notOk(memory.decide(env()), 'a message without an origin always runs')
  t.ok(memory.changed)
  t.same(seen['in|s:in/shard-0']!.d, [['5', [0, 0]]], 'the stored memory is not touched by the decisions')
  t.ok(await memory.keep([{ origin: o('7', 0, '6') }], true), 'kept after the batch')
  const after = new StatelessMemory(state, 'in', 'in/shard-0', await state.get(STATELESS_SEEN, 'in/shard-0'), { processMs: 1, shardMs: 1 }, () => 0, undefined)
  t.ok(after.decide(env(o('7', 0, '7'))), 'the next batch knows it')
})

t.test("a shard's memory says it is parking stateless messages until a batch finishes whole", async (t) => {
  const state = new MemoryStateStore()
  const load = async () => new StatelessMemory(state, 'in', 'in/shard-0', await state.get(STATELESS_SEEN, 'in/shard-0'), { processMs: 1, shardMs: 1 }, () => 0, undefined)
  const first = await load()
  t.notOk(first.parking)
  await first.markParking()
  await first.markParking()
  t.equal((await state.get(STATELESS_SEEN, 'in/shard-0'))?.version, 1, 'said once')
  t.ok((await load()).parking, 'the next batch (a redelivery after a crash) hears it')
  const second = await load()
  second.decide({ origin: o('9', 0, '9') })
  t.ok(await second.keep([{ origin: o('9', 0, '9') }], false), 'a batch that did not finish whole')
  t.ok((await load()).parking, 'leaves it said')
  const third = await load()
  t.ok(await third.keep([], true), 'a batch that finished whole')
  t.notOk((await load()).parking, 'takes it back, even with nothing new to keep')
})

t.test("a process's lane: the fence is the lowest position not settled", async (t) => {
  const lane = new ProcessLane()
  t.match(lane.lane, /^p:[A-Za-z0-9_-]{12}$/)
  t.equal(lane.fence(), '0')
  const a = lane.take()
  const b = lane.take()
  const c = lane.take()
  t.same(lane.origin(b), { lane: lane.lane, pos: '1', i: 0, fence: '0' })
  lane.settle(b)
  t.equal(lane.fence(), '0', 'a still open')
  lane.settle(a)
  t.equal(lane.fence(), '2')
  lane.settle(c)
  t.equal(lane.fence(), '3', 'all settled: the next position')
  const e = makeEnvelope({ id: 'm' as MessageId, type: 'x', key: '', body: 1, correlationId: 'm' as CorrelationId, sentAt: 1 })
  const pos = lane.stamp(e)
  t.same(e.origin, { lane: lane.lane, pos: String(pos), i: 0, fence: String(pos) })
})

t.test('the origin travels as a list and is checked on the way in', async (t) => {
  const codec = new RecordCodec()
  const e = makeEnvelope({ id: 'm' as MessageId, type: 'x', key: '', body: 1, correlationId: 'm' as CorrelationId, sentAt: 1 })
  e.origin = o('49590338271490256608559692538361571095921575989136588898:3', 7, '49590338271490256608559692538361571095921575989136588800')
  const data = codec.encode(e)
  t.match(data.toString(), /"origin":\["s:in\/shard-0","49590338271490256608559692538361571095921575989136588898:3",7,"49590338271490256608559692538361571095921575989136588800"\]/)
  const back = codec.decode(data)
  t.ok(back.ok)
  if (back.ok) t.same(back.envelope.origin, e.origin)
  const bad = (origin: unknown) => {
    const text = data.toString().replace(/"origin":\[[^\]]*\]/, `"origin":${JSON.stringify(origin)}`)
    const r = codec.decode(Buffer.from(text))
    return r.ok ? 'accepted' : r.reason
  }
  t.match(bad({ lane: 'x', pos: '1', i: 0, fence: '1' }), /"origin" must be the list \[lane, pos, i, fence\]/)
  t.match(bad(['', '1', 0, '1']), /lane must be 1 to 256 letters, digits or "_", ".", ":", "\/", "-"/)
  for (const lane of ['s:\u0001/0', 's:流/0', 's:a"b/0', 's:a\\b/0', 'p:a b', 's:' + 'x'.repeat(255)]) t.match(bad([lane, '1', 0, '1']), /lane must be 1 to 256/, `lane ${JSON.stringify(lane)} refused`)
  t.equal(bad(['s:orders.v2/shardId-000000000001', '1', 0, '1']), 'accepted', 'a shard lane')
  t.equal(bad(['p:V1StGXR8_Z5j', '1', 0, '1']), 'accepted', "a process lane (nanoid's alphabet)")
  t.match(bad(['x', '01', 0, '1']), /position must be a decimal number/)
  t.match(bad(['x', '1', -1, '1']), /index must be a whole number/)
  t.match(bad(['x', '1', 0, 'one']), /fence must be a decimal number/)
  t.match(bad(['x', '5', 0, '6']), /fence 6 is after its position 5/)
  t.match(bad(['x', '5:1', 0, '5:2']), /fence 5:2 is after its position 5:1/)
  t.equal(bad(['x', '5:2', 0, '5']), 'accepted', 'a fence at the record of a member is before it')
  t.throws(() => codec.encode({ ...e, origin: { lane: 'x', pos: 'nope', i: 0, fence: '1' } }), /position must be a decimal number/)
})

t.test('a memory kept exactly: the messages of one position come in any order, and only those seen are copies', async (t) => {
  let seen: SeenLanes | undefined
  const order = [700, 3, 4, 702, 5, 0, 701, 2, 1, 9_999]
  for (const i of order) {
    t.notOk(seenBefore(seen, 'in', o('10', i, '10')), `index ${i} is new when it first comes`)
    seen = markSeen(seen, 'in', o('10', i, '10'), undefined)
    t.ok(seenBefore(seen, 'in', o('10', i, '10')), `and a copy after`)
  }
  t.same(seen!['in|s:in/shard-0']!.d, [['10', [0, 5, 700, 702, 9_999, 9_999]]], 'kept as merged ranges')
  for (const i of [6, 699, 703, 9_998]) t.notOk(seenBefore(seen, 'in', o('10', i, '10')), `index ${i}, never seen, is new`)
  // An item written when the highest index was kept reads as every index up to it.
  const old: SeenLanes = { 'in|s:in/shard-0': { f: '20', d: [['20', 3]] } }
  t.ok(seenBefore(old, 'in', o('20', 2, '20')))
  const mixed = markSeen(old, 'in', o('20', 8, '20'), undefined)
  t.same(mixed['in|s:in/shard-0']!.d, [['20', [0, 3, 8, 8]]])
})

t.test("a process lane's positions are kept as ranges: the same answers as a plain list, in a few numbers", async (t) => {
  // A plain model: every (position, index) seen at or above the highest fence.
  const model = { fence: 0, seen: new Set<string>() }
  let seen: SeenLanes | undefined
  const wrong: string[] = []
  let checked = 0
  let random = 7
  const next = (n: number) => ((random = (random * 1_103_515_245 + 12_345) % 2_147_483_648), random % n)
  const check = (pos: number, i: number, fence: number) => {
    const origin = o(String(pos), i, String(fence), 'p:x')
    const expected = pos < model.fence || model.seen.has(`${pos}/${i}`)
    checked++
    if (seenBefore(seen, 'in', origin) !== expected) wrong.push(`${pos}#${i} with fence ${fence}: ${expected ? 'a copy' : 'new'} taken for ${expected ? 'new' : 'a copy'}`)
    seen = markSeen(seen, 'in', origin, undefined)
    if (fence > model.fence) {
      model.fence = fence
      for (const k of model.seen) if (Number(k.split('/')[0]) < fence) model.seen.delete(k)
    }
    if (pos >= model.fence) model.seen.add(`${pos}/${i}`)
  }
  // Bursts of tells put before any settles (one fence for the burst), then a later fence; now and
  // then a copy, a position out of order, or a second index at one position (a replayed record).
  let pos = 0
  for (let burst = 0; burst < 40; burst++) {
    const fence = Math.max(0, pos - next(30))
    for (let k = 0; k < 50; k++) {
      const roll = next(10)
      if (roll === 0 && pos > 0) check(Math.max(0, pos - 1 - next(60)), 0, fence)
      else if (roll === 1) check(pos + next(5), 0, fence)
      else if (roll === 2 && pos > 0) check(pos - 1, 1 + next(3), fence)
      else check(pos++, 0, fence)
    }
  }
  t.equal(checked, 2_000)
  t.same(wrong, [], 'every answer as the plain list gives it')
  const lane = seen!['in|p:x']!
  t.ok(lane.r!.length < 200, `kept in ${lane.r!.length} numbers and ${lane.d.length} listed positions`)
  const twice = lane.d.filter(([p]) => lane.r!.some((_, k) => k % 2 === 0 && Number(p) >= lane.r![k]! && Number(p) <= lane.r![k + 1]!))
  t.same(twice, [], 'a position with a second index is listed, not ranged')

  // A burst of 20,000 tells with one fence: two numbers, not 20,000 positions.
  let burst: SeenLanes | undefined
  for (let p = 0; p < 20_000; p++) burst = markSeen(burst, 'in', o(String(p), 0, '0', 'p:y'), undefined)
  t.same(burst!['in|p:y'], { f: '0', d: [], r: [0, 19_999] })
  t.ok(seenBefore(burst, 'in', o('12345', 0, '0', 'p:y')))
  t.notOk(seenBefore(burst, 'in', o('12345', 1, '0', 'p:y')), 'another index at a ranged position is new')
  t.notOk(seenBefore(burst, 'in', o('20000', 0, '0', 'p:y')))
  burst = markSeen(burst, 'in', o('20000', 0, '15000:1', 'p:y'), undefined)
  t.same(burst!['in|p:y']!.r, [15_001, 20_000], 'a fence at a member of 15000 is past 15000')
  t.ok(seenBefore(burst, 'in', o('15000', 0, '0', 'p:y')), 'below the fence')
  t.ok(Buffer.byteLength(encodeMeta({ marks: {}, recent: [], seen: burst })) < 200, 'the item stays small')
})

t.test("a batch's fence rises as its groups are done, to the first group still running", async (t) => {
  const p = new BatchProgress('100', ['100', '105', '103:2', '110'])
  t.equal(p.fence(), '100', 'nothing done: the batch start')
  p.done('103:2')
  t.equal(p.fence(), '100', 'a later group done first: still the earliest running one')
  p.done('100')
  t.equal(p.fence(), '105')
  p.done('105')
  p.done('110')
  t.equal(p.fence(), '110', 'all done: the last group start (nothing is sent after it)')
  p.done('999')
  t.equal(p.fence(), '110', 'an unknown group changes nothing')
})

t.test("the memory of lanes is measured as it is written, and takes a lane it does not know only under its bound", async (t) => {
  let seen: SeenLanes | undefined
  const seq = (n: number) => `4959033827149025660855969253836157109592157598913658${String(n).padStart(4, '0')}`
  for (let k = 0; k < 300; k++) {
    // Shard lanes with 56-digit positions and several kept, process lanes with ranges, members.
    if (k % 3 === 0) for (let g = 0; g < 5; g++) seen = markSeen(seen, 'in', o(seq(k * 10 + g), g, seq(k * 10), `s:up/shardId-${String(k).padStart(12, '0')}`), 1_700_000_000_000 + k)
    else if (k % 3 === 1) for (let n = 1; n < 40; n += k % 2 ? 1 : 3) seen = markSeen(seen, 'in', o(String(n), 0, '1', `p:${String(k).padStart(12, 'q')}`), 1_700_000_000_000)
    else seen = markSeen(seen, 'in', o(`${seq(k)}:${k}`, 0, seq(k), `s:other/shardId-${k}`), undefined)
    const written = Buffer.byteLength(JSON.stringify(seen))
    const measured = laneMemoryBytes(seen)
    if (measured < written || measured > 1.05 * written) t.fail(`after ${k + 1} lanes: measured ${measured} bytes, written ${written}`)
  }
  t.ok(laneMemoryBytes(seen) > 30_000, 'the sample is large enough to mean something')

  const full = laneMemoryBytes(seen)
  const known = o('99', 0, '99', `p:${'1'.padStart(12, 'q')}`)
  const stranger = o('99', 0, '99', 'p:stranger')
  t.ok(hasRoomFor(seen, 'in', stranger), 'room under the bound')
  t.notOk(hasRoomFor(seen, 'in', stranger, full), 'no room for a new lane at the bound')
  const lane = seen![`in|${known.lane}`]!
  t.notOk(hasRoomFor(seen, 'in', { ...known, pos: '1000', fence: lane.f }, full), 'a new position of a known lane needs room too')
  t.ok(hasRoomFor(seen, 'in', { ...known, pos: '1000', fence: lane.f }, full + 64), 'and is taken, with room for it')
  t.notOk(hasRoomFor(seen, 'other-stream', known, full), 'a lane is known per stream')
  t.ok(hasRoomFor(undefined, 'in', stranger, 0), 'an empty memory takes any lane')
  t.equal(LANE_MEMORY_BUDGET, 192 * 1024)
})

t.test('a rising fence makes room with what it drops, and only with that', async (t) => {
  let seen: SeenLanes | undefined
  for (let p = 1; p <= 5; p++) seen = markSeen(seen, 'in', o(`${p}00`, 0, '100', 's:a/0'), 1)
  const size = laneMemoryBytes(seen)
  const past = o('1000', 0, '1000', 's:a/0')
  t.notOk(hasRoomFor(seen, 'in', past, size), 'before its fence is raised, a new position needs room')
  raiseFence(seen, 'in', past)
  t.same(seen!['in|s:a/0']!.d, [], 'raised past every position kept, it drops them')
  t.ok(laneMemoryBytes(seen) < size, 'and the memory is smaller')
  t.ok(hasRoomFor(seen, 'in', past, size), 'what it dropped makes the room')
  seen = markSeen(seen, 'in', past, 1)
  // A fence raised over nothing kept (made up to rise at every message) frees nothing.
  const now = laneMemoryBytes(seen)
  const over = o('1000000', 0, '1001', 's:a/0')
  raiseFence(seen, 'in', over)
  t.equal(laneMemoryBytes(seen) <= now, true)
  t.notOk(hasRoomFor(seen, 'in', over, laneMemoryBytes(seen)), 'a fence that drops nothing makes no room')
  t.ok(seenBefore(seen, 'in', o('1000', 0, '1000', 's:a/0')), 'and what was below it is a copy')
})

t.test("a shard's memory of stateless messages forgets lanes silent past their horizon, and so has room again", async (t) => {
  const state = new MemoryStateStore()
  const horizons = { processMs: 60_000, shardMs: 60_000 }
  let seen: SeenLanes | undefined
  for (let n = 0; laneMemoryBytes(seen) < LANE_MEMORY_BUDGET - 300; n++) seen = markSeen(seen, 'in', o('5', 0, '5', `s:${'x'.repeat(200)}/${n}`), 1_000)
  await state.put(STATELESS_SEEN, 'in/shardId-0', { state: '{"json":null}', version: 1, updatedAt: 0, meta: encodeMeta({ marks: {}, recent: [], seen }) }, undefined)
  const stored = await state.get(STATELESS_SEEN, 'in/shardId-0')
  const stranger = o('5', 0, '5', `s:${'y'.repeat(200)}/0`)
  const full = new StatelessMemory(state, 'in', 'in/shardId-0', stored, horizons, () => 1, 1_000 + horizons.shardMs)
  full.decide({ origin: stranger })
  t.equal(full.unremembered, 1, 'within the horizon, the memory is full')
  const later = new StatelessMemory(state, 'in', 'in/shardId-0', stored, horizons, () => 1, 1_000 + horizons.shardMs + 1)
  later.decide({ origin: stranger })
  t.equal(later.unremembered, 0, 'past it, the silent lanes are forgotten and the stranger is remembered')
  t.ok(await later.keep([], true), 'the memory is written though nothing else changed')
  t.ok(Buffer.byteLength((await state.get(STATELESS_SEEN, 'in/shardId-0'))!.meta ?? '') < 1_000, 'without the silent lanes')
})

t.test("a shard's memory of stateless messages runs a message from a lane it has no room for, without keeping its lane", async (t) => {
  const state = new MemoryStateStore()
  const horizons = { processMs: 60_000, shardMs: 60_000 }
  const memory = new StatelessMemory(state, 'in', 'in/shardId-0', undefined, horizons, () => 1, undefined)
  // Lanes with long names, until the first one there is no room for.
  const flood: Origin[] = []
  while (memory.unremembered === 0 && flood.length < 10_000) {
    const origin = o('5', 0, '5', `s:${'x'.repeat(200)}/${flood.length}`)
    flood.push(origin)
    if (memory.decide({ origin })) t.fail(`lane ${flood.length} taken for a copy`)
  }
  t.ok(flood.length > 500 && flood.length < 1_000, `the bound reached after ${flood.length - 1} lanes of about 270 bytes`)
  memory.unremembered = 0
  // A lane as long as the one refused: no room for it either.
  const stranger = o('5', 0, '5', `s:${'y'.repeat(200)}/0`)
  t.notOk(memory.decide({ origin: stranger }), 'the stranger runs')
  t.notOk(memory.decide({ origin: stranger }), 'and its copy runs again: at least once')
  t.equal(memory.unremembered, 2)
  t.ok(await memory.keep([...flood, stranger].map((origin) => ({ origin })), true), 'the memory is written')
  const item = await state.get(STATELESS_SEEN, 'in/shardId-0')
  t.notOk(item?.meta?.includes('yyyy'), 'without the stranger')
  t.ok(item?.meta?.includes(`${'x'.repeat(200)}/0`), 'with the lanes it had room for')
})

t.test('what a mark adds is never more than hasRoomFor counts for it', async (t) => {
  // Marks of every shape: new lanes of both kinds, positions in and out of order, second indexes
  // at a process position, copies, rising fences.
  let seen: SeenLanes | undefined = markSeen(undefined, 'in', o('1', 0, '1', 'p:seed'), 1)
  let random = 11
  const next = (n: number) => ((random = (random * 1_103_515_245 + 12_345) % 2_147_483_648), random % n)
  const fences = new Map<string, number>()
  const wrong: string[] = []
  const sequence = (n: number) => `49590338271490256608559692538361571095921575989136${String(n).padStart(6, '0')}`
  for (let k = 0; k < 4_000; k++) {
    const shard = next(3) === 0
    const lane = shard ? `s:up/shardId-${String(next(40)).padStart(12, '0')}` : `p:${String(next(60)).padStart(12, 'q')}`
    const fence = (fences.get(lane) ?? 1) + (next(10) === 0 ? next(50) : 0)
    fences.set(lane, fence)
    const pos = fence + next(200)
    const origin = o(shard ? sequence(pos) : String(pos), next(5) === 0 ? next(3) : 0, shard ? sequence(fence) : String(fence), lane)
    raiseFence(seen, 'in', origin)
    const before = laneMemoryBytes(seen)
    const counted = markGrowth(seen, 'in', origin)
    seen = markSeen(seen, 'in', origin, 1_700_000_000_000 + k)
    const added = laneMemoryBytes(seen) - before
    if (added > counted) wrong.push(`${JSON.stringify(origin)}: added ${added}, counted ${counted}`)
  }
  t.same(wrong.slice(0, 5), [], 'no mark added more than was counted')
  t.ok(Object.keys(seen!).length >= 20, `over many lanes (${Object.keys(seen!).length})`)
})
