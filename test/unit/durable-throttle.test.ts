// Which throttles the durable host can keep (those whose bucket has an item of its own), what it
// says about the others, and the bookkeeping a parked message leaves in its instance's item.
import t from 'tap'
import { Actor } from '../../lib/index.js'
import { ActorType } from '../../lib/turn/actor-type.js'
import { decodeMeta, emptyMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { instanceRate, unappliedThrottle, wakeTimer } from '../../lib/hosts/durable/instance-throttle.js'
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

t.test('a bucket with an item of its own is kept; the others are named in a warning', async (t) => {
  const full = { ratePerSecond: 2, burst: 2 }
  t.same(instanceRate(new ActorType(PerKey)), full, 'per key: the key’s item')
  t.same(instanceRate(new ActorType(Single)), full, 'a singleton’s type throttle: its one item')
  t.equal(unappliedThrottle(new ActorType(PerKey)), undefined)
  t.equal(unappliedThrottle(new ActorType(Single)), undefined)
  for (const cls of [WholeTypeKeyed, Stateless]) {
    t.equal(instanceRate(new ActorType(cls)), undefined)
    t.match(unappliedThrottle(new ActorType(cls)), new RegExp(`^${cls.type}\\.policy\\.throttle .*not applied on AWS`))
  }
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
