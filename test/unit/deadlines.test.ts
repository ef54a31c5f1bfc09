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

t.test('cancelling every deadline drops the timer, so nothing keeps the process alive', async (t) => {
  const clock = new SimulatedClock(0)
  const deadlines = new Deadlines(clock)
  const all = Array.from({ length: 1_000 }, (_, i) => deadlines.add(60_000 + i, () => t.fail('cancelled deadline fired')))
  for (const d of all.slice(0, 999)) d.cancel()
  t.equal(clock.pending, 1)
  all[999]!.cancel()
  t.equal(clock.pending, 0)
  const late = deadlines.add(10, () => t.pass('a new deadline re-arms'))
  t.ok(late)
  await clock.advance(10)
})
