import t from 'tap'
import { KeyedSequence } from '../../lib/core/keyed-sequence.js'
import { derivedId, parseMessageId, RootIds, type MessageId } from '../../lib/core/ids.js'
import { copyState } from '../../lib/core/state-copy.js'
import { TokenBucket } from '../../lib/supervisor/token-bucket.js'
import { wakeDelayMs } from '../../lib/hosts/durable/instance-throttle.js'
import { MAX_POLICY_MS, resolvePolicy, retryDelayMs } from '../../lib/supervisor/policy.js'
import type { PolicyOptions } from '../../lib/core/policy-options.js'
import { createLogger } from '../../lib/core/logger.js'
import { decode, encode } from '../../lib/core/serialization.js'
import { deadlineBody } from '../../lib/turn/fork-plan.js'
import { WaitingLine } from '../../lib/hosts/embedded/waiting-line.js'

t.test('root ids are unique across generators and cheap to make', async (t) => {
  const a = new RootIds()
  const b = new RootIds()
  const ids = new Set<string>()
  for (let i = 0; i < 1_000; i++) ids.add(a.id(a.next())).add(b.id(b.next()))
  t.equal(ids.size, 2_000)
})

t.test("no root id starts with '-', which a command line would take for an option", async (t) => {
  // nanoid's own alphabet has '-': one generator in 64 would start every id of its system with it.
  const firsts = new Set<string>()
  for (let i = 0; i < 4_000; i++) firsts.add(new RootIds().id(0)[0]!)
  t.notOk(firsts.has('-'), 'no prefix of 4,000 starts with -')
  t.equal(firsts.size, 63, 'and every other character of the alphabet starts some')
})

t.test('a root id is its generator prefix and the sequence number in base 36, in and out of order', async (t) => {
  const ids = new RootIds()
  const prefix = ids.id(0).slice(0, -1)
  t.equal(ids.id(0), `${prefix}0`)
  const seqs = [1, 35, 36, 1_295, 1_296, 1_297, 46_655, 46_656, 1_000_000, 5, 1_296 * 7 + 3, 2 ** 31, 2 ** 53 - 1, 2 ** 53 + 2, 0.5]
  for (let seq = 1_200; seq < 3_000; seq++) seqs.push(seq)
  for (const seq of seqs) t.equal(ids.id(seq), `${prefix}${seq.toString(36)}`, `seq ${seq}`)
  t.end()
})

t.test('derived ids are deterministic and bounded', async (t) => {
  const root = 'abc' as MessageId
  t.equal(derivedId(root, 0), 'abc.0')
  t.equal(derivedId(root, 35), 'abc.z')
  t.equal(derivedId(derivedId(root, 1), 2), 'abc.1.2')
  const long = 'x'.repeat(63) as MessageId
  const h = derivedId(long, 1)
  t.equal(h, derivedId(long, 1), 'same input, same hash')
  t.not(h, derivedId(long, 2))
  t.ok(h.length <= 64)
  t.throws(() => parseMessageId(''), /1 to 256 characters, got a string of 0/)
  t.throws(() => parseMessageId(42), /got number/)
})

t.test('copyState copies plain data deeply and keeps __proto__ a key', async (t) => {
  const src = { n: 1, list: [{ a: 1 }], at: new Date(5), m: new Map([['k', { v: 1 }]]), s: new Set([1]) }
  const copy = copyState(src)
  t.same(copy, src)
  copy.list[0]!.a = 2
  copy.m.get('k')!.v = 2
  copy.at.setTime(6)
  t.equal(src.list[0]!.a, 1)
  t.equal(src.m.get('k')!.v, 1)
  t.equal(src.at.getTime(), 5)
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')
  const out = copyState(hostile)
  t.equal(Object.getPrototypeOf(out), Object.prototype)
  t.same(Object.keys(out), ['__proto__', 'ok'])
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  let deep: unknown = 0
  for (let i = 0; i < 5_000; i++) deep = [deep]
  t.doesNotThrow(() => copyState(deep), 'deep state falls back to structuredClone')
})

t.test('copyState shares frozen values instead of copying them', async (t) => {
  const fixed = Object.freeze({ children: Object.freeze([Object.freeze({ id: 'a' })]) })
  const state = { fixed, count: 1 }
  const copy = copyState(state)
  t.not(copy, state)
  t.equal(copy.fixed, fixed, 'the frozen part is the same object')
  copy.count++
  t.equal(state.count, 1, 'the rest is still a copy')
})

t.test("a fork's deadline body is what encode makes of it, for any fork id", async (t) => {
  for (const forkId of ['V1StGXR8_Z5jdHi6B-myT0', 'a"b\\c.d', 'h\u2028\u00e9\ud83d\ude00', '']) {
    t.equal(deadlineBody(forkId), encode({ op: 'deadline', forkId }))
    t.same(decode(deadlineBody(forkId)), { op: 'deadline', forkId })
  }
})

t.test('a waiting line keeps FIFO order while it grows, drains and compacts', async (t) => {
  const line = new WaitingLine<number>()
  const out: number[] = []
  let next = 0
  // Interleaved pushes and shifts, past the point where the taken front is dropped.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++) line.push(next++)
    for (let i = 0; i < 60; i++) out.push(line.shift()!)
  }
  t.equal(line.length, 50 * 40)
  while (line.length !== 0) out.push(line.shift()!)
  t.equal(line.shift(), undefined)
  t.same(out, Array.from({ length: next }, (_, i) => i))
})

t.test('token bucket: burst, then the rate', async (t) => {
  const bucket = new TokenBucket({ ratePerSecond: 4, burst: 2 }, 0)
  const take = (now: number) => {
    const wait = bucket.waitMs(now)
    if (wait === 0) bucket.take()
    return wait
  }
  t.equal(take(0), 0)
  t.equal(take(0), 0)
  t.equal(take(0), 250)
  t.equal(take(250), 0)
  t.equal(take(250), 250)
  t.equal(take(10_000), 0, 'refills up to the burst only')
  t.equal(take(10_000), 0)
  t.equal(take(10_000), 250)
})

t.test('token bucket: saved and carried on elsewhere, and the wait for several tokens', async (t) => {
  const rate = { ratePerSecond: 4, burst: 3 }
  const bucket = new TokenBucket(rate, 0)
  for (let i = 0; i < 3; i++) bucket.take()
  const saved = bucket.save()
  t.same(saved, { tokens: 0, at: 0 })
  const later = new TokenBucket(rate, 1_000, saved)
  t.equal(later.waitMs(100), 150, 'the saved bucket refills from where it was left, not full')
  t.equal(later.waitMs(100, 3), 650, 'three tokens take three quarters of a second from nothing')
  t.equal(new TokenBucket(rate, 0, { tokens: 99, at: 0 }).waitMs(0, 3), 0, 'never more than the burst')
  // A wake-up gathers tokens for the parked messages, at most a second past the first token.
  t.equal(wakeDelayMs(new TokenBucket(rate, 0, { tokens: 0, at: 0 }), rate, 10, 0), 750, 'burst of three: 750 ms')
  t.equal(wakeDelayMs(new TokenBucket(rate, 0, { tokens: 0, at: 0 }), rate, 1, 0), 250, 'one parked: the next token')
  const slow = { ratePerSecond: 0.5, burst: 10 }
  t.equal(wakeDelayMs(new TokenBucket(slow, 0, { tokens: 0, at: 0 }), slow, 10, 0), 3_000, 'slow rate: the first token and one second more')
})

t.test('retry delay: full jitter under an exponential cap', async (t) => {
  const policy = resolvePolicy('a', { initialDelayMs: 10, maxDelayMs: 100, backoffMultiplier: 3 }, false)
  t.same([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, () => 1)), [10, 30, 90, 100])
  t.same([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, () => 0)), [0, 0, 0, 0])
  t.throws(() => resolvePolicy('a', { throttle: { ratePerSecond: 0 } }, false), /a\.policy\.throttle\.ratePerSecond must be at least/)
  t.throws(() => resolvePolicy('a', { concurrency: 1.5 }, false), /a\.policy\.concurrency must be an integer/)
})

t.test('policy: no endless, NaN or too long delay, timeout or rate, which no timer or lease could hold', async (t) => {
  const refused: [PolicyOptions, RegExp][] = [
    [{ throttle: { ratePerSecond: Infinity } }, /a\.policy\.throttle\.ratePerSecond must be a finite number/],
    [{ throttle: { ratePerSecond: Number.MIN_VALUE } }, /a\.policy\.throttle\.ratePerSecond must be at least/],
    [{ throttle: { ratePerSecond: 1e-15 } }, /a\.policy\.throttle\.ratePerSecond must be at least/],
    [{ throttle: { ratePerSecond: 1, burst: Infinity } }, /a\.policy\.throttle\.burst must be a finite number/],
    [{ throttle: { ratePerSecond: NaN } }, /a\.policy\.throttle\.ratePerSecond must be a number/],
    [{ initialDelayMs: Infinity }, /a\.policy\.initialDelayMs must be a finite number/],
    [{ maxDelayMs: Infinity }, /a\.policy\.maxDelayMs must be a finite number/],
    [{ maxDelayMs: MAX_POLICY_MS + 1 }, /a\.policy\.maxDelayMs must be at most 2147483647 ms/],
    [{ attemptTimeoutMs: Infinity }, /a\.policy\.attemptTimeoutMs must be a finite number/],
    [{ attemptTimeoutMs: 30 * 24 * 3_600_000 }, /a\.policy\.attemptTimeoutMs must be at most/],
    [{ backoffMultiplier: Infinity }, /a\.policy\.backoffMultiplier must be a finite number/],
  ]
  for (const [options, error] of refused) t.throws(() => resolvePolicy('a', options, true), error, JSON.stringify(options))
  // Without end where the field means it: attempts without limit, and no cap on turns at once.
  const open = resolvePolicy('a', { maxAttempts: Infinity, concurrency: Infinity, maxDelayMs: MAX_POLICY_MS, throttle: { ratePerSecond: 1000 / MAX_POLICY_MS } }, true)
  t.equal(open.maxAttempts, Infinity)
  t.equal(open.concurrency, Infinity)
})

t.test('logger writes one JSON line per call at its level and above', async (t) => {
  const lines: string[] = []
  const log = createLogger('info', { app: 'x' }, (l) => lines.push(l)).child({ actor: 'a' })
  log.debug('hidden')
  log.info('shown', { n: 1n, err: new Error('boom') })
  t.equal(lines.length, 1)
  t.match(JSON.parse(lines[0]!), { level: 'info', msg: 'shown', app: 'x', actor: 'a', n: '1', err: { name: 'Error', message: 'boom' } })
})

t.test('KeyedSequence: one key settles in queue order, a failure does not stop the next, other keys do not wait', async (t) => {
  const sequence = new KeyedSequence()
  const order: string[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const first = sequence.run('a', async () => {
    await gate
    order.push('a1')
    throw new Error('a1 failed')
  })
  const second = sequence.run('a', async () => {
    order.push('a2')
    return 2
  })
  const other = sequence.run('b', async () => {
    order.push('b1')
    return 1
  })
  t.equal(await other, 1)
  t.same(order, ['b1'], 'b ran while a1 was still waiting')
  release()
  await t.rejects(first, /a1 failed/)
  t.equal(await second, 2)
  t.same(order, ['b1', 'a1', 'a2'], 'a2 ran after a1 settled, though a1 failed')
})
