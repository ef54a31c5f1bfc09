import t from 'tap'
import { Actor, createSystem, type TroupeEvent } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'
import { Counter, Flaky } from '../fixtures/actors.js'

t.test('receipts are kept when asked for, and can be awaited', async (t) => {
  const system = createSystem({ actors: [Counter], logLevel: 'silent' })
  const plain = await system.tell(Counter, { k: 'a', by: 1 })
  const tracked = await system.tell(Counter, { k: 'a', by: 1 }, { receipt: true })
  t.equal(await system.receipt(plain), undefined, 'the common path keeps none')
  const r = await system.awaitReceipt(tracked)
  t.equal(r.status, 'done')
  t.equal(r.actor, 'counter')
  t.equal(r.key, 'a')
  t.same(r.history.map((e) => e.status), ['accepted', 'running', 'done'])
  await t.rejects(system.awaitReceipt(plain), { code: 'TROUPE_NO_RECEIPT', message: /pass \{ receipt: true \}/ })
  const running = await system.tell(Counter, { k: 'b', by: 1 }, { receipt: true })
  const passed = await system.awaitReceipt(running, { status: ['running'] })
  t.ok(passed.history.some((e) => e.status === 'running'), 'a status already passed resolves at once')
  await system.stop()
})

t.test('every message ends in a final status and is counted; the event stream tells each step', async (t) => {
  const events: TroupeEvent['type'][] = []
  class Picky extends Actor<{ n: number }> {
    static readonly type = 'picky'
    static readonly policy = { maxAttempts: 2, initialDelayMs: 1 }
    filter(msg: Picky['In']) {
      return msg.n === 0 ? { n: -1 } : undefined
    }
    receive(msg: Picky['In']) {
      if (msg.n === 2) throw new Error('two')
    }
  }
  const { system, settle } = createTestSystem({ actors: [Picky, Flaky] })
  const off = system.on((e) => events.push(e.type))
  system.on(() => {
    throw new Error('a broken listener harms nobody')
  })
  for (let n = 0; n < 4; n++) await system.tell(Picky, { n })
  await settle()
  off()
  await system.tell(Picky, { n: 1 })
  await settle()
  const c = system.inspect().actors.find((a) => a.type === 'picky')!.counts
  t.same(c, { accepted: 5, done: 4, filtered: 0, dead: 1, retried: 1, throttled: 0 })
  t.equal(c.done + c.filtered + c.dead, c.accepted)
  t.same(
    [...new Set(events)].sort(),
    ['@troupe.accepted', '@troupe.dead', '@troupe.delivered', '@troupe.done', '@troupe.retried'],
  )
  t.equal(events.filter((e) => e === '@troupe.accepted').length, 4, 'unsubscribed before the fifth')
  const snap = system.inspect()
  t.equal(snap.deadLetters, 1)
  t.same(
    snap.actors.map((a) => [a.type, a.kind]),
    [['picky', 'stateless'], ['flaky', 'keyed'], ['troupe.joiner', 'keyed'], ['troupe.forkResult', 'stateless']],
    "the runtime's own actors are listed too",
  )
})
