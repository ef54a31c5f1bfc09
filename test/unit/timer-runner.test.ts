// The timer runner, on a simulated clock: its lifecycle (a stop while the store is still being
// read must leave no timer armed: it would keep the process alive until the next timer is due),
// and its lanes.
import t from 'tap'
import { createLogger } from '../../lib/core/logger.js'
import { TimerRunner } from '../../lib/hosts/timer-runner.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import type { TimerRecord } from '../../lib/store/index.js'

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

t.test('a failed firing stops its own lane; the other lanes go on, and the run is tried again in a second', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  for (const [id, lane, after] of [['a1', 'a', 0], ['b1', 'b', 1], ['a2', 'a', 2], ['b2', 'b', 3], ['c1', 'c', 4]] as const) store.put(dueTimer(clock, id, lane, after))
  const fired: string[] = []
  let down = true
  const fire = async (timer: TimerRecord) => {
    fired.push(timer.id)
    if (timer.id === 'a1' && down) throw new Error('the store is down')
  }
  const logged: string[] = []
  const logger = createLogger('error', {}, (line) => void logged.push(line))
  const runner = new TimerRunner(clock, store, fire, logger, { of: (timer) => timer.target, atOnce: 2 })
  runner.start()
  await clock.advance(0)
  t.same([...fired].sort(), ['a1', 'b1', 'b2', 'c1'], 'a2 waits behind a1; lanes b and c fire all theirs')
  t.ok(fired.indexOf('b1') < fired.indexOf('b2'), 'lane b in due order')
  t.same(store.list().map((timer) => timer.id).sort(), ['a1', 'a2'], 'the failed timer and the rest of its lane stay due')
  t.match(logged.join('\n'), /a timer could not fire.*"timerId":"a1".*the store is down/, 'the failure is logged, naming the timer')
  t.match(logged.join('\n'), /firing timers failed; trying again within 1 s.*1 of 5 due timers could not fire/)
  down = false
  await clock.advance(999)
  t.equal(fired.length, 4, 'nothing fires again before the second is up')
  await clock.advance(1)
  t.same(fired.slice(4), ['a1', 'a2'], 'then the lane fires from where it stopped, in due order')
  t.same(store.list(), [])
  await runner.stop()
})

// A firing is moved on (a one-shot timer deleted, a recurring one put at its next firing) only
// while the store holds that firing: what happened to the timer while it fired stands.
t.test('a timer scheduled again or cancelled while it fired is left as that left it', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  const poll = { ...dueTimer(clock, 'poll', 'x'), causationId: 'm-1' }
  const every = { ...dueTimer(clock, 'every', 'y'), every: 'rate(1 minute)' }
  const gone = { ...dueTimer(clock, 'gone', 'z'), every: 'rate(1 minute)' }
  for (const timer of [poll, every, gone]) store.put(timer)
  const pollAgain = { ...poll, dueAt: clock.now() + 60_000, causationId: 'm-2' }
  // What the turns the firings run do, before the runner moves each firing on.
  const fire = (timer: TimerRecord) => {
    if (timer.id === 'poll') store.put(pollAgain)
    if (timer.id === 'gone') store.delete('gone')
  }
  await new TimerRunner(clock, store, fire, createLogger('error')).fireDue()
  t.strictSame(store.get('poll'), pollAgain, 'the poll its own firing scheduled again is kept, not deleted')
  t.equal(store.get('gone'), undefined, 'the recurring timer cancelled while it fired is not put back')
  t.strictSame(store.get('every'), { ...every, dueAt: every.dueAt + 60_000, fired: 1 }, 'the recurring timer nothing touched moves to its next firing')
})

t.test('a store without advance has its fired timers moved on by a read and a write, with the same outcome', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  const bare = Object.assign(Object.create(store) as MemoryTimerStore, { advance: undefined })
  const poll = { ...dueTimer(clock, 'poll', 'x'), causationId: 'm-1' }
  const once = dueTimer(clock, 'once', 'y')
  for (const timer of [poll, once]) store.put(timer)
  const pollAgain = { ...poll, dueAt: clock.now() + 60_000, causationId: 'm-2' }
  const fired: string[] = []
  const fire = (timer: TimerRecord) => {
    fired.push(timer.id)
    if (timer.id === 'poll') store.put(pollAgain)
  }
  await new TimerRunner(clock, bare, fire, createLogger('error')).fireDue()
  t.strictSame(fired.sort(), ['once', 'poll'])
  t.strictSame(store.list(), [pollAgain], 'the fired one-shot timer is gone; the poll scheduled again stays')
})

t.test('a store without advance moves a recurring timer a durable turn set on to its next firing', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  const bare = Object.assign(Object.create(store) as MemoryTimerStore, { advance: undefined })
  // Put again with the order it fired with, the next firing would be left out as the same write again.
  const every = { ...dueTimer(clock, 'job#a#tick', 'x'), every: 'rate(1 minute)', order: { owner: 'job#a', life: clock.now(), v: 3, n: 0 } }
  store.put(every)
  await new TimerRunner(clock, bare, () => {}, createLogger('error')).fireDue()
  t.equal(store.get('job#a#tick')?.dueAt, every.dueAt + 60_000, 'at its next firing, not left due')
})

// A timer that can never fire (a wake-up of a type the app no longer runs) must not be read and
// tried again every second for good: the runs after a failed one wait longer each time, up to
// 30 s, and a run that fires everything brings the wait back to a second.
t.test('runs that keep failing are tried again later and later, up to 30 s; a good run resets it', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  store.put(dueTimer(clock, 'stuck', 'x'))
  let tries = 0
  let broken = true
  const fire = async () => {
    tries++
    if (broken) throw new Error('cannot fire')
  }
  const logged: string[] = []
  const runner = new TimerRunner(clock, store, fire, createLogger('error', {}, (line) => void logged.push(line)))
  runner.start()
  await clock.advance(0)
  t.equal(tries, 1)
  // The waits after each failed run: 1, 2, 4, 8, 16, then 30 s each time.
  for (const [waitS, n] of [[1, 2], [2, 3], [4, 4], [8, 5], [16, 6], [30, 7], [30, 8]] as const) {
    await clock.advance(waitS * 1000 - 1)
    t.equal(tries, n - 1, `nothing before ${waitS} s`)
    await clock.advance(1)
    t.equal(tries, n, `tried again after ${waitS} s`)
  }
  t.match(logged.join('\n'), /firing timers failed; trying again within 30 s/)
  broken = false
  await clock.advance(30_000)
  t.same(store.list(), [], 'fired once it can be')
  // A new timer that fails after the good run is tried again after a second.
  broken = true
  store.put(dueTimer(clock, 'next', 'x', 1_000))
  runner.notify(clock.now())
  await clock.advance(0)
  const before = tries
  await clock.advance(1_000)
  t.equal(tries, before + 1, 'a second again after a run that fired everything')
  await runner.stop()
})

// A Lambda's tick fires what is due within its time: past the deadline a run starts no firing and
// reads no more, even after a failure (a wake-up that stopped at the deadline), and the rest stays due.
t.test('fireDue(deadline) starts no firing past the deadline; what it did not fire stays due', async (t) => {
  const clock = new SimulatedClock()
  const store = new MemoryTimerStore()
  for (const [id, after] of [['a', 0], ['b', 1], ['c', 2]] as const) store.put(dueTimer(clock, id, id, after))
  const fired: string[] = []
  const fire = async (timer: TimerRecord) => {
    fired.push(timer.id)
    // The first firing of a runs up to the deadline, and does not finish.
    if (timer.id === 'a' && fired.length === 1) {
      await clock.advance(5_000)
      throw new Error('stopped at the deadline')
    }
  }
  const runner = new TimerRunner(clock, store, fire, createLogger('silent'), { of: (timer) => timer.target, atOnce: 1, instanceOf: (timer) => timer.target })
  await runner.fireDue(clock.now() + 5_000)
  t.same(fired, ['a'], 'nothing fires after the deadline')
  t.same(store.list().map((timer) => timer.id).sort(), ['a', 'b', 'c'], 'all stay due')
  await runner.fireDue(clock.now() + 5_000)
  t.same(fired, ['a', 'a', 'b', 'c'], 'the next tick fires them')
})
