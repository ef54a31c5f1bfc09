// The embedded dispatcher's parking of an instance (a retry's backoff, a throttle's wait): one
// wake-up per instance, whatever parks it again before it wakes.
import t from 'tap'
import { Dispatcher } from '../../lib/hosts/embedded/dispatcher.js'
import type { Instance } from '../../lib/hosts/embedded/instance.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'

/** An instance with nothing to run: waking it only asks whether it has work, which is counted. */
function idleInstance(): { inst: Instance; wakes: () => number } {
  let asked = 0
  const inst = {
    parked: false,
    waiting: false,
    hasWork: () => {
      asked++
      return false
    },
  } as unknown as Instance
  return { inst, wakes: () => asked }
}

t.test('parking a parked instance again replaces its wake-up', async (t) => {
  const clock = new SimulatedClock()
  const dispatch = new Dispatcher(clock, 1, [], { turn: () => undefined, throttled: () => undefined })
  const { inst, wakes } = idleInstance()
  dispatch.park(inst, 100)
  dispatch.park(inst, 200)
  await clock.advance(150)
  t.equal(inst.parked, true, 'still parked when the first wake-up would have come')
  t.equal(wakes(), 0, 'not woken by the replaced wake-up')
  await clock.advance(50)
  t.equal(inst.parked, false, 'unparked by the second')
  t.equal(wakes(), 1, 'woken once')
  await clock.advance(1_000)
  t.equal(wakes(), 1, 'and never again')
})

t.test('cancelParks leaves no wake-up behind after a second park', async (t) => {
  const clock = new SimulatedClock()
  const dispatch = new Dispatcher(clock, 1, [], { turn: () => undefined, throttled: () => undefined })
  const { inst, wakes } = idleInstance()
  dispatch.park(inst, 100)
  dispatch.park(inst, 200)
  dispatch.cancelParks()
  await clock.advance(1_000)
  t.equal(wakes(), 0, 'no timer fired')
  t.equal(inst.parked, true, 'the instance stays parked (stop past its timeout)')
})
