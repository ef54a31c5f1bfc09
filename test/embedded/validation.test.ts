import t from 'tap'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { Actor, AskTimeoutError, createSystem, NotSerializableError, ValidationError, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { findUnserializable } from '../../lib/core/serializable.js'
import { Signup } from '../fixtures/actors.js'

t.test('tell and ask reject an invalid body at once, naming the actor and the field', async (t) => {
  const { system } = createTestSystem({ actors: [Signup] })
  const bad = { email: 'not-an-email', age: 12.5 }
  const error = (await system.tell(Signup, bad).catch((e: unknown) => e)) as ValidationError
  t.type(error, ValidationError)
  t.equal(error.code, 'TROUPE_INVALID_MESSAGE')
  t.equal(error.actor, 'signup')
  t.same(error.issues.map((i) => i.path), ['email', 'age'])
  t.match(error.message, /^\[TROUPE_INVALID_MESSAGE\] message for signup is invalid: email: .*email.*; age: .*int/i)
  await t.rejects(system.ask(Signup, { email: 'a@b.co' } as never), { message: /age: .*(number|expected)/i })
  await t.rejects(system.tell('signup', { email: 'x@y.z', age: '30' }), { message: /age/ })
  t.equal(system.inspect().actors[0]!.counts.accepted, 0, 'nothing was accepted')
  t.equal(await system.ask(Signup, { email: 'ok@example.com', age: 30 }), 'ok@example.com')
})

t.test('any Standard Schema works, also one that validates asynchronously', async (t) => {
  const evenSchema: StandardSchemaV1<{ n: number }> = {
    '~standard': {
      version: 1,
      vendor: 'hand-written',
      validate: async (value) => {
        const n = (value as { n?: unknown })?.n
        return typeof n === 'number' && n % 2 === 0 ? { value: { n } } : { issues: [{ message: 'must be even', path: [{ key: 'n' }] }] }
      },
    },
  }
  class Even extends Actor<{ n: number }, number> {
    static readonly type = 'even'
    static readonly schema = evenSchema
    receive(msg: Even['In']) {
      return msg.n / 2
    }
  }
  const { system } = createTestSystem({ actors: [Even] })
  t.equal(await system.ask(Even, { n: 4 }), 2)
  await t.rejects(system.tell(Even, { n: 3 }), { message: 'message for even is invalid: n: must be even', code: 'TROUPE_INVALID_MESSAGE' } as never)
})

class Box extends Actor<{ payload: unknown }> {
  static readonly type = 'box'
  receive() {}
}

t.test('a message that would not survive the AWS mode is refused, with the path', async (t) => {
  const { system } = createTestSystem({ actors: [Box] })
  class Point {
    constructor(public x = 1) {}
  }
  const cases: [unknown, RegExp][] = [
    [{ fn: () => 1 }, /a function at body\.payload\.fn;/],
    [{ list: [1, 2, new Point()] }, /an instance of class Point at body\.payload\.list\[2\];/],
    [{ s: Symbol('x') }, /a symbol at body\.payload\.s;/],
    [new Map([['k', { deep: [() => 0] }]]), /a function at body\.payload\.get\(0\)\.deep\[0\];/],
    // superjson refuses to write these keys (prototype pollution), so AWS could never send them.
    [{ counts: { constructor: 1 } }, /a key named "constructor", which superjson refuses to write at body\.payload\.counts\.constructor;/],
    [[{ prototype: {} }], /a key named "prototype", which superjson refuses to write at body\.payload\[0\]\.prototype;/],
    [JSON.parse('{"__proto__": 1}'), /a key named "__proto__", which superjson refuses to write at body\.payload\.__proto__;/],
    // superjson writes an Invalid Date as null: the AWS mode would deliver null.
    [{ at: new Date('not a date') }, /an invalid Date \(superjson would write it as null\) at body\.payload\.at;/],
    [new Date(Number.NaN), /an invalid Date \(superjson would write it as null\) at body\.payload;/],
  ]
  for (const [payload, pattern] of cases) {
    const error = await system.tell(Box, { payload } as never).catch((e: unknown) => e)
    t.type(error, NotSerializableError)
    t.match((error as Error).message, pattern)
    t.match((error as Error).message, /message of box has/)
  }
  for (const payload of [new Date(0), /re/g, new Set([1n]), new URL('https://example.com/'), new Error('kept'), { a: undefined, b: null, c: NaN }]) {
    t.resolves(system.tell(Box, { payload }), `${Object.prototype.toString.call(payload)} travels`)
  }
})

t.test('production skips the per-message check (the type system still guards it)', async (t) => {
  const system = createSystem({ actors: [Box], checkSerializable: false, logLevel: 'silent' })
  await t.resolves(system.tell(Box, { payload: { fn: () => 1 } } as never))
  await system.stop()
})

t.test('state and replies are checked too: a bad one dead-letters the message at once', async (t) => {
  class Keeper extends Actor<{ n: number }, void, { handlers: unknown[] }> {
    static readonly type = 'keeper'
    initialState() {
      return { handlers: [] as unknown[] }
    }
    receive(_msg: Keeper['In'], ctx: Context<{ handlers: unknown[] }>) {
      ctx.state.handlers.push(() => 'oops')
    }
  }
  const { system, settle } = createTestSystem({ actors: [Keeper] })
  await system.tell(Keeper, { n: 1 })
  await settle()
  const [letter] = await system.deadLetters()
  t.equal(letter?.error.name, 'NotSerializableError')
  t.match(letter?.error.message, /state of keeper has a function at state\.handlers\[0\]/)
  t.equal(letter?.attempts.length, 1, 'not retried')
  t.same(await system.state(Keeper), { handlers: [] }, 'not committed')
})

t.test('a state key superjson refuses to write dead-letters the message, as on AWS, and the key goes on', async (t) => {
  class Words extends Actor<{ word: string }, void, { counts: Record<string, number> }> {
    static readonly type = 'words'
    initialState() {
      return { counts: {} as Record<string, number> }
    }
    receive(msg: Words['In'], ctx: Context<{ counts: Record<string, number> }>) {
      ctx.state.counts[msg.word] = (ctx.state.counts[msg.word] ?? 0) + 1
    }
  }
  const { system, settle } = createTestSystem({ actors: [Words] })
  for (const word of ['a', 'constructor', 'b']) await system.tell(Words, { word })
  await settle()
  const letters = await system.deadLetters()
  t.equal(letters.length, 1)
  t.equal(letters[0]?.envelope.body && (letters[0].envelope.body as { word: string }).word, 'constructor')
  t.match(letters[0]?.error.message, /state of words has a key named "constructor", which superjson refuses to write at state\.counts\.constructor/)
  t.same(await system.state(Words), { counts: { a: 1, b: 1 } }, 'the neighbours were kept')
})

t.test('the serialisability walk survives hostile shapes', async (t) => {
  let deep: unknown = 'leaf'
  for (let i = 0; i < 10_000; i++) deep = { d: deep }
  t.equal(findUnserializable(deep), undefined, '10,000 levels deep, no stack overflow')
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  t.equal(findUnserializable(cyclic), undefined, 'cycles end')
  const proto = JSON.parse('{"__proto__": {"polluted": true}}')
  t.same(findUnserializable(proto), { path: 'body.__proto__', found: 'a key named "__proto__", which superjson refuses to write' })
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  const nullProto = Object.create(null)
  nullProto.x = 1
  t.equal(findUnserializable(nullProto), undefined)
})

t.test('a key the actor cannot make is the message’s fault, named at tell', async (t) => {
  class ByHost extends Actor<{ url: string }> {
    static readonly type = 'byHost'
    key(msg: ByHost['In']) {
      return new URL(msg.url).host
    }
    receive() {}
  }
  const { system } = createTestSystem({ actors: [ByHost] })
  await t.rejects(system.tell(ByHost, { url: 'not a url' }), { code: 'TROUPE_INVALID_MESSAGE', message: /message for byHost is invalid: \(key\): key\(msg\) threw: Invalid URL/ })
  await t.rejects(system.tell(ByHost, { url: 'file:///x' }), { message: /\(key\): key\(msg\) must return a string of 1 to 1024 characters, got a string of 0/ })
  t.ok(await system.tell(ByHost, { url: 'https://a.example/x' }))
})

t.test('a key with a lone surrogate is refused at tell, ask, a tell inside a turn and schedule: DynamoDB would keep two such keys as one', async (t) => {
  class Keyed extends Actor<{ k: string }, void, { n: number }> {
    static readonly type = 'keyed'
    key(msg: Keyed['In']) {
      return msg.k
    }
    initialState() {
      return { n: 0 }
    }
    receive(_msg: Keyed['In'], ctx: Context<{ n: number }>) {
      ctx.state.n++
    }
  }
  const errors: string[] = []
  class Sender extends Actor<{ k: string }> {
    static readonly type = 'sender'
    static readonly policy = { maxAttempts: 1 }
    receive(msg: Sender['In'], ctx: Context) {
      try {
        ctx.tell(Keyed, { k: msg.k })
      } catch (e) {
        errors.push((e as Error).message)
      }
    }
  }
  const { system, clock } = createTestSystem({ actors: [Keyed, Sender] })
  const refused = { code: 'TROUPE_INVALID_MESSAGE', message: /message for keyed is invalid: \(key\): key\(msg\) must return well-formed UTF-16 \(no lone surrogate.*\), got "\\ud800"/ }
  await t.rejects(system.tell(Keyed, { k: '\uD800' }), refused)
  await t.rejects(system.ask(Keyed, { k: '\uDC00' }), { code: 'TROUPE_INVALID_MESSAGE', message: /got "\\udc00"/ })
  await t.rejects(system.schedule(Keyed, { k: '\uD800' }, { afterMs: 10 }), refused)
  await system.tell(Sender, { k: 'x\uDBFF' })
  await clock.runUntil(() => system.inspect().actors.find((a) => a.type === 'sender')!.counts.done === 1)
  t.match(errors, [/key\(msg\) must return well-formed UTF-16/], 'a tell inside a turn is refused too')
  t.ok(await system.tell(Keyed, { k: '\uD83D\uDE00' }), 'a surrogate pair is well-formed')
})

t.test('an ask that times out while its schema still validates leaves a receipt to follow', async (t) => {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const slowSchema: StandardSchemaV1<{ n: number }> = {
    '~standard': {
      version: 1,
      vendor: 'hand-written',
      validate: async (value) => {
        await held
        return { value: value as { n: number } }
      },
    },
  }
  class Slow extends Actor<{ n: number }, number> {
    static readonly type = 'slow'
    static readonly schema = slowSchema
    receive(msg: Slow['In']) {
      return msg.n
    }
  }
  const system = createSystem({ actors: [Slow], logLevel: 'silent' })
  t.teardown(() => system.stop())
  const error = (await system.ask(Slow, { n: 1 }, { timeoutMs: 5 }).catch((e: unknown) => e)) as AskTimeoutError
  t.type(error, AskTimeoutError)
  const done = new Promise<void>((resolve) => system.on((event) => event.type === '@troupe.done' && resolve()))
  release()
  await done
  const receipt = await system.receipt(error.messageId)
  t.equal(receipt?.status, 'done', 'the message ran after its ask gave up, and its receipt says so')
})
