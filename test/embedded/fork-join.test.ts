import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import type { Joined } from '../../lib/core/fork.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { JOIN_RETENTION_MS } from '../../actors/joiner.js'
import { derivedId, type MessageId } from '../../lib/core/ids.js'

class Geo extends Actor<{ ip: string }, { country: string }> {
  static readonly type = 'geo'
  receive(msg: Geo['In']) {
    return { country: msg.ip.startsWith('81.') ? 'GB' : 'US' }
  }
}
class Agent extends Actor<{ ua: string }, { browser: string }> {
  static readonly type = 'agent'
  receive(msg: Agent['In']) {
    return { browser: msg.ua.includes('Firefox') ? 'Firefox' : 'Chrome' }
  }
}

const joins: Joined<readonly ActorClassAny[], unknown>[] = []
type ActorClassAny = typeof Geo | typeof Agent | typeof Work
type View = { url: string; ip: string; ua: string }

class Enriched extends Actor<Joined<[typeof Geo, typeof Agent], View>, void, { n: number }> {
  static readonly type = 'enriched'
  initialState() {
    return { n: 0 }
  }
  receive(msg: Enriched['In'], ctx: Context<{ n: number }>) {
    ctx.state.n++
    joins.push(msg as never)
    if (msg.complete) {
      const [geo, agent] = msg.replies
      const country: string = geo.country
      const browser: string = agent.browser
      t.ok(country && browser)
    }
  }
}

let failParentOnce = false
class PageView extends Actor<View> {
  static readonly type = 'pageView'
  static readonly policy = { maxAttempts: 3, initialDelayMs: 1 }
  receive(msg: PageView['In'], ctx: Context) {
    ctx.fork([[Geo, { ip: msg.ip }], [Agent, { ua: msg.ua }]] as const).join(Enriched, { timeoutMs: 5_000, value: msg })
    if (failParentOnce && ctx.attempt === 1) throw new Error('after forking')
  }
}

/** Work that may be slow (in simulated time) or fail its first attempts. */
class Work extends Actor<{ i: number; delayMs?: number; failTimes?: number; die?: boolean }, number> {
  static readonly type = 'work'
  static readonly policy = { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 10, attemptTimeoutMs: 0 }
  async receive(msg: Work['In'], ctx: Context) {
    workIds[msg.i] = ctx.message.id
    if (msg.die) throw new Error(`child ${msg.i} cannot`)
    if (ctx.attempt <= (msg.failTimes ?? 0)) throw new Error(`attempt ${ctx.attempt} of child ${msg.i}`)
    if (msg.delayMs) await sleepOn(msg.delayMs)
    return msg.i * 10
  }
}
let sleepOn: (ms: number) => Promise<void> = async () => {}
/** The message id of each Work child by its `i`, as its turn saw it. */
const workIds: string[] = []

class Sum extends Actor<Joined<(typeof Work)[], string>, void, { runs: number; last?: { complete: boolean; replies: (number | undefined)[]; missing: { index: number; status: string; error?: { message: string } }[] } }> {
  static readonly type = 'sum'
  initialState() {
    return { runs: 0 }
  }
  receive(msg: Sum['In'], ctx: Context<Sum['State']>) {
    ctx.state.runs++
    ctx.state.last = { complete: msg.complete, replies: msg.replies, missing: msg.missing.map((m) => ({ index: m.index, status: m.status, ...(m.error ? { error: { message: m.error.message } } : {}) })) }
  }
}
class Fan extends Actor<{ children: Work['In'][]; timeoutMs: number }> {
  static readonly type = 'fan'
  receive(msg: Fan['In'], ctx: Context) {
    ctx.fork(msg.children.map((c) => [Work, c] as const)).join(Sum, { timeoutMs: msg.timeoutMs, value: 'v' })
  }
}

const actors = [Geo, Agent, Enriched, PageView, Work, Sum, Fan]

t.beforeEach(() => {
  joins.length = 0
  failParentOnce = false
})

t.test('a fork of two joins once, with the replies as a typed tuple and the value passed along', async (t) => {
  const { system, settle } = createTestSystem({ actors })
  const view = { url: '/a', ip: '81.2.69.160', ua: 'Mozilla/5.0 Firefox/120' }
  await system.tell(PageView, view)
  await settle()
  t.equal(joins.length, 1)
  t.match(joins[0], { complete: true, replies: [{ country: 'GB' }, { browser: 'Firefox' }], missing: [], value: view })
})

t.test('a parent retried after forking still joins once', async (t) => {
  failParentOnce = true
  const { system, settle } = createTestSystem({ actors })
  await system.tell(PageView, { url: '/b', ip: '1.1.1.1', ua: 'x' })
  await settle()
  t.equal(joins.length, 1)
  t.same(await system.state(Enriched), { n: 1 })
})

t.test('fork of 10 with one child past the deadline: 9 replies and 1 missing, exactly once; the late reply is ignored', async (t) => {
  const { system, clock, settle } = createTestSystem({ actors })
  sleepOn = (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms))
  const children = Array.from({ length: 10 }, (_, i) => ({ i, ...(i === 7 ? { delayMs: 60_000 } : {}) }))
  await system.tell(Fan, { children, timeoutMs: 5_000 })
  await clock.advance(4_999)
  t.equal((await system.state(Sum))?.runs ?? 0, 0, 'nothing joined before the deadline')
  await clock.advance(2)
  const state = await system.state(Sum)
  t.equal(state?.runs, 1)
  t.equal(state?.last?.complete, false)
  t.same(state?.last?.replies, [0, 10, 20, 30, 40, 50, 60, undefined, 80, 90])
  t.same(state?.last?.missing, [{ index: 7, status: 'running' }], 'which child, and where it was')
  await clock.advance(60_000)
  await settle()
  t.equal((await system.state(Sum))?.runs, 1, 'the late reply made no second join')
  const orphan = system.instances('troupe.joiner')
  t.equal(orphan.length, 1, 'the fork was deleted at its join; the late reply is held alone')
  t.match(orphan[0]!.state, { joined: false, received: 1 })
  t.notOk((orphan[0]!.state as { open?: unknown }).open, 'with no fork to join')
  await clock.advance(JOIN_RETENTION_MS)
  t.same(system.instances('troupe.joiner'), [], 'and is dropped after the retention')
  t.same((await system.timers()).filter((x) => x.target === 'troupe.joiner'), [], 'and its timers are gone')
})

t.test("a joiner waiting for a child shows the report it took last, whether or not its turn made the report's envelope", async (t) => {
  for (const listening of [false, true]) {
    const { system, clock } = createTestSystem({ actors })
    // A listener makes every message's envelope at once; without one a report waits as it was sent.
    if (listening) system.on(() => {})
    sleepOn = (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms))
    await system.tell(Fan, { children: [{ i: 0 }, { i: 1, delayMs: 60_000 }], timeoutMs: 120_000 })
    await clock.advance(1_000)
    const [joiner] = system.instances('troupe.joiner')
    t.match(joiner?.state, { received: 1, joined: false }, `listening: ${listening}`)
    t.equal(joiner?.lastMessageId, derivedId(workIds[0] as MessageId, 'joined'), "the first child's report, by its id")
    await clock.advance(60_000)
    t.equal((await system.state(Sum))?.last?.complete, true)
    await system.stop()
  }
})

t.test('a child retried 3 times, then succeeding, gives one complete join', async (t) => {
  const { system, settle } = createTestSystem({ actors })
  await system.tell(Fan, { children: [{ i: 1 }, { i: 2, failTimes: 3 }, { i: 3 }], timeoutMs: 60_000 })
  await settle()
  const state = await system.state(Sum)
  t.equal(state?.runs, 1)
  t.same(state?.last, { complete: true, replies: [10, 20, 30], missing: [] })
})

t.test('a child that ends dead counts as missing with its error, without waiting for the deadline', async (t) => {
  const { system, clock } = createTestSystem({ actors })
  await system.tell(Fan, { children: [{ i: 1 }, { i: 2, die: true }], timeoutMs: 3_600_000 })
  await clock.advance(1_000)
  const state = await system.state(Sum)
  t.equal(state?.runs, 1)
  t.same(state?.last?.replies, [10, undefined])
  t.same(state?.last?.missing, [{ index: 1, status: 'dead', error: { message: 'child 2 cannot' } }])
})

for (const width of [2, 10, 1_000]) {
  t.test(`fan-out of ${width}`, async (t) => {
    const { system, settle } = createTestSystem({ actors })
    await system.tell(Fan, { children: Array.from({ length: width }, (_, i) => ({ i })), timeoutMs: 60_000 })
    await settle()
    const state = await system.state(Sum)
    t.equal(state?.runs, 1)
    t.equal(state?.last?.complete, true)
    t.equal(state?.last?.replies.length, width)
    t.equal(state?.last?.replies.reduce((a, b) => a! + b!, 0), (10 * width * (width - 1)) / 2)
    t.same(system.instances('troupe.joiner'), [], 'nothing of the fork stays in memory after its join')
    t.same(await system.timers(), [], 'nor in the timer store')
  })
}

t.test('nested forks: a child forks, and its join answers the outer fork', async (t) => {
  class Leaf extends Actor<{ n: number }, number> {
    static readonly type = 'leaf'
    receive(msg: Leaf['In']) {
      return msg.n * 2
    }
  }
  class InnerJoin extends Actor<Joined<(typeof Leaf)[]>, number> {
    static readonly type = 'innerJoin'
    receive(msg: InnerJoin['In']) {
      return msg.replies.reduce<number>((a, b) => a + (b ?? 0), 0)
    }
  }
  class Branch extends Actor<{ ns: number[] }, number> {
    static readonly type = 'branch'
    receive(msg: Branch['In'], ctx: Context) {
      ctx.fork(msg.ns.map((n) => [Leaf, { n }] as const)).join(InnerJoin, { timeoutMs: 10_000, forward: true })
      return -1 // not the reply: the inner join's is
    }
  }
  const { system, settle } = createTestSystem({ actors: [Leaf, InnerJoin, Branch] })
  const joined = system.fork([[Branch, { ns: [1, 2] }], [Branch, { ns: [3, 4, 5] }], [Leaf, { n: 100 }]] as const, { timeoutMs: 10_000 })
  await settle()
  const result = await joined
  t.equal(result.complete, true)
  t.same(result.replies, [6, 24, 200])
})

t.test('system.fork from outside a turn resolves to the joined replies, also past the deadline', async (t) => {
  const { system, clock } = createTestSystem({ actors })
  sleepOn = (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms))
  const joined = system.fork([[Geo, { ip: '81.0.0.1' }], [Work, { i: 4, delayMs: 10_000 }]] as const, { timeoutMs: 1_000, value: 'ctx' })
  await clock.advance(1_001)
  const result = await joined
  t.equal(result.complete, false)
  t.same(result.replies, [{ country: 'GB' }, undefined])
  t.equal(result.value, 'ctx')
  t.match(result.missing, [{ index: 1, actor: 'work', status: 'running' }])
  await clock.advance(20_000)
})

t.test('a join whose send fails once is retried by the joiner with every reply still counted', async (t) => {
  // The joiner's turns run on its state without a copy: a failed turn must leave it as it was.
  let refusals = 1
  class Picky extends Actor<Joined<(typeof Work)[], string>, void, { runs: number; replies: unknown[] }> {
    static readonly type = 'picky'
    static readonly schema = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) => {
          if (refusals-- > 0) throw new Error('schema service unavailable')
          return { value: value as Joined<(typeof Work)[], string> }
        },
      },
    }
    initialState() {
      return { runs: 0, replies: [] }
    }
    receive(msg: Picky['In'], ctx: Context<Picky['State']>) {
      ctx.state.runs++
      ctx.state.replies = msg.replies
    }
  }
  class Spread extends Actor<{ n: number }> {
    static readonly type = 'spread'
    receive(msg: Spread['In'], ctx: Context) {
      ctx.fork(Array.from({ length: msg.n }, (_, i) => [Work, { i }] as const)).join(Picky, { timeoutMs: 3_600_000, value: 'v' })
    }
  }
  const { system, clock } = createTestSystem({ actors: [Work, Picky, Spread] })
  await system.tell(Spread, { n: 3 })
  await clock.advance(60_000)
  t.equal(refusals, -1, 'the first join was refused, the second accepted')
  t.same(await system.state(Picky), { runs: 1, replies: [0, 10, 20] }, 'one complete join, before the deadline')
  t.same(system.instances('troupe.joiner'), [], 'the fork is gone after its join')
  t.same(await system.deadLetters(), [])
})

t.test('bad forks are refused with the actor named', async (t) => {
  const { system } = createTestSystem({ actors })
  // Named by the call the caller made, not by troupe's own fork-result actor that joins it.
  await t.rejects(system.fork([] as const, { timeoutMs: 1 }), { message: '[TROUPE_CONFIG] system.fork(…): a fork needs at least one child' })
  await t.rejects(system.fork([[Geo, { ip: 'x' }]] as const, { timeoutMs: -1 }), { message: '[TROUPE_CONFIG] system.fork(…): timeoutMs must be a number from 0 up, got -1' })
})

// Compile-time checks of the tuple typing.
export function typeChecks(ctx: Context) {
  // @ts-expect-error Enriched joins [Geo, Agent], not [Agent, Geo]
  ctx.fork([[Agent, { ua: 'x' }], [Geo, { ip: 'y' }]] as const).join(Enriched, { timeoutMs: 1, value: { url: '', ip: '', ua: '' } })
  // @ts-expect-error the value passed along must be a View
  ctx.fork([[Geo, { ip: 'y' }], [Agent, { ua: 'x' }]] as const).join(Enriched, { timeoutMs: 1, value: 42 })
  // @ts-expect-error a child's body is checked against its actor
  ctx.fork([[Geo, { ua: 'y' }], [Agent, { ua: 'x' }]] as const).join(Enriched, { timeoutMs: 1, value: { url: '', ip: '', ua: '' } })
}
