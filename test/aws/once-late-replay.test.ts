// A side effect outlives its message's dead letter: the letter waits for its replay as long as it
// takes (a fix deployed days later), and the replay must find what `ctx.once` did, however long
// after the records' usual life (the lane horizon, 8 days) it comes. On the AWS mode against the
// local servers, with a clock moved past the horizon; and in the embedded mode.
import t, { type Test } from 'tap'
import { AwsSystem, type AwsSystemOptions } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { systemClock, type Clock } from '../../lib/core/clock.js'
import { DEFAULT_TOMBSTONE_TTL_MS } from '../../lib/core/defaults.js'
import { Actor, createSystem, TerminalError, type Context } from '../../lib/index.js'
import type { OnceSemantics } from '../../lib/turn/once.js'
import { localStackFor } from '../fixtures/local-stack.js'

/** Calls of the side effect, by key. */
const calls = new Map<string, number>()
/** Keys whose turns fail after the side effect (a bug, fixed before the replay). */
const failing = new Set<string>()

type In = { k: string; semantics: OnceSemantics }

class Pay extends Actor<In, void, { charged: number[] }> {
  static readonly type = 'late.pay'
  key(m: In) {
    return m.k
  }
  initialState() {
    return { charged: [] as number[] }
  }
  async receive(m: In, ctx: Context<{ charged: number[] }>) {
    const n = await ctx.once('charge', () => {
      calls.set(m.k, (calls.get(m.k) ?? 0) + 1)
      return calls.get(m.k)!
    }, { semantics: m.semantics })
    if (failing.has(m.k)) throw new TerminalError('a bug after the charge')
    ctx.state.charged.push(n)
  }
}

/** The wall clock, moved forward by `offset` (the days a letter waits). */
class ShiftedClock implements Clock {
  offset = 0
  now() {
    return Date.now() + this.offset
  }
  setTimeout = systemClock.setTimeout
  clearTimeout = systemClock.clearTimeout
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await what()
    if (ok(value) || i === 600) return value
    await new Promise((r) => setTimeout(r, 50))
  }
}

const { aws } = await localStackFor(t)
let made = 0

async function lateReplayOnAws(t: Test, semantics: OnceSemantics) {
  const name = `late-once-${process.pid}-${++made}`
  await ensureResources({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName: name, streams: [name], shards: 1 })
  const clock = new ShiftedClock()
  const start = (options: Partial<AwsSystemOptions> = {}) => {
    const system = new AwsSystem({ actors: [Pay], kinesis: aws.kinesis, dynamodb: aws.dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'silent', clock, ...options })
    t.teardown(() => system.stop().catch(() => undefined)) // the first is stopped by the test
    return system
  }
  const k = `k-${semantics}`
  failing.add(k)
  const first = start()
  await first.tell(Pay, { k, semantics })
  const [letter] = await until(() => first.deadLetters(), (l) => l.length === 1)
  t.equal(calls.get(k), 1, 'the side effect ran; the turn then failed for good')
  await first.stop()
  // Fixed and deployed a day past the records' usual life; the letter is replayed.
  failing.delete(k)
  clock.offset = DEFAULT_TOMBSTONE_TTL_MS + 24 * 60 * 60_000
  const fixed = start()
  await fixed.replay(letter!.envelope.id)
  const state = await until(() => fixed.state(Pay, k), (s) => (s?.charged.length ?? 0) > 0)
  t.same(state?.charged, [1], 'the replay got the recorded result')
  t.equal(calls.get(k), 1, 'and did not run the side effect again')
  t.same(await fixed.deadLetters(), [], 'the letter is gone')
}

t.test('AWS: a letter replayed past the records\' usual life finds its side effect, at least once', (t) => lateReplayOnAws(t, 'at-least-once'))
t.test('AWS: the same at most once', (t) => lateReplayOnAws(t, 'at-most-once'))

t.test('embedded: a replayed letter finds its side effect', async (t) => {
  const system = createSystem({ actors: [Pay], logLevel: 'silent' })
  t.teardown(() => system.stop())
  for (const semantics of ['at-least-once', 'at-most-once'] as const) {
    const k = `e-${semantics}`
    failing.add(k)
    await system.tell(Pay, { k, semantics })
    await system.idle()
    const [letter] = await system.deadLetters({ type: Pay.type }).then((l) => l.filter((x) => (x.envelope.body as In).k === k))
    t.equal(calls.get(k), 1, `${semantics}: ran, then the turn failed for good`)
    failing.delete(k)
    await system.replay(letter!.envelope.id)
    await system.idle()
    t.same((await system.state(Pay, k))?.charged, [1], 'the replay got the recorded result')
    t.equal(calls.get(k), 1, 'without running it again')
  }
})
