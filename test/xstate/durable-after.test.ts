// `after` transitions survive the host: they are troupe timers, and the machine is restored
// from its stored snapshot when one fires.
import t from 'tap'
import { assign, setup } from 'xstate'
import { memoryStores } from '../../lib/index.js'
import { machineActor } from '../../lib/xstate/index.js'
import { createTestSystem, SimulatedClock } from '../../lib/testing/index.js'
import { announced, colorOf, LightLog, storedState, TrafficLight } from './fixtures/machines.js'

const GREEN_TIMER = 'xstate.after.60000.light.green'

t.beforeEach(() => {
  announced.length = 0
})

t.test('an evicted light turns yellow on time, restored from its stored snapshot', async (t) => {
  const stores = memoryStores()
  const { system, clock } = createTestSystem({ actors: [TrafficLight, LightLog], stores })
  await system.tell(TrafficLight, { type: 'START', crossing: 'main-1st' })
  const enteredGreenAt = clock.now()
  t.equal(colorOf(await system.state(TrafficLight, 'main-1st')), 'green')
  t.equal(await system.evict(TrafficLight, 'main-1st'), true, 'evicted right after entering green')

  const [timer, ...others] = await system.timers()
  t.equal(others.length, 0)
  t.equal(timer!.id, `trafficLight#main-1st#${GREEN_TIMER}`, 'named by xstate, scoped to the instance')
  t.equal(timer!.dueAt, enteredGreenAt + 60_000)

  await clock.advance(59_999)
  t.same(system.instances(TrafficLight), [], 'nothing fired yet, so nothing was loaded')
  t.equal(colorOf(await storedState(stores, 'trafficLight', 'main-1st')), 'green', 'still green')

  await clock.advance(2)
  t.equal(colorOf(await system.state(TrafficLight, 'main-1st')), 'yellow', 'fired on time from the durable timer')
  t.same(
    (await system.timers()).map((x) => x.id),
    ['trafficLight#main-1st#xstate.after.5000.light.yellow'],
    'the fired timer is gone; yellow armed its own',
  )
  t.same(announced, [{ crossing: 'main-1st', color: 'yellow', cycles: 0 }])
})

t.test('a stopped system leaves the timer and the snapshot to a new system on the same stores', async (t) => {
  const clock = new SimulatedClock()
  const stores = memoryStores()
  const one = createTestSystem({ actors: [TrafficLight, LightLog], stores, clock })
  await one.system.tell(TrafficLight, { type: 'START', crossing: 'elm-oak' })
  await one.system.stop()

  const two = createTestSystem({ actors: [TrafficLight, LightLog], stores, clock })
  await clock.advance(59_999)
  t.same(two.system.instances(TrafficLight), [])
  t.equal(colorOf(await storedState(stores, 'trafficLight', 'elm-oak')), 'green', 'still green')
  await clock.advance(2)
  t.equal(colorOf(await two.system.state(TrafficLight, 'elm-oak')), 'yellow', 'the new system fired it on time')
  await two.system.stop()
})

t.test('a full cycle runs on durable timers alone', async (t) => {
  const { system, clock } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await system.tell(TrafficLight, { type: 'START', crossing: 'a' })
  await clock.advance(60_000 + 5_000 + 30_000)
  t.same(await system.ask(TrafficLight, { type: 'STATUS', crossing: 'a' }), { color: 'green', cycles: 1 })
  t.same(
    announced.map((a) => a.color),
    ['yellow', 'green'],
  )
})

t.test('leaving a state cancels its pending after', async (t) => {
  const { system, clock } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await system.tell(TrafficLight, { type: 'START', crossing: 'b' })
  t.equal((await system.timers()).length, 1)
  await clock.advance(10_000)
  await system.tell(TrafficLight, { type: 'EMERGENCY', crossing: 'b' })
  t.same(await system.timers(), [], 'the green timer is gone from the store')
  t.same((await system.state(TrafficLight, 'b'))?.timers, {}, 'and from the instance')
  await clock.advance(120_000)
  t.equal(colorOf(await system.state(TrafficLight, 'b')), 'flashing', 'nothing fired')

  await system.tell(TrafficLight, { type: 'RESUME', crossing: 'b' })
  const [timer] = await system.timers()
  t.equal(timer!.dueAt, clock.now() + 60_000, 'entering green again arms a fresh timer')
  await clock.advance(60_000)
  t.equal(colorOf(await system.state(TrafficLight, 'b')), 'yellow')
})

t.test('a timer message that is cancelled or replaced by the time it arrives is ignored', async (t) => {
  const { system, settle } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await system.tell(TrafficLight, { type: 'START', crossing: 'c' })
  const before = await system.state(TrafficLight, 'c')
  const stale = {
    type: '@troupe.xstate.delayed',
    key: 'c',
    event: { type: GREEN_TIMER },
    name: GREEN_TIMER,
    token: 'an older scheduling',
  } as const
  await system.tell(TrafficLight, stale)
  await settle()
  t.same(await system.state(TrafficLight, 'c'), before, 'still green, timers untouched')
  t.equal((await system.deadLetters()).length, 0)
})

/** A state that enters itself again after a second: each firing schedules the same xstate delay from its own turn. */
const pollMachine = setup({
  types: { context: {} as { polls: number }, events: {} as { type: 'START'; k: string } },
}).createMachine({
  id: 'poller',
  initial: 'idle',
  context: { polls: 0 },
  states: {
    idle: { on: { START: 'polling' } },
    polling: {
      after: {
        1_000: [
          { guard: ({ context }) => context.polls < 4, target: 'polling', reenter: true, actions: assign({ polls: ({ context }) => context.polls + 1 }) },
          { target: 'done', actions: assign({ polls: ({ context }) => context.polls + 1 }) },
        ],
      },
    },
    done: {},
  },
})
class Poller extends machineActor(pollMachine, { type: 'poller', version: '1', key: (event: { k: string }) => event.k }) {}

t.test('a state that enters itself again after a delay keeps polling: its firing does not take away the delay it set again', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Poller] })
  await system.tell(Poller, { type: 'START', k: 'p' })
  for (let i = 0; i < 5; i++) await clock.advance(1_000)
  const state = await system.state(Poller, 'p')
  t.equal(state?.snapshot?.value, 'done', 'five polls, a second apart, then done')
  t.equal((state?.snapshot as { context?: { polls: number } } | undefined)?.context?.polls, 5)
  t.strictSame(await system.timers(), [], 'nothing left scheduled')
})
