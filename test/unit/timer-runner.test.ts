// The timer runner's lifecycle, on a simulated clock: a stop while the store is still being read
// must leave no timer armed (it would keep the process alive until the next timer is due).
import t from 'tap'
import { createLogger } from '../../lib/core/logger.js'
import { TimerRunner } from '../../lib/hosts/embedded/timer-runner.js'
import { MemoryTimerStore } from '../../lib/store/memory.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'

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
