// componentMetrics on simulated time: a heartbeat per component per interval, with counts and
// timings of that interval only; idle components beat too; stop() logs the last interval.
import t from 'tap'
import { Actor, componentMetrics, createLogger, TerminalError, traced, type Context } from '../../lib/index.js'
import { createTestSystem } from '../../lib/testing/index.js'

class Work extends Actor<{ n: number }> {
  static readonly type = 'mt.work'
  static readonly policy = { maxAttempts: 1 }
  receive(msg: { n: number }) {
    if (msg.n < 0) throw new TerminalError('negative')
  }
}
class Idle extends Actor<{ n: number }> {
  static readonly type = 'mt.idle'
  receive() {}
}

t.test('a heartbeat per component per interval, counting that interval only', async (t) => {
  const { system, clock, settle } = createTestSystem({ actors: [Work, Idle] })
  const lines: Record<string, unknown>[] = []
  const metrics = componentMetrics(system, { logger: createLogger('info', {}, (l) => lines.push(JSON.parse(l))), everyMs: 1_000, clock })
  for (const n of [1, 2, -1]) await system.tell(Work, { n })
  await settle()
  await clock.advance(1_000)
  t.match(lines.find((l) => l.component === 'mt.work'), { msg: 'heartbeat', done: 2, dead: 1, intervalMs: 1_000, p50Ms: Number, maxMs: Number })
  t.match(lines.find((l) => l.component === 'mt.idle'), { msg: 'heartbeat', done: 0 })
  t.notOk('p50Ms' in lines.find((l) => l.component === 'mt.idle')!, 'no timings without work')
  t.notOk(lines.some((l) => String(l.component).startsWith('troupe.')), "troupe's own actors are left out")
  await system.tell(Work, { n: 3 })
  await settle()
  const last = metrics.stop()
  t.match(last.find((b) => b.component === 'mt.work'), { done: 1, dead: 0 })
  const count = lines.length
  await clock.advance(5_000)
  t.equal(lines.length, count, 'nothing after stop()')
})

t.test('traced() appends this turn to the lineage it was made from', async (t) => {
  const steps: unknown[] = []
  class Step extends Actor<{ n: number }> {
    static readonly type = 'mt.step'
    receive(msg: { n: number }, ctx: Context) {
      const first = traced(ctx, '1.0.0', msg)
      steps.push(traced(ctx, '2.0.0', { n: msg.n + 1 }, first))
    }
  }
  const { system, settle } = createTestSystem({ actors: [Step] })
  const id = await system.tell(Step, { n: 1 })
  await settle()
  t.same(steps, [{ data: { n: 2 }, lineage: [{ component: 'mt.step', version: '1.0.0', messageId: id }, { component: 'mt.step', version: '2.0.0', messageId: id }] }])
})
