// Machine actors across machine versions: a snapshot stored under an older version is restored
// through the actor's migration for that version instead of being dead-lettered; a migration that
// throws fails the turn by the policy; without an entry for the stored version the dead letter stays.
import t from 'tap'
import { assign, setup } from 'xstate'
import { memoryStores, type Stores } from '../../lib/index.js'
import { createTestSystem, SimulatedClock } from '../../lib/testing/index.js'
import { machineActor, type PersistedMachineSnapshot } from '../../lib/xstate/index.js'
import { lightMachine, LightLog, storedState, TrafficLight } from './fixtures/machines.js'

type LightEvent = { type: 'START' | 'EMERGENCY' | 'RESUME' | 'STATUS'; crossing: string }

/** Version 2 of the light: `green` is now `go`, and it counts emergencies. */
const lightV2 = setup({
  types: { context: {} as { crossing: string; cycles: number; emergencies: number }, events: {} as LightEvent, input: {} as { crossing: string } },
}).createMachine({
  id: 'light',
  initial: 'off',
  context: ({ input }) => ({ crossing: input.crossing, cycles: 0, emergencies: 0 }),
  states: {
    off: { on: { START: 'go' } },
    go: { on: { EMERGENCY: { target: 'flashing', actions: assign({ emergencies: ({ context }) => context.emergencies + 1 }) } } },
    flashing: { on: { RESUME: 'go' } },
  },
})

const v2Options = { type: 'trafficLight', version: '2', key: (e: LightEvent) => e.crossing, input: (e: LightEvent) => ({ crossing: e.crossing }) }

const migrations: PersistedMachineSnapshot[] = []
/** From version 1: rename the state, add the count. */
function fromV1(snapshot: PersistedMachineSnapshot): PersistedMachineSnapshot {
  migrations.push(snapshot)
  return { ...snapshot, value: snapshot.value === 'green' ? 'go' : snapshot.value, context: { ...(snapshot.context as object), emergencies: 0 } }
}

class TrafficLightV2 extends machineActor(lightV2, { ...v2Options, migrate: { '1': fromV1 } }) {}

/** A store with the light of `crossing` started (green) by version 1. */
async function greenByV1(crossing: string): Promise<{ stores: Stores; clock: SimulatedClock }> {
  const clock = new SimulatedClock()
  const stores = memoryStores()
  const one = createTestSystem({ actors: [TrafficLight, LightLog], stores, clock })
  await one.system.tell(TrafficLight, { type: 'START', crossing })
  await one.system.stop()
  return { stores, clock }
}

t.test('a snapshot stored under version 1 is migrated by the entry for "1" and restored by version 2', async (t) => {
  migrations.length = 0
  const { stores, clock } = await greenByV1('main-1st')
  const two = createTestSystem({ actors: [TrafficLightV2, LightLog], stores, clock })
  await two.system.tell(TrafficLightV2, { type: 'EMERGENCY', crossing: 'main-1st' })
  await two.settle()
  t.same(await two.system.deadLetters(), [], 'no dead letter')
  t.equal(migrations.length, 1, 'the migration ran once')
  t.match(migrations[0], { value: 'green', context: { crossing: 'main-1st', cycles: 0 } }, 'on the snapshot version 1 stored')
  t.match(await two.system.state(TrafficLightV2, 'main-1st'), { version: '2', snapshot: { value: 'flashing', context: { crossing: 'main-1st', cycles: 0, emergencies: 1 } } })

  await two.system.tell(TrafficLightV2, { type: 'RESUME', crossing: 'main-1st' })
  await two.settle()
  t.equal(migrations.length, 1, 'a version-2 snapshot is not migrated again')
  await two.system.stop()
  t.match(await storedState(stores, 'trafficLight', 'main-1st'), { version: '2', snapshot: { value: 'go' } }, 'stored under version 2')
})

t.test('a migration that throws fails the turn by the policy, naming actor, key and both versions; the snapshot stays', async (t) => {
  const { stores, clock } = await greenByV1('elm-2nd')
  let calls = 0
  class Broken extends machineActor(lightV2, {
    ...v2Options,
    migrate: {
      '1': () => {
        calls++
        throw new Error('cannot read the old context')
      },
    },
  }) {
    static readonly policy = { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 }
  }
  const two = createTestSystem({ actors: [Broken, LightLog], stores, clock })
  await two.system.tell(Broken, { type: 'EMERGENCY', crossing: 'elm-2nd' })
  await two.settle()
  const [letter] = await two.system.deadLetters()
  t.equal(letter!.attempts.length, 2, 'retried by the policy, not terminal')
  t.equal(calls, 2)
  t.match(letter!.error, { code: 'TROUPE_STATE_MIGRATION_FAILED' })
  t.match(letter!.error.message, /state of trafficLight key "elm-2nd" could not be migrated from version "1" to "2": migrate\["1"\] threw: cannot read the old context/)
  await two.system.stop()
  t.match(await storedState(stores, 'trafficLight', 'elm-2nd'), { version: '1', snapshot: { value: 'green' } }, 'the stored snapshot is as version 1 left it')
})

t.test('without an entry for the stored version, the message is dead-lettered as before', async (t) => {
  const { stores, clock } = await greenByV1('oak-3rd')
  class OnlyFromZero extends machineActor(lightV2, { ...v2Options, migrate: { '0': fromV1 } }) {}
  const two = createTestSystem({ actors: [OnlyFromZero, LightLog], stores, clock })
  await two.system.tell(OnlyFromZero, { type: 'EMERGENCY', crossing: 'oak-3rd' })
  await two.settle()
  const [letter] = await two.system.deadLetters()
  t.match(letter!.error, { name: 'TerminalError' })
  t.equal(letter!.attempts.length, 1)
  t.match(letter!.error.message, /trafficLight key "oak-3rd": the stored snapshot has machine version "1", but this actor runs machine version "2"/)
  t.match(letter!.error.message, /give machineActor a migrate entry for "1"/)
})

t.test('bad migrations are refused when the class is made', async (t) => {
  t.throws(() => machineActor(lightV2, { ...v2Options, migrate: 'yes' as never }), { code: 'TROUPE_CONFIG', message: /options\.migrate must be an object of functions by machine version/ })
  t.throws(() => machineActor(lightV2, { ...v2Options, migrate: { '1': 'x' as never } }), { message: /options\.migrate\["1"\] must be a function/ })
  t.throws(() => machineActor(lightV2, { ...v2Options, migrate: { '2': fromV1 } }), { message: /an entry for the current version "2"/ })
})

t.test('a whole-number machine version is the state version: an older state migrates as it is loaded, a newer one is never run or written', async (t) => {
  migrations.length = 0
  const clock = new SimulatedClock()
  const stores = memoryStores()
  const lightOne = machineActor(lightMachine, { type: 'trafficLight', version: 1, key: (e: LightEvent) => e.crossing, input: (e: LightEvent) => ({ crossing: e.crossing }) })
  class One extends lightOne {}
  const one = createTestSystem({ actors: [One], stores, clock })
  await one.system.tell(One, { type: 'START', crossing: 'elm' })
  await one.settle()
  await one.system.stop()
  t.equal(stores.state.get('trafficLight', 'elm')?.stateVersion, undefined, 'version 1: stored without a state version')

  class Two extends machineActor(lightV2, { ...v2Options, version: 2, migrate: { '1': fromV1 } }) {}
  const two = createTestSystem({ actors: [Two], stores, clock })
  t.match(await two.system.state(Two, 'elm'), { version: '2', snapshot: { value: 'go', context: { emergencies: 0 } } }, 'a read shows it migrated')
  await two.system.tell(Two, { type: 'EMERGENCY', crossing: 'elm' })
  await two.settle()
  await two.system.stop()
  t.same(await two.system.deadLetters(), [], 'no dead letter')
  const stored = stores.state.get('trafficLight', 'elm')
  t.equal(stored?.stateVersion, 2, 'committed as state version 2')

  // Version 1 again (an old environment in a rolling deploy): it refuses the newer state.
  const again = createTestSystem({ actors: [One], stores, clock })
  await t.rejects(again.system.ask(One, { type: 'START', crossing: 'elm' }), { name: 'AskFailedError' })
  await again.settle()
  const [letter] = await again.system.deadLetters()
  t.equal(letter?.error.name, 'StateVersionError', 'refused by its state version, not by a snapshot mismatch')
  t.match(letter?.error.message, /trafficLight.*elm.*2.*1/)
  t.equal(letter?.attempts.length, 1, 'never retried')
  t.same(stores.state.get('trafficLight', 'elm'), stored, 'the newer state is as version 2 left it')
})

t.test('a machine version must be a non-empty string or a whole number from 1 up', async (t) => {
  for (const version of [0, 1.5, -1, ''] as const) {
    t.throws(() => machineActor(lightV2, { ...v2Options, version }), { code: 'TROUPE_CONFIG', message: /options\.version must be a non-empty string or a whole number from 1 up/ }, JSON.stringify(version))
  }
})
