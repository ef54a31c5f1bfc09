import t from 'tap'
import { Deadlines } from '../../lib/turn/deadlines.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'

t.test('many deadlines share one timer, fire in due order, and cancel cleanly', async (t) => {
  const clock = new SimulatedClock(0)
  const deadlines = new Deadlines(clock)
  const fired: number[] = []
  const handles = [500, 100, 300, 200, 400].map((at) => [at, deadlines.add(at, () => fired.push(at))] as const)
  t.equal(clock.pending, 1, 'one timer for five deadlines')
  handles.find(([at]) => at === 300)![1].cancel()
  await clock.advance(250)
  t.same(fired, [100, 200])
  await clock.advance(1_000)
  t.same(fired, [100, 200, 400, 500], 'the cancelled one never fired')
  t.equal(clock.pending, 0)
})

t.test('cancelling every deadline drops the timer once the event loop turns, so nothing keeps the process alive', async (t) => {
  const clock = new SimulatedClock(0)
  const deadlines = new Deadlines(clock)
  const all = Array.from({ length: 1_000 }, (_, i) => deadlines.add(60_000 + i, () => t.fail('cancelled deadline fired')))
  for (const d of all.slice(0, 999)) d.cancel()
  t.equal(clock.pending, 1)
  all[999]!.cancel()
  // Asks one after another, in the same turn of the event loop, re-use the timer.
  const next = deadlines.add(70_000, () => t.fail('cancelled deadline fired'))
  t.equal(clock.pending, 1, 'the armed timer is kept for a deadline added before the loop turns')
  next.cancel()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(clock.pending, 0, 'and dropped once the loop turned with nothing left')
  let fired = 0
  deadlines.add(10, () => fired++)
  await clock.advance(10)
  t.equal(fired, 1, 'a new deadline re-arms')
})
