// system.idle() on the embedded system: it resolves once nothing is queued, running or waiting
// for a retry and no timer is due now — and not a moment before, which the simulated clock lets
// these tests check between two instants.
import t, { type Test } from 'tap'
import { createSystem, type ActorClass } from '../../lib/index.js'
import { SimulatedClock } from '../../lib/testing/index.js'
import { Flaky } from '../fixtures/actors.js'

function make(t: Test, actors: readonly ActorClass[]) {
  const clock = new SimulatedClock()
  const system = createSystem({ actors, clock, logLevel: 'silent', receiptsForAll: true })
  t.teardown(() => system.stop())
  return { system, clock }
}

/** Watches a promise: `done` turns true once it has resolved. */
function watch(promise: Promise<unknown>): { done: boolean } {
  const watched = { done: false }
  void promise.then(() => (watched.done = true))
  return watched
}

t.test('it waits through every retry backoff and resolves with the last final outcome, not before', async (t) => {
  const { system, clock } = make(t, [Flaky])
  const start = clock.now()
  // Attempts of `ok` at 0, 1000 and 2000 (done); of `dead` at 0, 1500, 3000 and 4500 (its fourth and last).
  const ok = await system.tell(Flaky, { k: 'ok', failTimes: 2, retryAfterMs: 1_000 })
  const dead = await system.tell(Flaky, { k: 'dead', failTimes: 9, retryAfterMs: 1_500 })
  const idle = watch(system.idle())
  await clock.advance(999)
  t.equal(idle.done, false, 'nothing runs during the first backoff, and idle() still waits')
  t.equal((await system.receipt(ok))?.status, 'retrying')
  await clock.advance(4_500 - 999 - 1)
  t.equal(idle.done, false, 'one attempt left')
  t.equal((await system.receipt(ok))?.status, 'done')
  t.equal((await system.receipt(dead))?.status, 'retrying')
  await clock.advance(1)
  t.equal(idle.done, true, 'resolved with the last attempt')
  t.match(await system.receipt(dead), { status: 'dead', attempts: 4 })
  t.equal(clock.now() - start, 4_500)
  t.equal((await system.deadLetters()).length, 1)
})

t.test('it fires the timers due now and waits for what they tell; timers due later are not waited for', async (t) => {
  const { system, clock } = make(t, [Flaky])
  const start = clock.now()
  await system.schedule(Flaky, { k: 'now', failTimes: 0 }, { afterMs: 0 })
  await system.schedule(Flaky, { k: 'later', failTimes: 0 }, { afterMs: 60_000 })
  // The clock does not move: the timer runner's own wake-up never comes, so idle() fires it.
  await system.idle()
  t.same(await system.state(Flaky, 'now'), { tries: 0, ok: 1 }, 'the timer due now fired and its message ran')
  t.equal(await system.state(Flaky, 'later'), undefined)
  t.same((await system.timers()).map((x) => x.dueAt - start), [60_000], 'the later timer still waits')
  t.equal(clock.now(), start)
})

t.test('a message held by a pause is not waited for; once resumed, it is', async (t) => {
  const { system, clock } = make(t, [Flaky])
  await system.tell(Flaky, { k: 'held', failTimes: 1, retryAfterMs: 1_000 })
  await clock.advance(0)
  const idle = watch(system.idle())
  await clock.advance(0)
  t.equal(idle.done, false, 'its retry is pending')
  await system.pause(Flaky, 'held')
  await clock.advance(0)
  t.equal(idle.done, true, 'paused, the retry waits for resume(): idle')
  await system.resume(Flaky, 'held')
  const again = watch(system.idle())
  await clock.advance(999)
  t.equal(again.done, false, 'resumed, it is waited for again')
  await clock.advance(1)
  t.equal(again.done, true)
  t.same(await system.state(Flaky, 'held'), { tries: 0, ok: 1 })
})

t.test('on the wall clock, idle() waits through the backoffs as they pass', async (t) => {
  const system = createSystem({ actors: [Flaky], logLevel: 'silent', receiptsForAll: true })
  t.teardown(() => system.stop())
  const id = await system.tell(Flaky, { k: 'wall', failTimes: 2, retryAfterMs: 20 })
  await system.idle()
  t.match(await system.receipt(id), { status: 'done', attempts: 3 })
})
