import t from 'tap'
import { Actor, type Context, type Envelope, type MessageId } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

const received: Envelope[] = []
class Sink extends Actor<{ n: number }> {
  static readonly type = 'sink'
  receive(_msg: Sink['In'], ctx: Context) {
    received.push(ctx.message)
  }
}

let failFirst = true
class Fanout extends Actor<{ count: number }, MessageId[]> {
  static readonly type = 'fanout'
  static readonly policy = { maxAttempts: 3, initialDelayMs: 10 }
  receive(msg: Fanout['In'], ctx: Context) {
    const ids: MessageId[] = []
    for (let n = 0; n < msg.count; n++) ids.push(ctx.tell(Sink, { n }))
    if (failFirst && ctx.attempt === 1) throw new Error('after telling')
    return ids
  }
}

t.test('messages told in a turn leave only when it succeeds, with ids derived from the incoming id', async (t) => {
  received.length = 0
  failFirst = true
  const { system, settle } = createTestSystem({ actors: [Fanout, Sink] })
  const root = await system.tell(Fanout, { count: 3 }, { correlationId: 'req-42' })
  await settle()
  t.equal(received.length, 3, 'the failed attempt sent nothing')
  t.same(received.map((e) => e.body), [{ n: 0 }, { n: 1 }, { n: 2 }])
  t.same(received.map((e) => e.id), [`${root}.0`, `${root}.1`, `${root}.2`], 'the retry sent the same ids')
  for (const e of received) {
    t.equal(e.correlationId, 'req-42')
    t.equal(e.causationId, root)
    t.equal(e.parentId, root)
  }
  received.length = 0
  failFirst = false
  const ids = await system.ask(Fanout, { count: 2 })
  await settle()
  t.same(received.map((e) => e.id), ids)
  t.equal(received[0]!.correlationId, received[0]!.causationId, 'without a correlation id, the root id is the correlation id')
})

t.test('long causal chains keep short ids', async (t) => {
  const seen: string[] = []
  class Chain extends Actor<{ left: number }> {
    static readonly type = 'chain'
    receive(msg: Chain['In'], ctx: Context) {
      seen.push(ctx.message.id)
      if (msg.left > 0) ctx.tell(Chain, { left: msg.left - 1 })
    }
  }
  const { system, settle } = createTestSystem({ actors: [Chain] })
  await system.tell(Chain, { left: 100 })
  await settle()
  t.equal(seen.length, 101)
  t.ok(seen.every((id) => id.length <= 64), `longest id ${Math.max(...seen.map((s) => s.length))} characters`)
  t.equal(new Set(seen).size, 101)
})

t.test('replyTo sends the reply as a message; request/reply without blocking the turn', async (t) => {
  const got: { country: string; parent: string | undefined }[] = []
  class Geo extends Actor<{ ip: string }, { country: string }> {
    static readonly type = 'geo'
    receive(msg: Geo['In']) {
      return { country: msg.ip.startsWith('81.') ? 'GB' : 'US' }
    }
  }
  class OnCountry extends Actor<{ country: string }> {
    static readonly type = 'onCountry'
    receive(msg: OnCountry['In'], ctx: Context) {
      got.push({ country: msg.country, parent: ctx.message.parentId })
    }
  }
  class View extends Actor<{ ip: string }, MessageId> {
    static readonly type = 'view'
    receive(msg: View['In'], ctx: Context) {
      return ctx.tell(Geo, { ip: msg.ip }, { replyTo: OnCountry })
    }
  }
  const { system, settle } = createTestSystem({ actors: [Geo, OnCountry, View] })
  const requestId = await system.ask(View, { ip: '81.2.69.160' })
  await settle()
  t.same(got, [{ country: 'GB', parent: requestId }])
})

t.test('ctx.once runs a side effect once per message across retries', async (t) => {
  let charged = 0
  class Charge extends Actor<{ amount: number }, string> {
    static readonly type = 'charge'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 5 }
    async receive(msg: Charge['In'], ctx: Context) {
      const receipt = await ctx.once('charge', async () => {
        charged += msg.amount
        return `ch_${charged}`
      })
      if (ctx.attempt < 3) throw new Error('mail server down')
      return receipt
    }
  }
  const { system, clock } = createTestSystem({ actors: [Charge] })
  const reply = system.ask(Charge, { amount: 5 })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.done === 1)
  t.equal(await reply, 'ch_5')
  t.equal(charged, 5, 'charged once over three attempts')
  await system.tell(Charge, { amount: 1 })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.done === 2)
  t.equal(charged, 6, 'another message charges again')
})

t.test('ctx.once: each attempt gets the result as it was recorded, not the object an earlier attempt changed', async (t) => {
  for (const checkSerializable of [true, false]) {
    await t.test(`checkSerializable ${checkSerializable}`, async (t) => {
      const seen: unknown[] = []
      let calls = 0
      class Refund extends Actor<{ order: string }, number> {
        static readonly type = 'refund'
        static readonly policy = { maxAttempts: 3, initialDelayMs: 5 }
        async receive(_msg: Refund['In'], ctx: Context) {
          const charge = await ctx.once('charge', () => (calls++, { amount: 10, refunds: [] as number[], at: new Date(5) }))
          seen.push(structuredClone(charge))
          charge.amount -= 1
          charge.refunds.push(1)
          charge.at.setTime(6)
          if (ctx.attempt < 3) throw new Error('fails after the side effect')
          return charge.amount
        }
      }
      const { system, clock } = createTestSystem({ actors: [Refund], checkSerializable })
      const reply = system.ask(Refund, { order: 'o1' })
      await clock.runUntil(() => system.inspect().actors[0]!.counts.done === 1)
      t.equal(await reply, 9, 'the refund applied once')
      t.equal(calls, 1)
      t.same(seen, Array(3).fill({ amount: 10, refunds: [], at: new Date(5) }), 'each attempt got the result fn returned')
    })
  }
})

t.test('ctx.once at most once: a side effect that failed is not run again; its error answers every attempt', async (t) => {
  let calls = 0
  const errors: string[] = []
  class Sms extends Actor<{ to: string }, string> {
    static readonly type = 'sms'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 5 }
    async receive(msg: Sms['In'], ctx: Context) {
      try {
        return await ctx.once('send', () => {
          calls++
          throw new Error(`gateway timeout for ${msg.to}`)
        }, { semantics: 'at-most-once' })
      } catch (e) {
        errors.push((e as Error).message)
        throw e
      }
    }
  }
  const { system, clock } = createTestSystem({ actors: [Sms] })
  await system.tell(Sms, { to: '+44' })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.dead === 1)
  t.equal(calls, 1, 'sent at most once')
  t.same(errors, Array(3).fill('gateway timeout for +44'), 'each of the 3 attempts got the first error')
})

t.test('ctx.once refuses a bad name, function or semantics, naming the actor and the message', async (t) => {
  const seen: string[] = []
  class Bad extends Actor<{ n: number }> {
    static readonly type = 'bad.once'
    static readonly policy = { maxAttempts: 1 }
    async receive(msg: Bad['In'], ctx: Context) {
      const calls = [() => ctx.once('', () => 1), () => ctx.once('x', 1 as never), () => ctx.once('x', () => 1, { semantics: 'exactly-once' as never }), () => ctx.once('\uD800', () => 1), () => ctx.once('a\uDC00', () => 1)]
      for (const call of calls) await call().catch((e: Error) => seen.push(e.message))
      void msg
    }
  }
  const { system, clock } = createTestSystem({ actors: [Bad] })
  const id = await system.tell(Bad, { n: 1 })
  await clock.runUntil(() => system.inspect().actors[0]!.counts.done === 1)
  t.equal(seen.length, 5)
  t.match(seen[0], new RegExp(`ctx\\.once in bad\\.once's turn on message ${id}: the name must be a string of 1 to 512 characters`))
  t.match(seen[1], /\('x'\): fn must be a function/)
  t.match(seen[2], /options\.semantics must be 'at-least-once' or 'at-most-once', got "exactly-once"/)
  // DynamoDB keeps the record's key as UTF-8, where both would be U+FFFD: two names, one record
  t.match(seen[3], new RegExp(`ctx\\.once in bad\\.once's turn on message ${id}: the name must be well-formed UTF-16 \\(no lone surrogate.*\\), got "\\\\ud800"`))
  t.match(seen[4], /got "a\\udc00"/)
})

t.test('state may be replaced, and is rolled back when the turn fails', async (t) => {
  class Doc extends Actor<{ text: string; fail?: boolean }, string, { text: string; history: string[]; meta: Map<string, Date> }> {
    static readonly type = 'doc'
    static readonly policy = { maxAttempts: 1 }
    initialState() {
      return { text: '', history: [] as string[], meta: new Map<string, Date>() }
    }
    receive(msg: Doc['In'], ctx: Context<{ text: string; history: string[]; meta: Map<string, Date> }>) {
      ctx.state.history.push(ctx.state.text)
      ctx.state.meta.set('edited', new Date(0))
      if (msg.fail) throw new Error('nope')
      ctx.state = { ...ctx.state, text: msg.text }
      return ctx.state.text
    }
  }
  const { system, settle } = createTestSystem({ actors: [Doc] })
  await system.ask(Doc, { text: 'a' })
  await system.tell(Doc, { text: 'b', fail: true })
  await settle()
  const state = await system.state(Doc)
  t.same(state?.history, [''])
  t.equal(state?.text, 'a')
  t.equal(state?.meta.get('edited')?.getTime(), 0)
  state!.history.push('mutating a copy')
  t.same((await system.state(Doc))?.history, [''], 'state() returns a copy')
})

t.test('a tell after the turn ended is an error naming the actor and message', async (t) => {
  let late: (() => void) | undefined
  class Leaky extends Actor<{ n: number }> {
    static readonly type = 'leaky'
    receive(_msg: Leaky['In'], ctx: Context) {
      late = () => ctx.tell(Leaky, { n: 2 })
    }
  }
  const { system, settle } = createTestSystem({ actors: [Leaky] })
  const id = await system.tell(Leaky, { n: 1 })
  await settle()
  t.throws(() => late!(), { code: 'TROUPE_TURN_OVER', message: new RegExp(`leaky told leaky after its turn on message ${id}`) })
})
