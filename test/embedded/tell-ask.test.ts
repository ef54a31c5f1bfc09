import t from 'tap'
import { Actor, AskTimeoutError, createSystem, SystemStoppedError, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { Counter, Echo } from '../fixtures/actors.js'
import type { Clock } from '../../lib/core/clock.js'

class Never extends Actor<{ k: string }, string> {
  static readonly type = 'never'
  static readonly policy = { attemptTimeoutMs: 0 }
  key(msg: Never['In']) {
    return msg.k
  }
  receive() {
    return new Promise<string>(() => {})
  }
}

t.test('ask returns the reply; keyed state is kept per instance', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Counter] })
  t.equal(await system.ask(Counter, { k: 'a', by: 2 }), 2)
  t.equal(await system.ask(Counter, { k: 'a', by: 3 }), 5)
  t.equal(await system.ask(Counter, { k: 'b', by: 1 }), 1)
  await settle()
  t.same(await system.state(Counter, 'a'), { count: 5, log: [2, 3] })
  t.same(await system.state(Counter, 'b'), { count: 1, log: [1] })
  t.equal(await system.state(Counter, 'zzz'), undefined)
  t.same(system.instances(Counter).map((i) => i.key).sort(), ['a', 'b'])
})

t.test('tell resolves to the message id at once and runs the turn later, never inside tell', async (t) => {
  const system = createSystem({ actors: [Counter], logLevel: 'silent' })
  const id = await system.tell(Counter, { k: 'x', by: 1 })
  t.type(id, 'string')
  t.ok(id.length > 10)
  // Tell returned before the turn ran (the turn starts on a later microtask).
  const p = system.tell(Counter, { k: 'x', by: 1 })
  t.equal(system.inspect().actors[0]!.queued, 1)
  await p
  await system.stop()
  t.same(await system.state(Counter, 'x'), { count: 2, log: [1, 1] })
})

t.test('string names work for callers that only have one', async (t) => {
  const { system } = createTestSystem({ actors: [Counter, Echo] })
  t.same(await system.ask('echo', { text: 'hi' }), { text: 'hi', attempt: 1 })
  await system.tell('counter', { k: 'n', by: 4 })
  t.equal(await system.ask('counter', { k: 'n', by: 0 }), 4)
  await t.rejects(system.tell('nobody', {}), { code: 'TROUPE_UNKNOWN_ACTOR', message: /no actor nobody.*known: counter, echo/ })
  await t.rejects(system.ask('nobody', {}), { name: 'UnknownActorError', code: 'TROUPE_UNKNOWN_ACTOR' })
})

t.test('an ask timeout names the actor, key, message id and last status', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Never] })
  const p = system.ask(Never, { k: 'k1' }, { timeoutMs: 500 })
  const caught = p.catch((e: unknown) => e)
  await clock.advance(501)
  const error = (await caught) as AskTimeoutError
  t.type(error, AskTimeoutError)
  t.equal(error.code, 'TROUPE_ASK_TIMEOUT')
  t.match(error.message, /ask to never#k1 \(message \S+\) got no reply in 500 ms; last status: running/)
  t.equal(error.actor, 'never')
  t.equal(error.key, 'k1')
  t.ok((await system.receipt(error.messageId))?.status === 'running')
})

t.test('stop drains accepted messages, then refuses new ones', async (t) => {
  class Slow extends Actor<{ n: number }, void, { seen: number[] }> {
    static readonly type = 'slow'
    initialState() {
      return { seen: [] as number[] }
    }
    async receive(msg: Slow['In'], ctx: Context<{ seen: number[] }>) {
      await new Promise((r) => setTimeout(r, 1))
      ctx.state.seen.push(msg.n)
    }
  }
  const system = createSystem({ actors: [Slow], logLevel: 'silent' })
  for (let n = 0; n < 20; n++) await system.tell(Slow, { n })
  const report = await system.stop()
  t.same(report, { drained: 20, deadLettered: 0, stillRunning: 0, leftInStream: 0 })
  t.same((await system.state(Slow))?.seen, Array.from({ length: 20 }, (_, i) => i))
  await t.rejects(system.tell(Slow, { n: 99 }), SystemStoppedError)
  await t.rejects(system.stop(), SystemStoppedError)
})

t.test('stop past its timeout dead-letters what is left, so nothing disappears', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Never] })
  await system.tell(Never, { k: 'a' })
  await system.tell(Never, { k: 'a' })
  await system.tell(Never, { k: 'a' })
  await clock.advance(1)
  const stopping = system.stop({ timeoutMs: 1_000 })
  await clock.advance(1_001)
  const report = await stopping
  t.equal(report.deadLettered, 2, 'the two queued behind the stuck turn')
  t.equal(report.stillRunning, 1)
  const dead = await system.deadLetters()
  t.equal(dead.length, 2)
  t.match(dead[0]!.error.message, /system stopped before never message/)
  t.same(dead.map((d) => d.envelope.attempt), [0, 0], 'neither ran: attempt 0')
})

t.test('ctx.log carries the actor, key and ids; the testing kit waits for a state', async (t) => {
  const lines: string[] = []
  class Loud extends Actor<{ k: string }, void, { n: number }> {
    static readonly type = 'loud'
    key(msg: Loud['In']) {
      return msg.k
    }
    initialState() {
      return { n: 0 }
    }
    receive(_msg: Loud['In'], ctx: Context<{ n: number }>) {
      ctx.log.info('counted', { n: ++ctx.state.n })
    }
  }
  const { createLogger } = await import('../../lib/index.js')
  const { system, waitForState } = createTestSystem({ actors: [Loud], logger: createLogger('info', {}, (l) => lines.push(l)) })
  const id = await system.tell(Loud, { k: 'q' }, { correlationId: 'corr-1' })
  await system.tell(Loud, { k: 'q' })
  t.same(await waitForState(Loud, 'q', (s) => s?.n === 2), { n: 2 })
  t.match(JSON.parse(lines[0]!), { msg: 'counted', actor: 'loud', key: 'q', messageId: id, correlationId: 'corr-1', n: 1 })
})

t.test('tells in one stretch of code share a reading of the clock for up to 64 messages; a tell in the next stretch or after a turn reads it again, and an ask reads its own', async (t) => {
  let reads = 0
  const clock = { now: () => ++reads * 1_000, setTimeout, clearTimeout } as unknown as Clock
  const system = createSystem({ actors: [Counter, Echo], clock, logLevel: 'silent' })
  const sentAt: number[] = []
  system.on((event) => {
    if (event.type === '@troupe.accepted' && event.envelope.type === Counter.type) sentAt.push(event.envelope.sentAt)
  })
  for (let i = 0; i < 100; i++) void system.tell(Counter, { k: `k${i % 3}`, by: 1 })
  t.equal(new Set(sentAt.slice(0, 64)).size, 1, 'the first 64 share one reading')
  t.equal(new Set(sentAt.slice(64)).size, 1, 'the next 36 share the next')
  t.ok(sentAt[64]! > sentAt[0]!, 'a later reading')
  await system.idle()
  void system.tell(Counter, { k: 'k0', by: 1 })
  t.ok(sentAt[100]! > sentAt[99]!, 'a tell in a later stretch reads the clock')
  await system.pause(Counter)
  const paused = sentAt.length
  void system.tell(Counter, { k: 'k1', by: 1 })
  await Promise.resolve()
  void system.tell(Counter, { k: 'k1', by: 1 })
  t.ok(sentAt[paused + 1]! > sentAt[paused]!, 'the next microtask is a new stretch, though the first tell woke nothing')
  const asked = system.ask(Counter, { k: 'k2', by: 1 })
  t.ok(sentAt.at(-1)! > sentAt[paused + 1]!, 'an ask reads the clock for its deadline and its message')
  await system.resume(Counter)
  await asked
  await system.stop()

  // Turns that tell from outside their own outbox (system.tell in receive), one after another in one worker.
  let relaySystem: ReturnType<typeof createSystem>
  class Relay extends Actor<{ n: number }> {
    static readonly type = 'relay'
    receive(msg: Relay['In']) {
      void relaySystem.tell(Echo, { text: String(msg.n) })
    }
  }
  relaySystem = createSystem({ actors: [Relay, Echo], clock, logLevel: 'silent' })
  const relayed: number[] = []
  relaySystem.on((event) => {
    if (event.type === '@troupe.accepted' && event.envelope.type === Echo.type) relayed.push(event.envelope.sentAt)
  })
  void relaySystem.tell(Relay, { n: 1 })
  void relaySystem.tell(Relay, { n: 2 })
  await relaySystem.idle()
  t.equal(relayed.length, 2)
  t.ok(relayed[1]! > relayed[0]!, 'a tell after a turn reads the clock again')
  await relaySystem.stop()
})
