import t from 'tap'
import { Actor, createSystem, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { Counter } from '../fixtures/actors.js'

t.test('one instance never runs two turns at once under 1,000 concurrent tells', async (t) => {
  let inTurn = 0
  let overlaps = 0
  let maxConcurrentAcrossKeys = 0
  let running = 0
  class Guarded extends Actor<{ k: string; n: number }, void, { seen: number[] }> {
    static readonly type = 'guarded'
    key(msg: Guarded['In']) {
      return msg.k
    }
    initialState() {
      return { seen: [] as number[] }
    }
    async receive(msg: Guarded['In'], ctx: Context<{ seen: number[] }>) {
      if (msg.k === 'hot') {
        if (inTurn++ !== 0) overlaps++
      }
      running++
      maxConcurrentAcrossKeys = Math.max(maxConcurrentAcrossKeys, running)
      await new Promise((r) => setImmediate(r))
      ctx.state.seen.push(msg.n)
      running--
      if (msg.k === 'hot') inTurn--
    }
  }
  const system = createSystem({ actors: [Guarded], logLevel: 'silent' })
  const sends: Promise<unknown>[] = []
  for (let n = 0; n < 1_000; n++) {
    sends.push(system.tell(Guarded, { k: 'hot', n }))
    if (n % 10 === 0) sends.push(system.tell(Guarded, { k: `cold-${n}`, n }))
  }
  await Promise.all(sends)
  await system.stop()
  t.equal(overlaps, 0, 'no overlapping turns on the hot key')
  t.same((await system.state(Guarded, 'hot'))?.seen, Array.from({ length: 1_000 }, (_, i) => i), 'FIFO in send order')
  t.ok(maxConcurrentAcrossKeys > 1, `other keys ran concurrently (max ${maxConcurrentAcrossKeys} at once)`)
})

t.test('per-key throttle holds the rate under a simulated clock while other keys flow', async (t) => {
  const turns: { key: string; at: number }[] = []
  class Fetch extends Actor<{ host: string; path: string }> {
    static readonly type = 'fetch'
    static readonly policy = { throttlePerKey: { ratePerSecond: 2, burst: 1 } }
    key(msg: Fetch['In']) {
      return msg.host
    }
    receive(msg: Fetch['In'], ctx: Context) {
      turns.push({ key: ctx.key, at: clock.now() })
    }
  }
  const { system, clock } = createTestSystem({ actors: [Fetch] })
  const start = clock.now()
  for (let i = 0; i < 10; i++) await system.tell(Fetch, { host: 'slow.example', path: `/${i}` })
  for (let i = 0; i < 10; i++) await system.tell(Fetch, { host: `other-${i}.example`, path: '/' })
  await clock.advance(1)
  const others = turns.filter((x) => x.key !== 'slow.example')
  t.equal(others.length, 10, 'every other key ran at once')
  t.equal(turns.filter((x) => x.key === 'slow.example').length, 1, 'the throttled key ran one (its burst)')
  await clock.runUntil(() => turns.length === 20, { stepMs: 50 })
  const slow = turns.filter((x) => x.key === 'slow.example').map((x) => x.at - start)
  for (let i = 1; i < slow.length; i++) t.ok(slow[i]! - slow[i - 1]! >= 500, `turn ${i} came ${slow[i]! - slow[i - 1]!} ms after the one before (rate 2/s)`)
  t.ok(system.inspect().actors[0]!.counts.throttled >= 9)
})

t.test('a type-wide throttle spreads all keys over time', async (t) => {
  const at: number[] = []
  class Limited extends Actor<{ k: string }> {
    static readonly type = 'limited'
    static readonly policy = { throttle: { ratePerSecond: 10, burst: 5 } }
    key(msg: Limited['In']) {
      return msg.k
    }
    receive() {
      at.push(clock.now())
    }
  }
  const { system, clock } = createTestSystem({ actors: [Limited] })
  const start = clock.now()
  for (let i = 0; i < 25; i++) await system.tell(Limited, { k: `k${i}` })
  await clock.runUntil(() => at.length === 25, { stepMs: 20 })
  const elapsed = at[24]! - start
  t.ok(elapsed >= 1_900 && elapsed <= 2_200, `25 turns at 10/s with a burst of 5 took ${elapsed} ms (expected ~2000)`)
})

t.test('the type concurrency cap bounds turns in flight; the queue depth shows the rest', async (t) => {
  let running = 0
  let max = 0
  const release: (() => void)[] = []
  class Capped extends Actor<{ n: number }> {
    static readonly type = 'capped'
    static readonly policy = { concurrency: 3, attemptTimeoutMs: 0 }
    async receive() {
      running++
      max = Math.max(max, running)
      await new Promise<void>((r) => release.push(r))
      running--
    }
  }
  const system = createSystem({ actors: [Capped], logLevel: 'silent' })
  for (let n = 0; n < 10; n++) await system.tell(Capped, { n })
  await new Promise((r) => setImmediate(r))
  t.equal(running, 3)
  const snap = system.inspect().actors[0]!
  t.equal(snap.running, 3)
  t.equal(snap.queued, 7)
  t.equal(snap.kind, 'stateless')
  while (release.length) {
    release.shift()!()
    await new Promise((r) => setImmediate(r))
  }
  await system.stop()
  t.equal(max, 3)
  t.equal(system.inspect().actors[0]!.counts.done, 10)
})

t.test('the system concurrency cap is shared fairly across instances', async (t) => {
  const order: string[] = []
  class Step extends Actor<{ k: string; n: number }> {
    static readonly type = 'step'
    key(msg: Step['In']) {
      return msg.k
    }
    async receive(msg: Step['In']) {
      order.push(msg.k)
      await null
    }
  }
  const system = createSystem({ actors: [Step], concurrency: 1, logLevel: 'silent' })
  for (let n = 0; n < 200; n++) await system.tell(Step, { k: 'a', n })
  await system.tell(Step, { k: 'b', n: 0 })
  await system.stop()
  t.ok(order.indexOf('b') < 200, `b ran at position ${order.indexOf('b')}, not behind all of a's 200`)
})

t.test('many keyed instances each keep their own count', async (t) => {
  const system = createSystem({ actors: [Counter], logLevel: 'silent', checkSerializable: false })
  for (let m = 0; m < 20; m++) for (let k = 0; k < 500; k++) void system.tell(Counter, { k: `k${k}`, by: 1 })
  await system.stop()
  const instances = system.instances(Counter)
  t.equal(instances.length, 500)
  t.ok(instances.every((i) => (i.state as { count: number }).count === 20))
  t.equal(system.inspect().actors[0]!.counts.done, 10_000)
})
