import t from 'tap'
import { Actor, AskFailedError, TurnTimeoutError, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { Flaky } from '../fixtures/actors.js'

t.test('retries, then succeeds; a failed attempt keeps no state', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Flaky] })
  const id = await system.tell(Flaky, { k: 'a', failTimes: 2 }, { receipt: true })
  const receipt = system.awaitReceipt(id, { timeoutMs: 60_000 })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.done === 1)
  const r = await receipt
  t.equal(r.status, 'done')
  t.equal(r.attempts, 3)
  t.same(
    r.history.map((e) => [e.status, e.attempt]),
    [['accepted', 0], ['running', 1], ['retrying', 1], ['running', 2], ['retrying', 2], ['running', 3], ['done', 3]],
  )
  t.match(r.history[2]!.reason, /attempt 1 of a failed/)
  t.same(await system.state(Flaky, 'a'), { tries: 0, ok: 1 }, 'the failed turns changed nothing')
  t.equal(system.inspect().actors[0]!.counts.retried, 2)
  t.same(await system.deadLetters(), [])
})

t.test('retries exhausted: a dead letter with every attempt; replay after a fix runs it once', async (t) => {
  let broken = true
  class Billing extends Actor<{ invoice: string }, string, { charged: string[] }> {
    static readonly type = 'billing'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200 }
    initialState() {
      return { charged: [] as string[] }
    }
    receive(msg: Billing['In'], ctx: Context<{ charged: string[] }>) {
      if (broken) throw new Error(`gateway down for ${msg.invoice}`)
      ctx.state.charged.push(msg.invoice)
      return 'ok'
    }
  }
  const { system, clock, settle } = createTestSystem({ actors: [Billing] })
  const asked = system.ask(Billing, { invoice: 'inv-1' }, { timeoutMs: 60_000 }).catch((e: unknown) => e)
  await settle()
  const error = (await asked) as AskFailedError
  t.type(error, AskFailedError)
  t.match(error.message, /ask to billing \(message \S+\) ended dead: gateway down for inv-1/)
  const [letter, ...more] = await system.deadLetters()
  t.equal(more.length, 0)
  t.equal(letter!.envelope.type, 'billing')
  t.same(letter!.envelope.body, { invoice: 'inv-1' })
  t.equal(letter!.attempts.length, 3)
  t.same(letter!.attempts.map((a) => a.attempt), [1, 2, 3])
  t.ok(letter!.attempts.every((a) => a.error.message === 'gateway down for inv-1'))
  t.ok(letter!.attempts[1]!.startedAt >= letter!.attempts[0]!.endedAt, 'attempts are spaced by the backoff')
  t.equal(system.inspect().actors[0]!.counts.dead, 1)
  t.equal((await system.receipt(letter!.envelope.id))?.status, 'dead')

  broken = false
  const replayed = await system.replay(letter!.envelope.id)
  t.equal(replayed, letter!.envelope.id, 'a replay keeps the message id')
  const r = await system.awaitReceipt(replayed)
  t.equal(r.status, 'done')
  t.same(r.history.slice(-3).map((e) => e.status), ['accepted', 'running', 'done'])
  t.same(await system.state(Billing), { charged: ['inv-1'] })
  t.same(await system.deadLetters(), [])
  await t.rejects(system.replay(replayed), { code: 'TROUPE_NO_DEAD_LETTER' })
  await clock.advance(10)
})

t.test('a TerminalError dead-letters at once, without retries', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Flaky] })
  const id = await system.tell(Flaky, { k: 't', failTimes: 9, terminal: true })
  await settle()
  const [letter] = await system.deadLetters()
  t.equal(letter?.envelope.id, id)
  t.equal(letter?.attempts.length, 1)
  t.equal(letter?.error.name, 'TerminalError')
  t.match(letter?.error.message, /no way for t/)
  t.equal(system.inspect().actors[0]!.counts.retried, 0)
})

t.test('RetryableError.retryAfterMs sets the delay', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Flaky] })
  const id = await system.tell(Flaky, { k: 'r', failTimes: 1, retryAfterMs: 5_000 })
  await clock.advance(4_990)
  t.equal((await system.receipt(id))?.status, 'retrying')
  await clock.advance(20)
  t.equal((await system.receipt(id))?.status, 'done')
})

t.test('backoff grows exponentially with full jitter, capped', async (t) => {
  const delays: number[] = []
  class Down extends Actor<{ n: number }> {
    static readonly type = 'down'
    static readonly policy = { maxAttempts: 6, initialDelayMs: 100, maxDelayMs: 800, backoffMultiplier: 2 }
    receive() {
      throw new Error('down')
    }
  }
  const { system, settle } = createTestSystem({ actors: [Down], random: () => 1 })
  system.on((e) => {
    if (e.type === '@troupe.retried') delays.push(e.delayMs)
  })
  await system.tell(Down, { n: 1 })
  await settle()
  t.same(delays, [100, 200, 400, 800, 800], 'with random() = 1 each delay is its cap')

  const jittered: number[] = []
  const seeded = createTestSystem({ actors: [Down], seed: 7 })
  seeded.system.on((e) => {
    if (e.type === '@troupe.retried') jittered.push(e.delayMs)
  })
  await seeded.system.tell(Down, { n: 1 })
  await seeded.settle()
  t.equal(jittered.length, 5)
  jittered.forEach((d, i) => t.ok(d >= 0 && d <= Math.min(800, 100 * 2 ** i), `delay ${i} = ${d} within its cap`))
  t.not(jittered.join(), delays.join(), 'jitter spreads the delays')
})

t.test('a turn past attemptTimeoutMs fails with TurnTimeoutError and is retried; its late result is ignored', async (t) => {
  let calls = 0
  // The first attempt ends only when the test lets it, after the retry replied: no race with real time.
  let letFirstEnd!: () => void
  const firstMayEnd = new Promise<void>((resolve) => (letFirstEnd = resolve))
  let firstEnded!: () => void
  const firstDone = new Promise<void>((resolve) => (firstEnded = resolve))
  class Hang extends Actor<{ k: string }, number, { n: number }> {
    static readonly type = 'hang'
    static readonly policy = { attemptTimeoutMs: 1_000, maxAttempts: 2, initialDelayMs: 10 }
    key(msg: Hang['In']) {
      return msg.k
    }
    initialState() {
      return { n: 0 }
    }
    async receive(_msg: Hang['In'], ctx: Context<{ n: number }>) {
      calls++
      if (ctx.attempt === 1) {
        await firstMayEnd
        ctx.state.n = 100
        firstEnded()
        return -1
      }
      ctx.state.n += 1
      return ctx.state.n
    }
  }
  const { system, clock } = createTestSystem({ actors: [Hang] })
  const reply = system.ask(Hang, { k: 'h' }, { timeoutMs: 60_000 })
  await clock.advance(1_001)
  await clock.advance(100)
  t.equal(await reply, 1)
  letFirstEnd() // the first attempt finishes late
  await firstDone
  await new Promise((resolve) => setImmediate(resolve))
  t.same(await system.state(Hang, 'h'), { n: 1 }, 'the timed-out attempt did not commit')
  t.equal(calls, 2)
  const id = system.instances(Hang)[0]!.lastMessageId!
  const r = await system.receipt(id)
  t.match(r?.history.find((e) => e.status === 'retrying')?.reason, /ran past 1000 ms/)
  t.ok(TurnTimeoutError)
})

t.test('bad policies are refused eagerly with the actor and field named', async (t) => {
  class BadPolicy extends Actor<{ n: number }> {
    static readonly type = 'badPolicy'
    static readonly policy = { maxAttempts: 0 }
    receive() {}
  }
  t.throws(() => createTestSystem({ actors: [BadPolicy] }), { code: 'TROUPE_CONFIG', message: /badPolicy\.policy\.maxAttempts must be a number from 1 up, got `0`/ })
  class PerKeyNoKey extends Actor<{ n: number }> {
    static readonly type = 'perKeyNoKey'
    static readonly policy = { throttlePerKey: { ratePerSecond: 1 } }
    receive() {}
  }
  t.throws(() => createTestSystem({ actors: [PerKeyNoKey] }), { message: /throttlePerKey needs a key\(msg\) method on perKeyNoKey/ })
  class NoType extends Actor<{ n: number }> {
    receive() {}
  }
  t.throws(() => createTestSystem({ actors: [NoType as never] }), { message: /NoType needs `static readonly type`/ })
})
