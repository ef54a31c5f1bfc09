import t from 'tap'
import { Actor, memoryStores, type Context } from '../../lib/index.js'
import { createTestSystem, SimulatedClock } from '../../lib/testing/index.js'

const MIN = 60_000
const fired: { n: number; id: string }[] = []
class Tick extends Actor<{ n: number }> {
  static readonly type = 'tick'
  receive(msg: Tick['In'], ctx: Context) {
    fired.push({ n: msg.n, id: ctx.message.id })
  }
}

class Reminder extends Actor<{ k: string; fail?: boolean; remindInMs?: number; cancel?: boolean }, void, { set: number }> {
  static readonly type = 'reminder'
  static readonly policy = { maxAttempts: 2, initialDelayMs: 1 }
  key(msg: Reminder['In']) {
    return msg.k
  }
  initialState() {
    return { set: 0 }
  }
  receive(msg: Reminder['In'], ctx: Context<{ set: number }>) {
    if (msg.cancel) {
      ctx.cancelSchedule('remind')
      return
    }
    ctx.schedule(Tick, { n: ++ctx.state.set }, { afterMs: msg.remindInMs ?? 10 * MIN, name: 'remind' })
    if (msg.fail && ctx.attempt === 1) throw new Error('fails after scheduling')
  }
}

t.beforeEach(() => {
  fired.length = 0
})

t.test('ctx.schedule fires on time, and only what a successful turn scheduled', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Tick, Reminder] })
  const start = clock.now()
  await system.tell(Reminder, { k: 'a', fail: true })
  await clock.advance(5)
  const timers = await system.timers()
  t.equal(timers.length, 1, 'the failed attempt scheduled nothing; the retry did')
  t.equal(timers[0]!.id, 'reminder#a#remind')
  t.equal(timers[0]!.dueAt - start >= 10 * MIN, true)
  await clock.advance(10 * MIN - 100)
  t.equal(fired.length, 0)
  await clock.advance(200)
  t.equal(fired.length, 1)
  t.same(fired[0]!.n, 1, 'the body of the committed turn')
  t.same(await system.timers(), [], 'a one-shot timer is gone once fired')
})

t.test('a named timer is replaced by the same name and removed by cancelSchedule', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Tick, Reminder] })
  await system.tell(Reminder, { k: 'b', remindInMs: 10 * MIN })
  await clock.advance(MIN)
  await system.tell(Reminder, { k: 'b', remindInMs: 30 * MIN })
  await clock.advance(MIN)
  const [only, ...rest] = await system.timers()
  t.equal(rest.length, 0, 'one timer per name')
  t.equal(only!.body.includes('"n":2'), true)
  await system.tell(Reminder, { k: 'b', cancel: true })
  await clock.advance(60 * MIN)
  t.equal(fired.length, 0)
  t.same(await system.timers(), [])
})

/** Ticks by scheduling itself again under one name, from the turn its own firing runs: a poll, a heartbeat. */
class Poll extends Actor<{ n: number }, void, { polls: number[] }> {
  static readonly type = 'poll'
  initialState() {
    return { polls: [] }
  }
  receive(msg: Poll['In'], ctx: Context<Poll['State']>) {
    ctx.state.polls.push(msg.n)
    if (msg.n < 5) ctx.schedule(Poll, { n: msg.n + 1 }, { afterMs: MIN, name: 'next' })
  }
}

t.test('a named timer scheduled again by the turn its firing runs fires again (the firing does not take it away)', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Poll] })
  await system.tell(Poll, { n: 0 })
  for (let i = 1; i <= 5; i++) await clock.advance(MIN)
  t.strictSame((await system.state(Poll))?.polls, [0, 1, 2, 3, 4, 5], 'every poll ran, a minute apart')
  t.strictSame(await system.timers(), [], 'the last poll scheduled nothing')
})

t.test('a recurring schedule fires the right number of times across a simulated hour', async (t) => {
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1, 0, 0, 0))
  const { system } = createTestSystem({ actors: [Tick], clock })
  await system.schedule(Tick, { n: 5 }, { every: 'rate(5 minutes)', name: 'five' })
  await system.schedule(Tick, { n: 15 }, { every: 'cron(*/15 * * * ? *)', name: 'quarter' })
  await system.schedule(Tick, { n: 0 }, { every: '0 * * * *', name: 'hourly' })
  for (let m = 0; m < 60; m++) await clock.advance(MIN)
  const count = (n: number) => fired.filter((f) => f.n === n).length
  t.equal(count(5), 12, 'rate(5 minutes): minutes 5, 10, … 60')
  t.equal(count(15), 4, 'cron */15: 15, 30, 45, 60')
  t.equal(count(0), 1, 'hourly at the top of the hour')
  t.equal(new Set(fired.map((f) => f.id)).size, fired.length, 'each firing has its own id')
  const five = (await system.timers()).find((x) => x.id === 'five')!
  t.equal(five.fired, 12)
  t.equal(five.dueAt, Date.UTC(2026, 0, 1, 1, 5, 0))
})

t.test('a timer missed while no system ran fires once on the next start, never a backlog', async (t) => {
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1))
  const stores = memoryStores()
  const first = createTestSystem({ actors: [Tick], clock, stores })
  await first.system.schedule(Tick, { n: 1 }, { afterMs: 10 * MIN, name: 'once' })
  await first.system.schedule(Tick, { n: 2 }, { every: 'rate(5 minutes)', name: 'recurring' })
  await first.system.stop()
  await clock.advance(60 * MIN) // down for an hour: nothing runs
  t.equal(fired.length, 0)
  const second = createTestSystem({ actors: [Tick], clock, stores })
  await clock.advance(1)
  t.same(fired.map((f) => f.n).sort(), [1, 2], 'each fired once, not twelve times')
  const recurring = (await second.system.timers()).find((x) => x.id === 'recurring')!
  t.equal(recurring.dueAt, clock.now() - 1 + 5 * MIN, 'and resumes five minutes after it fired')
  await clock.advance(5 * MIN)
  t.equal(fired.filter((f) => f.n === 2).length, 2)
})

t.test('an evicted instance is written to the store and comes back with its state', async (t) => {
  const stores = memoryStores()
  const { system, settle } = createTestSystem({ actors: [Tick, Reminder], stores })
  await system.tell(Reminder, { k: 'e', remindInMs: 60 * MIN })
  await system.tell(Reminder, { k: 'e', remindInMs: 60 * MIN })
  await settle()
  t.equal(await system.evict(Reminder, 'e'), true)
  t.same(system.instances(Reminder), [], 'gone from memory')
  t.match(stores.state.get('reminder', 'e'), { version: 1 })
  t.equal(await system.evict(Reminder, 'e'), false, 'nothing to evict twice')
  await system.tell(Reminder, { k: 'e', remindInMs: 60 * MIN })
  await settle()
  t.same(await system.state(Reminder, 'e'), { set: 3 }, 'the count went on from the stored state')
})

t.test('state kept by stop() carries over to a new system on the same stores', async (t) => {
  const stores = memoryStores()
  const one = createTestSystem({ actors: [Tick, Reminder], stores })
  await one.system.tell(Reminder, { k: 'p' })
  await one.settle()
  await one.system.stop()
  const two = createTestSystem({ actors: [Tick, Reminder], stores })
  await two.system.tell(Reminder, { k: 'p' })
  await two.settle()
  t.same(await two.system.state(Reminder, 'p'), { set: 2 })
})

t.test('a stopped system evicts nothing: the next system on the same stores keeps its writes', async (t) => {
  const stores = memoryStores()
  const one = createTestSystem({ actors: [Tick, Reminder], stores })
  await one.system.tell(Reminder, { k: 's' })
  await one.settle()
  await one.system.stop()
  const two = createTestSystem({ actors: [Tick, Reminder], stores })
  await two.system.tell(Reminder, { k: 's' })
  await two.settle()
  t.equal(await one.system.evict(Reminder, 's'), false, 'the stopped system keeps its instance as stop() left it')
  t.match(stores.state.get('reminder', 's'), { version: 1 }, 'nothing written after the stop')
  await two.system.stop()
  t.match(stores.state.get('reminder', 's'), { version: 2 }, "the next system's stop writes over it, with no conflict")
  t.same(await two.system.state(Reminder, 's'), { set: 2 })
})

t.test('bad schedules are refused with the option named', async (t) => {
  const { system } = createTestSystem({ actors: [Tick] })
  await t.rejects(system.schedule(Tick, { n: 1 }, {}), { message: /system\.schedule\(tick\): give at, afterMs or every/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { at: 1, afterMs: 2 }), { message: /one of at and afterMs/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { every: 'rate(five minutes)' }), { message: /neither rate/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { every: 'cron(0 12 * * ? 2030)' }), { message: /year field/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { afterMs: -5 }), { message: /afterMs must be a number from 0 up/ })
  // A timer's message is sent at its due time, which a record must carry (and a dead letter keep).
  await t.rejects(system.schedule(Tick, { n: 1 }, { afterMs: 1e300 }), { message: /afterMs must be a number from 0 up that ends at a time a Date holds, got 1e\+300/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { at: -1e16 }), { message: /at must be epoch milliseconds \(at most 8640000000000000 either way\) or a valid Date, got -10000000000000000/ })
  await t.rejects(system.schedule(Tick, { n: 1 }, { at: new Date(NaN) }), { message: /at must be epoch milliseconds/ })
  class Stranger extends Actor<{ n: number }> {
    static readonly type = 'stranger'
    receive() {}
  }
  await t.rejects(system.schedule(Stranger, { n: 1 }, { afterMs: 5 }), { code: 'TROUPE_UNKNOWN_ACTOR' })
})

t.test('a timer name with a lone surrogate is refused, outside and inside a turn: its DynamoDB key would meet another name', async (t) => {
  const errors: string[] = []
  class Planner extends Actor<{ name: string }> {
    static readonly type = 'planner.lone'
    receive(msg: Planner['In'], ctx: Context) {
      try {
        ctx.schedule(Tick, { n: 1 }, { afterMs: MIN, name: msg.name })
      } catch (e) {
        errors.push((e as Error).message)
      }
    }
  }
  const { system, clock } = createTestSystem({ actors: [Tick, Planner] })
  await t.rejects(system.schedule(Tick, { n: 1 }, { afterMs: MIN, name: '\uD800' }), { code: 'TROUPE_CONFIG', message: /system\.schedule\(tick\): name must be well-formed UTF-16 \(no lone surrogate.*\), got "\\ud800"/ })
  await system.tell(Planner, { name: 'digest\uDC00' })
  await clock.runUntil(() => system.inspect().actors.find((a) => a.type === 'planner.lone')!.counts.done === 1)
  t.match(errors, [/ctx\.schedule\(tick\): name must be well-formed UTF-16 .* got "digest\\udc00"/])
  t.ok(await system.schedule(Tick, { n: 1 }, { afterMs: MIN, name: 'digest \uD83D\uDCEC' }), 'a surrogate pair is well-formed')
})
