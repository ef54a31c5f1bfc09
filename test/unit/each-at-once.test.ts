import t from 'tap'
import { eachAtOnce } from '../../lib/core/each-at-once.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('eachAtOnce keeps at most `limit` items in flight and answers in the items\' order', async (t) => {
  let inFlight = 0
  let most = 0
  const out = await eachAtOnce([5, 1, 4, 2, 3, 0], 3, async (n) => {
    most = Math.max(most, ++inFlight)
    for (let i = 0; i < n; i++) await tick()
    inFlight--
    return n * 10
  })
  t.same(out, [50, 10, 40, 20, 30, 0])
  t.equal(most, 3)
  t.same(await eachAtOnce([], 3, async () => 1), [])
})

t.test('after a failure no item starts, and the call rejects once those in flight have ended', async (t) => {
  const started: number[] = []
  let ended = 0
  let sawStopped = false
  const failing = eachAtOnce([0, 1, 2, 3, 4, 5], 2, async (n, stopped) => {
    started.push(n)
    if (n === 1) throw new Error('item 1 broke')
    for (let i = 0; i < 3; i++) await tick()
    sawStopped = stopped()
    ended++
    return n
  })
  await t.rejects(failing, { message: 'item 1 broke' })
  t.same(started, [0, 1], 'none after the failure')
  t.equal(ended, 1, 'item 0, in flight, ended before the call rejected')
  t.equal(sawStopped, true, 'a running item is told another failed')
})

t.test('work that throws before its first await fails the call as a rejection would', async (t) => {
  const started: number[] = []
  const failing = eachAtOnce([0, 1, 2, 3], 1, (n) => {
    started.push(n)
    if (n === 1) throw new Error('item 1 threw')
    return Promise.resolve(n)
  })
  await t.rejects(failing, { message: 'item 1 threw' })
  t.same(started, [0, 1], 'none after the throw')
})

t.test('a limit above the number of items starts one worker per item; a limit under 1 is refused', async (t) => {
  let inFlight = 0
  let most = 0
  const out = await eachAtOnce(['a', 'b'], 8, async (s) => {
    most = Math.max(most, ++inFlight)
    await tick()
    inFlight--
    return s.toUpperCase()
  })
  t.same(out, ['A', 'B'])
  t.equal(most, 2)
  await t.rejects(eachAtOnce([1], 0, async (n) => n), RangeError)
  await t.rejects(eachAtOnce([1], Number.NaN, async (n) => n), RangeError)
})
