// A turn's state is kept only when the turn succeeds, without a copy of the state per turn:
// the embedded host runs the turn on the state itself and undoes it when the turn fails, and
// the durable host keeps the state it began from apart (its size check may refuse a turn that
// succeeded). No proxy of a turn reaches the state, a store, a reply or a message.
import t from 'tap'
import { types } from 'node:util'
import { Actor, TerminalError, type Context } from '../../lib/index.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { createLogger } from '../../lib/core/logger.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { decode } from '../../lib/core/serialization.js'
import { DurableHost } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { createTestSystem } from '../../lib/testing/index.js'

/** The path of the first proxy in `value`: walks the containers themselves, not through traps. */
function findProxy(value: unknown, path = 'value', seen = new Set<object>()): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (types.isProxy(value)) return path
  if (seen.has(value)) return undefined
  seen.add(value)
  const children: [string, unknown][] =
    value instanceof Map ? [...value].flatMap(([k, v]) => [[`${path}.<key>`, k] as [string, unknown], [`${path}.get(${String(k)})`, v]]) : value instanceof Set ? [...value].map((v) => [`${path}.<item>`, v]) : Reflect.ownKeys(value).map((k) => [`${path}.${String(k)}`, (value as Record<PropertyKey, unknown>)[k]])
  for (const [p, v] of children) {
    const found = findProxy(v, p, seen)
    if (found) return found
  }
  return undefined
}

interface Users {
  users: Map<string, { visits: number; tags: string[] }>
  total: number
}

type Visit = { user: string; fail?: 'before-await' | 'after-await' | 'replace' }

class Visits extends Actor<Visit, number, Users> {
  static readonly type = 'visits'
  static readonly policy = { maxAttempts: 1 }
  initialState(): Users {
    return { users: new Map([['ada', { visits: 1, tags: ['a'] }]]), total: 1 }
  }
  async receive(msg: Visit, ctx: Context<Users>) {
    const user = ctx.state.users.get(msg.user) ?? { visits: 0, tags: [] }
    ctx.state.users.set(msg.user, user)
    ctx.state.users.get(msg.user)!.visits++
    ctx.state.users.get(msg.user)!.tags.push('seen')
    ctx.state.total++
    if (msg.fail === 'before-await') throw new TerminalError('failed after changing a nested Map entry')
    await new Promise((resolve) => setImmediate(resolve))
    ctx.state.users.delete('ada')
    if (msg.fail === 'after-await') throw new TerminalError('failed after an await')
    if (msg.fail === 'replace') {
      ctx.state = { users: new Map(), total: -1 }
      throw new TerminalError('failed after replacing the state')
    }
    return ctx.state.total
  }
}

t.test('a failed turn leaves the state as it was: a nested Map entry, after an await, a replaced state', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Visits] })
  t.equal(await system.ask(Visits, { user: 'bo' }), 2)
  const kept = await system.state(Visits)
  t.same([...kept!.users.keys()], ['bo'])
  for (const fail of ['before-await', 'after-await', 'replace'] as const) {
    for (const user of ['bo', 'cy']) {
      await system.tell(Visits, { user, fail })
      await settle()
      t.same(await system.state(Visits), kept, `${fail}, ${user === 'bo' ? 'an entry it had' : 'a new entry'}: the state as it was`)
    }
  }
  t.equal((await system.deadLetters()).length, 6)
  t.equal(await system.ask(Visits, { user: 'bo' }), 3, 'the next turn runs on the kept state')
  t.same((await system.state(Visits))!.users.get('bo'), { visits: 2, tags: ['seen', 'seen'] })
})

t.test('a turn retried after it failed starts from the state as it was', async (t) => {
  class Counter extends Actor<{ by: number }, number, { n: number; log: number[] }> {
    static readonly type = 'retriedCounter'
    static readonly policy = { maxAttempts: 3, initialDelayMs: 1 }
    initialState() {
      return { n: 0, log: [] }
    }
    receive(msg: { by: number }, ctx: Context<{ n: number; log: number[] }>) {
      ctx.state.n += msg.by
      ctx.state.log.push(ctx.attempt)
      if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`)
      return ctx.state.n
    }
  }
  const { system, clock } = createTestSystem({ actors: [Counter] })
  const reply = system.ask(Counter, { by: 5 })
  await clock.advance(1_000)
  t.equal(await reply, 5, 'added once')
  t.same(await system.state(Counter), { n: 5, log: [3] })
})

t.test('states that are not objects: a number, undefined, and a state set to undefined', async (t) => {
  class Tally extends Actor<{ by: number; fail?: boolean; forget?: boolean }, number | undefined, number | undefined> {
    static readonly type = 'tally'
    static readonly policy = { maxAttempts: 1 }
    key(msg: { by: number }) {
      return msg.by < 0 ? 'neg' : 'pos'
    }
    receive(msg: { by: number; fail?: boolean; forget?: boolean }, ctx: Context<number | undefined>) {
      ctx.state = (ctx.state ?? 0) + msg.by
      if (msg.fail) throw new TerminalError('no')
      if (msg.forget) ctx.state = undefined
      return ctx.state
    }
  }
  const { system, settle } = createTestSystem({ actors: [Tally] })
  t.equal(await system.ask(Tally, { by: 2 }), 2)
  await system.tell(Tally, { by: 3, fail: true })
  await settle()
  t.equal(await system.state(Tally, 'pos'), 2, 'a number as it was')
  await system.tell(Tally, { by: -1, fail: true })
  await settle()
  t.equal(await system.state(Tally, 'neg'), undefined, 'no state as there was none')
  await system.ask(Tally, { by: 1, forget: true })
  t.equal(await system.state(Tally, 'pos'), undefined, 'a state set to undefined deletes the instance')
})

t.test('a flat state (a few primitives) runs on a copy, and keeps the same rules as one on drafts', async (t) => {
  type Op = { op: 'add' | 'freeze' | 'hold' | 'nest-and-fail'; by?: number }
  let held: Context<{ n: number; label: string; list?: number[] }> | undefined
  // The same actor with a flat state, and with one that holds an array (drafts).
  const make = (type: string, initial: () => { n: number; label: string; list?: number[] }) =>
    class extends Actor<Op, number, { n: number; label: string; list?: number[] }> {
      static readonly type = type
      static readonly policy = { maxAttempts: 1 }
      initialState() {
        return initial()
      }
      receive(msg: Op, ctx: Context<{ n: number; label: string; list?: number[] }>) {
        ctx.state.n += msg.by ?? 1
        if (msg.op === 'freeze') Object.freeze(ctx.state)
        if (msg.op === 'hold') held = ctx
        if (msg.op === 'nest-and-fail') {
          ctx.state.list?.push(99)
          throw new TerminalError('failed after writing into the list')
        }
        return ctx.state.n
      }
    }
  const Flat = make('flatTally', () => ({ n: 0, label: 'flat' }))
  const Drafted = make('draftedTally', () => ({ n: 0, label: 'drafted', list: [] }))
  const { system, settle } = createTestSystem({ actors: [Flat, Drafted] })
  for (const A of [Flat, Drafted]) {
    t.equal(await system.ask(A, { op: 'add', by: 2 }), 2)
    await system.tell(A, { op: 'freeze' })
    await settle()
    const [letter] = (await system.deadLetters()).filter((l) => l.envelope.type === A.type)
    t.match(letter?.error, { code: 'TROUPE_STATE_FROZEN' }, `${A.type}: freezing ctx.state fails the turn`)
    t.equal((await system.state(A))?.n, 2, `${A.type}: and keeps nothing of it`)
  }
  // A ctx held past its turn: writing into the kept state from outside a turn does not make the
  // next failed turn's changes stick (its rollback holds whatever the state now holds).
  t.equal(await system.ask(Flat, { op: 'hold' }), 3)
  held!.state.list = [1]
  await system.tell(Flat, { op: 'nest-and-fail' })
  await settle()
  t.same((await system.state(Flat))?.list, [1], 'the failed turn left the list as it was')
  t.equal((await system.state(Flat))?.n, 3)
})

t.test('no proxy reaches the state, a reply, a message or a store', async (t) => {
  interface Parts {
    a: { n: number }
    b?: { n: number }
    wrapped?: { inner: { n: number } }
    map: Map<string, { n: number }>
  }
  const bodies: unknown[] = []
  class Sink extends Actor<object> {
    static readonly type = 'sink'
    receive(msg: object) {
      bodies.push(msg)
    }
  }
  class Parted extends Actor<{ step: number }, object, Parts> {
    static readonly type = 'parted'
    initialState(): Parts {
      return { a: { n: 1 }, map: new Map([['k', { n: 1 }]]) }
    }
    receive(msg: { step: number }, ctx: Context<Parts>) {
      if (msg.step === 1) {
        ctx.state.b = ctx.state.a // a draft written elsewhere in the state
        ctx.state.wrapped = { inner: ctx.state.map.get('k')! } // inside a value made in the turn
        ctx.tell(Sink, { part: ctx.state.a, entry: ctx.state.map.get('k') })
        return { whole: ctx.state }
      }
      // Through the parts written last turn: a draft left in the state would be closed, and drop these writes.
      ctx.state.b!.n = 10
      ctx.state.wrapped!.inner.n = 20
      return ctx.state.map
    }
  }
  const stores = { state: new MemoryStateStore() }
  const { system, settle } = createTestSystem({ actors: [Parted, Sink], stores })
  const first = await system.ask(Parted, { step: 1 })
  await settle()
  t.equal(findProxy(first), undefined, 'the reply holds no proxy')
  t.equal(findProxy(bodies), undefined, 'the message told holds no proxy')
  const second = (await system.ask(Parted, { step: 2 })) as Parts['map']
  t.equal(findProxy(second), undefined)
  t.equal(second.get('k')!.n, 20, 'the reply is the state at the end of its turn')
  t.equal((bodies[0] as { part: { n: number } }).part.n, 1, 'a message keeps what it held when told; later turns do not change it')
  t.same(((first as { whole: Parts }).whole.a), { n: 1 }, 'so does a reply')
  const state = (await system.state(Parted))!
  t.equal(state.b!.n, 10, 'a part written through a draft elsewhere is the part itself')
  t.equal(state.wrapped!.inner.n, 20)
  t.ok(await system.evict(Parted))
  const stored = decode((await stores.state.get(Parted.type, ''))!.state) as Parts
  t.same(stored, state, 'the store holds the state the turns kept')
})

t.test('checkSerializable finds what a turn wrote deep in its state, and the turn keeps nothing', async (t) => {
  class Holder extends Actor<{ bad: boolean }, void, Users> {
    static readonly type = 'holder'
    static readonly policy = { maxAttempts: 1 }
    initialState(): Users {
      return { users: new Map([['ada', { visits: 1, tags: [] }]]), total: 0 }
    }
    receive(msg: { bad: boolean }, ctx: Context<Users>) {
      ctx.state.total++
      if (msg.bad) ctx.state.users.get('ada')!.tags.push((() => 'x') as never)
    }
  }
  const { system, settle } = createTestSystem({ actors: [Holder] })
  await system.ask(Holder, { bad: false })
  await system.tell(Holder, { bad: true })
  await settle()
  const [letter] = await system.deadLetters()
  t.match(letter?.error, { name: 'NotSerializableError', message: /a function at state\.users\.get\(0\)\.tags\[0\]/ })
  t.same(await system.state(Holder), { users: new Map([['ada', { visits: 1, tags: [] }]]), total: 1 })
})

t.test('inspection while a turn awaits shows the state as the last kept turn left it', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  class Slow extends Actor<{ wait: boolean }, void, { n: number; list: number[] }> {
    static readonly type = 'slow'
    initialState() {
      return { n: 0, list: [] }
    }
    async receive(msg: { wait: boolean }, ctx: Context<{ n: number; list: number[] }>) {
      ctx.state.n++
      ctx.state.list.push(ctx.state.n)
      if (msg.wait) await gate
    }
  }
  const { system, settle } = createTestSystem({ actors: [Slow] })
  await system.ask(Slow, { wait: false })
  await system.tell(Slow, { wait: true })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(await system.state(Slow), { n: 1, list: [1] }, 'state()')
  t.same(system.instances(Slow)[0]!.state, { n: 1, list: [1] }, 'instances()')
  release()
  await settle()
  t.same(await system.state(Slow), { n: 2, list: [1, 2] })
})

t.test('the durable host keeps the state a turn began from apart: a turn its size refuses leaves no trace', async (t) => {
  class Bag extends Actor<{ k: string; add: string }, number, { items: Map<string, string>; n: number }> {
    static readonly type = 'bag'
    key(msg: { k: string }) {
      return msg.k
    }
    initialState() {
      return { items: new Map<string, string>(), n: 0 }
    }
    receive(msg: { add: string }, ctx: Context<{ items: Map<string, string>; n: number }>) {
      ctx.state.items.set(`i${ctx.state.n}`, msg.add)
      return ++ctx.state.n
    }
  }
  const state = new MemoryStateStore()
  const journal = new MemoryJournalStore()
  const committed: unknown[] = []
  const host = new DurableHost({
    actors: [Bag],
    state,
    timers: new MemoryTimerStore(),
    journal,
    messages: { send: () => Promise.reject(new Error('nothing here tells')) },
    logger: createLogger('silent' as never),
    maxItemBytes: 2_000,
    onCommit: (_type, _key, s) => committed.push(s),
  })
  const records = ['small', 'x'.repeat(5_000), 'also small'].map((add, i) => {
    const id = `m${i}` as MessageId
    return { sequenceNumber: String(100 + i), data: encodeRecord(makeEnvelope({ id, type: Bag.type, key: 'b', body: { k: 'b', add }, correlationId: id as string as CorrelationId, sentAt: 1 })) }
  })
  const result = await host.handle({ stream: 's', shardId: 'shardId-000000000000', records })
  t.equal(result.failedFrom, undefined)
  const kept = decode((await state.get(Bag.type, 'b'))!.state) as { items: Map<string, string>; n: number }
  t.same(kept, { items: new Map([['i0', 'small'], ['i1', 'also small']]), n: 2 }, 'the refused turn left nothing in the state the next one ran on')
  const letters = await journal.deadLetters()
  t.match(letters, [{ error: { name: 'ItemTooLargeError' } }])
  t.ok(committed.length > 0)
  t.equal(findProxy(committed), undefined, 'the committed state holds no proxy')
})
