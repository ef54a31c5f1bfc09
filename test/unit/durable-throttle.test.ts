// Which throttles the durable host can keep (a key's or a singleton's bucket in its item, a keyed
// type's rate in an item of the type's own), what it says about the others, the token math of a
// type's rate, and the bookkeeping a parked message leaves in its instance's item.
import t from 'tap'
import { Actor } from '../../lib/index.js'
import { ActorType } from '../../lib/turn/actor-type.js'
import { decodeMeta, emptyMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { instanceRate, typeWakeDelayMs, unappliedThrottle, wakeTimer, WAKE_GATHER_MS } from '../../lib/hosts/durable/instance-throttle.js'
import { dealTokens, floorAt, HeldTokens, HELD_TOKEN_MS, shareOf, tokenTimes } from '../../lib/hosts/durable/type-bucket.js'
import { typeRate } from '../../lib/hosts/durable/type-rates.js'
import { message } from '../transport/fixtures/kinesis.js'

const rate = { ratePerSecond: 2 }

class PerKey extends Actor<{ k: string }, void, { n: number }> {
  static readonly type = 'dt.perKey'
  static readonly policy = { throttlePerKey: rate }
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive() {}
}

class Single extends Actor<object, void, { n: number }> {
  static readonly type = 'dt.single'
  static readonly policy = { throttle: rate }
  initialState() {
    return { n: 0 }
  }
  receive() {}
}

class WholeTypeKeyed extends Actor<{ k: string }, void, { n: number }> {
  static readonly type = 'dt.wholeTypeKeyed'
  static readonly policy = { throttle: rate }
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { n: 0 }
  }
  receive() {}
}

class Stateless extends Actor<object> {
  static readonly type = 'dt.stateless'
  static readonly policy = { throttle: rate }
  receive() {}
}

class KeyedNoState extends Actor<{ k: string }> {
  static readonly type = 'dt.keyedNoState'
  static readonly policy = { throttlePerKey: rate }
  key(m: { k: string }) {
    return m.k
  }
  receive() {}
}

class KeyedNoStateTyped extends Actor<{ k: string }> {
  static readonly type = 'dt.keyedNoStateTyped'
  static readonly policy = { throttle: rate }
  key(m: { k: string }) {
    return m.k
  }
  receive() {}
}

t.test('a bucket with an item to live in is kept; the others are named in a warning', async (t) => {
  const full = { ratePerSecond: 2, burst: 2 }
  t.same(instanceRate(new ActorType(PerKey)), full, 'per key: the key’s item')
  t.same(instanceRate(new ActorType(Single)), full, 'a singleton’s type throttle: its one item')
  t.equal(typeRate(new ActorType(Single)), undefined, 'not the type’s own item')
  t.equal(instanceRate(new ActorType(WholeTypeKeyed)), undefined)
  t.same(typeRate(new ActorType(WholeTypeKeyed)), full, 'a keyed type’s throttle: an item of the type’s own')
  t.equal(instanceRate(new ActorType(Stateless)), undefined)
  t.same(typeRate(new ActorType(Stateless)), full, 'a stateless type’s throttle: the same, its waiting messages in items of their own')
  for (const cls of [PerKey, Single, WholeTypeKeyed, Stateless]) t.equal(unappliedThrottle(new ActorType(cls)), undefined, `${cls.type}: applied`)
  t.equal(typeRate(new ActorType(KeyedNoStateTyped)), undefined)
  t.match(unappliedThrottle(new ActorType(KeyedNoStateTyped)), /^dt\.keyedNoStateTyped\.policy\.throttle .*not applied on AWS to a keyed actor without state/)
  t.equal(instanceRate(new ActorType(KeyedNoState)), undefined)
  t.match(unappliedThrottle(new ActorType(KeyedNoState)), /^dt\.keyedNoState\.policy\.throttlePerKey is not applied on AWS.*initialState/)
})

t.test('parked messages, the bucket and the wake-up survive the item’s encoding; an empty list is dropped', async (t) => {
  const meta = emptyMeta()
  const parked = [message(PerKey.type, 'a', { k: 'a' }), message(PerKey.type, 'a', { k: 'a' })]
  meta.parked = parked
  meta.bucket = { tokens: 0.5, at: 1_000 }
  const timer = wakeTimer(PerKey.type, 'a', parked[0]!, 7, 1_500)
  meta.wake = { id: timer.id, dueAt: timer.dueAt }
  const back = decodeMeta(encodeMeta(meta))
  t.same(back.parked?.map((e) => e.id), parked.map((e) => e.id))
  t.same(back.bucket, meta.bucket)
  t.same(back.wake, meta.wake)
  t.equal(decodeMeta(encodeMeta({ ...emptyMeta(), parked: [] })).parked, undefined)
  t.not(wakeTimer(PerKey.type, 'a', parked[0]!, 8, 1_500).id, timer.id, 'a later commit’s wake-up is a new timer')
  t.equal(wakeTimer(PerKey.type, 'a', parked[0]!, 7, 1_500).id, timer.id, 'a re-sent outbox puts the same one')
})

t.test('a type’s tokens: earned one period apart after the clock, the burst below now', async (t) => {
  const rate = { ratePerSecond: 4, burst: 3 }
  t.equal(floorAt(rate, 10_000), 9_250, 'a full bucket’s clock: burst periods before now')
  t.same(tokenTimes(rate, 9_250, 5), [9_500, 9_750, 10_000, 10_250, 10_500], 'from a full bucket: three now, then one each 250 ms')
  t.equal(shareOf(rate), 3, 'a key takes at most its burst at a time')
  t.equal(shareOf({ ratePerSecond: 0.5, burst: 1 }), 1)
  t.equal(shareOf({ ratePerSecond: 10, burst: 2.5 }), 3)
})

t.test('claimed tokens are dealt the smallest ask first, each ask’s tokens together', async (t) => {
  const times = [1, 2, 3, 4, 5, 6, 7, 8]
  t.same(dealTokens([5, 1, 2], times), [[4, 5, 6, 7, 8], [1], [2, 3]], 'the key with little waiting is served first')
  t.same(dealTokens([2, 3, 2], [1, 2, 3, 4, 5, 6, 7]), [[1, 2], [5, 6, 7], [3, 4]], 'equal asks in their order')
  t.same(dealTokens([0, 2, 0], [1, 2]), [[], [1, 2], []])
  t.same(dealTokens([], []), [])
})

t.test('held tokens: used earliest first, each from when it is earned; kept while something waits', async (t) => {
  const held = new HeldTokens([300, 100], [200])
  t.equal(held.size, 3)
  t.equal(held.waitMs(50), 50, 'the first is earned at 100')
  t.equal(held.waitMs(100), 0)
  held.take()
  t.equal(held.waitMs(150), 50, 'then the one at 200')
  t.equal(held.lastAt(), 300)
  t.same(held.keep(250, true), [200, 300], 'with messages waiting, the earned ones are kept too')
  t.same(held.keep(250, false), [300], 'with none, only those still to come: the key’s place in line')
  t.same(new HeldTokens([1_000]).keep(1_000 + HELD_TOKEN_MS, true), undefined, 'a token left unused too long is dropped')
  t.equal(new HeldTokens(undefined).waitMs(0), undefined, 'none held')
})

t.test('a key waiting for its type’s tokens wakes when the next is earned, or a little later for the rest', async (t) => {
  const rate = { ratePerSecond: 10, burst: 10 }
  t.equal(typeWakeDelayMs(new HeldTokens([1_100, 1_200, 1_300]), undefined, rate, 1_000), 300, 'all three within the gathering time')
  t.equal(typeWakeDelayMs(new HeldTokens([1_100, 5_000]), undefined, rate, 1_000), 100 + WAKE_GATHER_MS, 'not past the gathering time')
  t.equal(typeWakeDelayMs(new HeldTokens(undefined), 1_400, rate, 1_000), 400, 'holding none: when the bucket has one again')
  t.equal(typeWakeDelayMs(new HeldTokens(undefined), undefined, rate, 1_000), 100, 'not knowing: one period')
})

t.test('tokens a key holds survive the item’s encoding', async (t) => {
  t.same(decodeMeta(encodeMeta({ ...emptyMeta(), typeTokens: [1.5, 2] })).typeTokens, [1.5, 2])
  t.equal(decodeMeta(encodeMeta({ ...emptyMeta(), typeTokens: [] })).typeTokens, undefined)
})
