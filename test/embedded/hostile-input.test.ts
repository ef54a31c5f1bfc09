// Hostile bodies through tell: a clear error or a normal turn — never a crash, a hang,
// prototype pollution, or a lost neighbour.
import t from 'tap'
import { z } from 'zod'
import { Actor, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

class Sink extends Actor<{ k: string; payload?: unknown }, void, { n: number }> {
  static readonly type = 'sink'
  key(msg: Sink['In']) {
    return msg.k
  }
  initialState() {
    return { n: 0 }
  }
  receive(_msg: Sink['In'], ctx: Context<{ n: number }>) {
    ctx.state.n++
  }
}

class Strict extends Actor<{ name: string }> {
  static readonly type = 'strict'
  static readonly schema = z.object({ name: z.string().max(100) }).strict()
  receive() {}
}

function deep(levels: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < levels; i++) v = { d: v }
  return v
}

const KEY_REFUSED = /^\[TROUPE_INVALID_MESSAGE\] message for sink is invalid: \(key\): key\(msg\)/
// A key superjson refuses to write: the AWS mode could never send it, so the check refuses it at tell.
const notWritable = (key: string) => new RegExp(`^\\[TROUPE_NOT_SERIALIZABLE\\] message of sink has a key named "${key}", which superjson refuses to write at body\\.${key};`)

// Plain data of any depth or size is a valid message (the actor has no schema); a body the
// actor cannot key, or one the AWS mode could not write, is refused at tell.
const hostile: [string, unknown, 'accepted' | RegExp][] = [
  ['__proto__ key from JSON', JSON.parse('{"k":"a","__proto__":{"polluted":true}}'), notWritable('__proto__')],
  ['constructor.prototype from JSON', JSON.parse('{"k":"a","constructor":{"prototype":{"polluted":true}}}'), notWritable('constructor')],
  ['10,000 levels deep', { k: 'a', payload: deep(10_000) }, 'accepted'],
  ['a 10 MiB string', { k: 'a', payload: 'x'.repeat(10 * 1024 * 1024) }, 'accepted'],
  ['a 2,000-character key', { k: 'k'.repeat(2_000) }, KEY_REFUSED],
  ['a missing key', { payload: 1 }, KEY_REFUSED],
  ['null', null, KEY_REFUSED],
  ['a number', 42, KEY_REFUSED],
  ['an array', [1, 2, 3], KEY_REFUSED],
]

t.test('every hostile body is refused with a clear error or handled; neighbours are not lost', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Sink, Strict] })
  for (const [name, body, expected] of hostile) {
    const outcome = await system.tell('sink', body).then(
      (id) => ({ ok: true as const, id }),
      (error: Error) => ({ ok: false as const, error }),
    )
    t.equal(outcome.ok ? 'accepted' : 'refused', expected === 'accepted' ? 'accepted' : 'refused', name)
    if (!outcome.ok && expected !== 'accepted') t.match(outcome.error.message, expected, `${name}: the error names the actor and what it refuses`)
    await system.tell(Sink, { k: 'neighbour' })
  }
  await settle()
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
  t.equal((await system.state(Sink, 'neighbour'))?.n, hostile.length, 'every neighbour message was handled')
  t.equal((await system.state(Sink, 'a'))?.n, hostile.filter(([, , e]) => e === 'accepted').length, 'every accepted hostile body had its turn')
  const counts = system.inspect().actors.find((a) => a.type === 'sink')!.counts
  t.equal(counts.done + counts.dead + counts.filtered, counts.accepted, 'every accepted message ended')
})

t.test('a schema refuses what it does not know, naming the field', async (t) => {
  const { system } = createTestSystem({ actors: [Strict] })
  await t.rejects(system.tell(Strict, JSON.parse('{"name":"a","__proto__":{"x":1}}')), { message: /message for strict is invalid/ })
  await t.rejects(system.tell(Strict, { name: 'x'.repeat(10_000) }), { message: /name: .*100/ })
  await t.rejects(system.tell('strict', deep(10_000)), { message: /message for strict is invalid/ })
  t.equal(({} as Record<string, unknown>).x, undefined)
})
