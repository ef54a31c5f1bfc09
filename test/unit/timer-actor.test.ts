// The timer's instance (actors/timer.ts): each firing of a timer leaves once, however many
// processes fired it and in whatever order their puts arrive; a timer scheduled again starts over.
import t from 'tap'
import { createSystem, type Actor, type Context } from '../../lib/index.js'
import { REMEMBERED_FIRINGS, timerActor, type TimerFiring, type TimerState } from '../../actors/timer.js'

function rig() {
  const sent: [number, number][] = []
  const Base = timerActor({ tellFired: (_ctx, f) => void sent.push([f.dueAt, f.fired]) }) as unknown as new () => Actor<TimerFiring, void, TimerState> & { receive(firing: TimerFiring, ctx: Context<TimerState>): void }
  // The same actor under a name of the app's (troupe.* names are the hosts' own).
  class Timer extends Base {
    static readonly type = 'test.timer'
    key(firing: TimerFiring) {
      return firing.timerId
    }
  }
  const system = createSystem({ actors: [Timer], logLevel: 'silent' })
  const fire = async (dueAt: number, fired: number, set?: string) => {
    const firing: TimerFiring = { timerId: 'tm-1', ...(set === undefined ? {} : { set }), dueAt, fired, target: 'x', key: 'k', body: null, correlationId: 'c-1' }
    await system.tell(Timer, firing)
    await system.idle()
  }
  return { sent, fire, system }
}

t.test('a copy of the last firing, or of an older one, sends nothing', async (t) => {
  const { sent, fire, system } = rig()
  t.teardown(() => system.stop())
  await fire(1_000, 0)
  await fire(1_000, 0)
  await fire(2_000, 1)
  await fire(3_000, 2)
  await fire(1_000, 0) // a process's put of the first firing, retried past two more
  await fire(2_000, 1)
  t.same(sent, [[1_000, 0], [2_000, 1], [3_000, 2]])
})

t.test('a timer scheduled again starts over: its firings are new, whatever their due time', async (t) => {
  const { sent, fire, system } = rig()
  t.teardown(() => system.stop())
  await fire(5_000, 0)
  await fire(6_000, 1)
  await fire(4_000, 0) // scheduled again, earlier
  await fire(5_000, 1)
  t.same(sent, [[5_000, 0], [6_000, 1], [4_000, 0], [5_000, 1]])
})

t.test('a named timer scheduled again fires again at a due time it fired at, once per scheduling', async (t) => {
  const { sent, fire, system } = rig()
  t.teardown(() => system.stop())
  await fire(1_000, 0, 'm1')
  await fire(1_000, 0, 'm1') // a copy
  await fire(1_000, 0, 'm2') // the name scheduled again by another message, for the same time
  await fire(1_000, 0, 'm2')
  await fire(1_000, 0, 'm1') // a late copy of the first: remembered with its scheduling
  t.same(sent, [[1_000, 0], [1_000, 0]])
})

t.test('a firing remembered without a scheduling (sent before they were kept) stands for any', async (t) => {
  const { sent, fire, system } = rig()
  t.teardown(() => system.stop())
  await fire(1_000, 0)
  await fire(1_000, 0, 'm1') // the same firing, fired again by a host that keeps schedulings
  await fire(2_000, 1)
  await fire(1_000, 0, 'm1')
  t.same(sent, [[1_000, 0], [2_000, 1]])
})

t.test(`the firings before the last are remembered up to ${REMEMBERED_FIRINGS}`, async (t) => {
  const { sent, fire, system } = rig()
  t.teardown(() => system.stop())
  for (let n = 0; n <= REMEMBERED_FIRINGS + 1; n++) await fire(1_000 * (n + 1), n)
  sent.length = 0
  await fire(2_000, 1) // the oldest still remembered
  t.same(sent, [], 'known')
  await fire(1_000, 0) // one past the memory: sent again
  t.same(sent, [[1_000, 0]])
})
