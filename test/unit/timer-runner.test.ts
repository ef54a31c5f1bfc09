// The timer runner, on a simulated clock: its lifecycle (a stop while the store is still being
// read must leave no timer armed: it would keep the process alive until the next timer is due),
// and its lanes.
import t from 'tap'
import { createLogger } from '../../lib/core/logger.js'
import { TimerRunner } from '../../lib/hosts/embedded/timer-runner.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import type { TimerRecord } from '../../lib/store/index.js'
import type { Envelope } from '../../lib/core/envelope.js'
import { timerLanes } from '../../lib/aws/aws-timers.js'
import { encode } from '../../lib/core/serialization.js'
import { wakeTimer } from '../../lib/hosts/durable/instance-throttle.js'

t.test('a stop during a read of the store arms nothing afterwards', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  store.put({ id: 'later', target: 'x', body: '{"json":1}', dueAt: clock.now() + 600_000, correlationId: 'c', fired: 0 })
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const slow = Object.assign(Object.create(store) as MemoryTimerStore, {
    next: async () => {
      await gate
      return store.next()
    },
  })
  const runner = new TimerRunner(clock, slow, () => {}, createLogger('error'))
  runner.start()
  const stopped = runner.stop()
  release()
  await stopped
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  t.equal(clock.pending, 0, 'no timer is left armed')
})

t.test('a runner that was never started fires only when asked', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  const fired: string[] = []
  store.put({ id: 'due', target: 'x', body: '{"json":1}', dueAt: clock.now(), correlationId: 'c', fired: 0 })
  const runner = new TimerRunner(clock, store, (timer) => void fired.push(timer.id), createLogger('error'))
  runner.notify(clock.now())
  t.equal(clock.pending, 0, 'notify arms nothing on a runner that was not started')
  await runner.fireDue()
  t.same(fired, ['due'])
  t.same(store.list(), [], 'a one-shot timer is gone once fired')
  t.equal(clock.pending, 0, 'and nothing is armed after')
})

// Lanes: a store-bound firing (a throttle's wake-up) one at a time would cap a tick's wake-ups a
// second at one over its round trips; lanes fire side by side, each lane in due order.
function dueTimer(clock: SimulatedClock, id: string, target: string, after = 0) {
  return { id, target, body: '{"json":1}', dueAt: clock.now() - 1_000 + after, correlationId: 'c', fired: 0 }
}

t.test('lanes fire side by side up to atOnce, each lane in due order', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  for (const [id, lane, after] of [['a1', 'a', 0], ['b1', 'b', 1], ['a2', 'a', 2], ['c1', 'c', 3]] as const) store.put(dueTimer(clock, id, lane, after))
  const started: string[] = []
  const finish = new Map<string, () => void>()
  let inFlight = 0
  let most = 0
  const fire = (timer: TimerRecord) => {
    started.push(timer.id)
    most = Math.max(most, ++inFlight)
    return new Promise<void>((resolve) => finish.set(timer.id, () => (inFlight--, resolve())))
  }
  const runner = new TimerRunner(clock, store, fire, createLogger('error'), { of: (timer) => timer.target, atOnce: 2 })
  const run = runner.fireDue()
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  await settle()
  t.same(started, ['a1', 'b1'], 'the first two lanes start, each with its earliest timer')
  finish.get('b1')!()
  await settle()
  t.same(started, ['a1', 'b1', 'c1'], 'a lane that ends makes room for the next lane, not for a later timer of a busy one')
  finish.get('c1')!()
  await settle()
  t.same(started, ['a1', 'b1', 'c1'], "a2 waits for a1, its lane's earlier timer")
  finish.get('a1')!()
  await settle()
  t.same(started, ['a1', 'b1', 'c1', 'a2'])
  finish.get('a2')!()
  await run
  t.equal(most, 2, 'never more than atOnce at a time')
  t.same(store.list(), [], 'every fired one-shot timer is gone')
})

t.test('a failed firing stops its lane, lets the firings under way end, and keeps its timers due', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  for (const [id, lane, after] of [['a1', 'a', 0], ['a2', 'a', 1], ['b1', 'b', 2]] as const) store.put(dueTimer(clock, id, lane, after))
  const fired: string[] = []
  const fire = async (timer: TimerRecord) => {
    fired.push(timer.id)
    if (timer.id === 'a1') throw new Error('the store is down')
  }
  const runner = new TimerRunner(clock, store, fire, createLogger('silent'), { of: (timer) => timer.target, atOnce: 2 })
  await runner.fireDue()
  t.same(fired, ['a1', 'b1'], 'a2 does not fire after a1 failed')
  t.same(store.list().map((timer) => timer.id).sort(), ['a1', 'a2'], 'the failed timer and the rest of its lane stay due')
})

t.test('on AWS a lane is the instance a timer reaches: its target\'s, or the one a wake-up runs', async (t) => {
  const clock = new SimulatedClock()
  const head = { id: 'm1', correlationId: 'c1' } as Envelope
  const wake = (key: string, version: number) => wakeTimer('lt.fetch', key, head, version, clock.now())
  const to = (id: string, target: string, site: string) => ({ ...dueTimer(clock, id, target), body: encode({ site }) })
  const lanes = timerLanes((_target, body) => (body as { site: string }).site)
  const lane = (timer: TimerRecord) => lanes.of(timer)
  t.not(lane(wake('a', 1)), lane(wake('b', 1)), 'two keys, two lanes')
  t.equal(lane(wake('a', 1)), lane(wake('a', 2)), "one key's wake-ups share a lane")
  t.equal(lane(to('t1', 'lt.fetch', 'a')), lane(to('t2', 'lt.fetch', 'a')), 'timers for one instance share a lane, so it gets their messages in due order')
  t.equal(lane(to('t1', 'lt.fetch', 'a')), lane(wake('a', 1)), "and with that instance's wake-ups")
  t.not(lane(to('t1', 'lt.fetch', 'a')), lane(to('t2', 'lt.fetch', 'b')), 'another key of the type fires beside them')
  t.not(lane(to('t1', 'lt.fetch', 'a')), lane(to('t2', 'lt.other', 'a')), 'and so does the same key of another type')
  t.equal(lane({ ...wake('a', 1), body: 'not superjson' }), '', 'a timer that cannot be read fires in a lane apart, where fire() reports it')
})
