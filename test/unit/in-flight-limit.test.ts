import t from 'tap'
import { InFlightLimit } from '../../lib/core/in-flight-limit.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('at most `limit` calls run at once; the others start in the order they came', async (t) => {
  const limit = new InFlightLimit(2)
  let inFlight = 0
  let most = 0
  const started: number[] = []
  const out = await Promise.all(
    [3, 1, 2, 0, 1].map((n, i) =>
      limit.run(async () => {
        started.push(i)
        most = Math.max(most, ++inFlight)
        for (let k = 0; k < n; k++) await tick()
        inFlight--
        return i * 10
      }),
    ),
  )
  t.same(out, [0, 10, 20, 30, 40])
  t.equal(most, 2)
  t.same(started, [0, 1, 2, 3, 4])
})

t.test('a call that fails or throws gives its place to the next, and its caller hears the error', async (t) => {
  const limit = new InFlightLimit(1)
  const failing = limit.run(async () => {
    await tick()
    throw new Error('write refused')
  })
  const throwing = limit.run(() => {
    throw new Error('threw at once')
  })
  const next = limit.run(async () => 'written')
  await t.rejects(failing, { message: 'write refused' })
  await t.rejects(throwing, { message: 'threw at once' })
  t.equal(await next, 'written')
  // Nothing in flight any more: a new call starts at once.
  let ran = false
  await limit.run(() => {
    ran = true
  })
  t.equal(ran, true)
})

t.test('a limit under 1 is refused', async (t) => {
  t.throws(() => new InFlightLimit(0), RangeError)
  t.throws(() => new InFlightLimit(NaN), RangeError)
})
