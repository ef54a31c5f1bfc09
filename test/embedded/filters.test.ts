import t from 'tap'
import { Actor, AskFailedError, drop, type Context, type Envelope } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

const seen: string[] = []
class Url extends Actor<{ url: string }, string> {
  static readonly type = 'url'
  filter(msg: Url['In']) {
    if (msg.url.includes('/private/')) return drop('private path')
    if (msg.url.startsWith('http:')) return { url: msg.url.replace('http:', 'https:') }
  }
  receive(msg: Url['In']) {
    seen.push(msg.url)
    return msg.url
  }
}
class Other extends Actor<{ url: string }> {
  static readonly type = 'other'
  receive(msg: Other['In'], ctx: Context) {
    seen.push(`other:${msg.url}:${ctx.message.type}`)
  }
}

t.test('per-type filters drop or rewrite before receive', async (t) => {
  seen.length = 0
  const { system, settle } = createTestSystem({ actors: [Url, Other] })
  t.equal(await system.ask(Url, { url: 'http://a.example/x' }), 'https://a.example/x')
  const dropped = await system.tell(Url, { url: 'https://a.example/private/1' })
  const error = await system.ask(Url, { url: 'https://a.example/private/2' }).catch((e: unknown) => e)
  t.type(error, AskFailedError)
  t.match((error as Error).message, /ended filtered: private path/)
  await system.tell(Other, { url: 'http://b.example/private/' })
  await settle()
  t.same(seen, ['https://a.example/x', 'other:http://b.example/private/:other'])
  const r = await system.receipt(dropped)
  t.equal(r?.status, 'filtered')
  t.equal(r?.history.at(-1)?.reason, 'private path')
  t.equal(system.inspect().actors.find((a) => a.type === 'url')!.counts.filtered, 2)
})

t.test('global filters run first, for every type, and may rewrite', async (t) => {
  seen.length = 0
  const envelopes: Envelope[] = []
  const { system, settle } = createTestSystem({
    actors: [Url, Other],
    filters: [
      (body, envelope) => {
        envelopes.push(envelope)
        const url = (body as { url: string }).url
        if (url.includes('blocked.example')) return drop('blocklist')
        return undefined
      },
      (body) => ({ url: (body as { url: string }).url.toLowerCase() }),
    ],
  })
  await system.tell(Other, { url: 'HTTP://BLOCKED.EXAMPLE/' })
  await system.tell(Other, { url: 'https://blocked.example/' })
  await system.tell(Other, { url: 'https://OK.example/' })
  await system.tell(Url, { url: 'HTTP://OK.example/' })
  await settle()
  t.same(
    seen,
    ['other:http://blocked.example/:other', 'other:https://ok.example/:other', 'https://ok.example/'],
    'filters run in order: the upper-case blocked URL passed the blocklist, then was lower-cased; then the per-type rewrite ran',
  )
  t.equal(envelopes.length, 4)
  const counts = system.inspect().actors.find((a) => a.type === 'other')!.counts
  t.equal(counts.filtered, 1)
  t.equal(counts.done, 2)
})

t.test('a rewrite is validated against the schema like any message', async (t) => {
  const { z } = await import('zod')
  class Strict extends Actor<{ n: number }> {
    static readonly type = 'strict'
    static readonly schema = z.object({ n: z.number() })
    receive() {}
  }
  const { system, settle } = createTestSystem({ actors: [Strict], filters: [() => ({ n: 'not a number' })] })
  await system.tell(Strict, { n: 1 })
  await settle()
  const [letter] = await system.deadLetters()
  t.match(letter?.error.message, /message for strict is invalid: n:/)
})
