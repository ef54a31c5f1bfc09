// Machine actors: events in, snapshot kept, emits out, replies, versions, refusals.
import t from 'tap'
import { memoryStores, ValidationError } from '../../lib/index.js'
import { createTestSystem, SimulatedClock } from '../../lib/testing/index.js'
import { machineActor } from '../../lib/xstate/index.js'
import { announced, colorOf, LightLog, lightMachine, Parent, Reminder, TrafficLight, TrafficLightV2 } from './fixtures/machines.js'

t.beforeEach(() => {
  announced.length = 0
})

t.test('one machine per key, started from the initial state with input from the first event', async (t) => {
  const { system } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await system.tell(TrafficLight, { type: 'START', crossing: 'north' })
  await system.tell(TrafficLight, { type: 'STATUS', crossing: 'south' })
  const north = await system.state(TrafficLight, 'north')
  t.match(north, { version: '1', snapshot: { status: 'active', value: 'green', context: { crossing: 'north', cycles: 0 } } })
  t.equal(colorOf(await system.state(TrafficLight, 'south')), 'off', 'a new instance starts from the initial state')
})

t.test('what the machine emits with tellActor reaches the other actor', async (t) => {
  const { system, clock, settle } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await system.tell(TrafficLight, { type: 'START', crossing: 'east' })
  await clock.advance(60_000)
  await settle()
  t.same(announced, [{ crossing: 'east', color: 'yellow', cycles: 0 }])
  await clock.advance(35_000)
  await settle()
  t.same(announced.at(-1), { crossing: 'east', color: 'green', cycles: 1 }, 'sent after the assign of the same transition')
})

t.test('ask returns the reply derived from the snapshot', async (t) => {
  const { system } = createTestSystem({ actors: [TrafficLight, LightLog] })
  t.same(await system.ask(TrafficLight, { type: 'STATUS', crossing: 'west' }), { color: 'off', cycles: 0 })
  const reply = await system.ask(TrafficLight, { type: 'START', crossing: 'west' })
  t.equal(reply.color, 'green', 'typed as the reply option returns')
})

t.test('ask returns what replyWith gave; delayed raises are durable and cancellable', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Reminder] })
  t.equal(await system.ask(Reminder, { type: 'ARM', inMs: 1_000 }), 'armed')
  t.same((await system.timers()).map((x) => x.id), ['reminder##ping'], 'raise({ id: "ping", delay }) is a named timer')
  await clock.advance(1_000)
  t.match(await system.state(Reminder), { snapshot: { context: { pings: 1 } }, timers: {} }, 'the raised event arrived')
  t.equal(await system.ask(Reminder, { type: 'PING' }), 2)

  await system.ask(Reminder, { type: 'ARM', inMs: 1_000 })
  t.equal(await system.ask(Reminder, { type: 'DISARM' }), 'disarmed')
  t.same(await system.timers(), [], 'cancel("ping") removed the timer')
  await clock.advance(5_000)
  t.match(await system.state(Reminder), { snapshot: { context: { pings: 2 } } })
})

t.test('reaching a final state cancels the pending delays', async (t) => {
  const { system, clock } = createTestSystem({ actors: [Reminder] })
  await system.tell(Reminder, { type: 'ARM', inMs: 1_000 })
  await system.tell(Reminder, { type: 'FINISH' })
  t.same(await system.timers(), [])
  t.match(await system.state(Reminder), { snapshot: { status: 'done' }, timers: {} })
  await system.tell(Reminder, { type: 'PING' })
  await clock.advance(2_000)
  t.match(await system.state(Reminder), { snapshot: { status: 'done', context: { pings: 0 } } }, 'a done machine takes no more events')
  t.same(await system.deadLetters(), [])
})

t.test('a snapshot stored under another machine version is dead-lettered, naming actor, key and versions', async (t) => {
  const clock = new SimulatedClock()
  const stores = memoryStores()
  const one = createTestSystem({ actors: [TrafficLight, LightLog], stores, clock })
  await one.system.tell(TrafficLight, { type: 'START', crossing: 'main-1st' })
  await one.system.stop()

  const two = createTestSystem({ actors: [TrafficLightV2, LightLog], stores, clock })
  const id = await two.system.tell(TrafficLightV2, { type: 'EMERGENCY', crossing: 'main-1st' })
  await two.settle()
  const [letter, ...more] = await two.system.deadLetters()
  t.equal(more.length, 0)
  t.equal(letter!.envelope.id, id)
  t.equal(letter!.attempts.length, 1, 'terminal: not retried')
  const message = letter!.error.message
  t.match(message, /trafficLight/, 'names the actor type')
  t.match(message, /main-1st/, 'names the key')
  t.match(message, /"1"/, 'names the stored version')
  t.match(message, /"2"/, 'names the running version')
  t.equal(colorOf((await two.system.state(TrafficLightV2, 'main-1st')) ?? undefined), 'green', 'the stored snapshot is left as it was')
})

t.test('a message without a string type is refused', async (t) => {
  const { system, settle } = createTestSystem({ actors: [TrafficLight, LightLog] })
  await t.rejects(system.tell(TrafficLight, { crossing: 'x' } as never), ValidationError)
  await t.rejects(system.tell(TrafficLight, { type: 7, crossing: 'x' } as never), {
    code: 'TROUPE_INVALID_MESSAGE',
    message: /message for trafficLight is invalid: type: a machine event needs a non-empty string "type"/,
  })
  await t.rejects(system.tell('trafficLight', 'START'), { message: /must be an object with a string "type", got string "START"/ })

  // The event a delayed-event message carries is checked in the turn.
  await system.tell(TrafficLight, { type: '@troupe.xstate.delayed', key: 'x', event: { nope: true } as never })
  await settle()
  const [letter] = await system.deadLetters()
  t.match(letter!.error.message, /machine actor trafficLight#x: type: a machine event needs a non-empty string "type"/)
})

t.test('delays to invoked children are refused with a terminal error', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Parent] })
  await system.tell(Parent, { type: 'POKE' })
  await settle()
  const [letter] = await system.deadLetters()
  t.match(letter!.error, { name: 'TerminalError' })
  t.match(letter!.error.message, /machine actor parent: a delayed event "WAKE" from the machine to actor "kid" is not supported/)
  t.same(await system.timers(), [], 'nothing was scheduled')
  t.equal(letter!.attempts.length, 1)
})

t.test('a machine left with children at the end of a turn is refused', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Parent] })
  await system.tell(Parent, { type: 'HELLO' })
  await settle()
  const [letter] = await system.deadLetters()
  t.match(letter!.error.message, /machine actor parent: the machine has child actors \(kid\)/)
})

t.test('bad declarations are refused when the class is made', async (t) => {
  t.throws(() => machineActor({} as typeof lightMachine, { type: 'x', version: '1' }), { code: 'TROUPE_CONFIG', message: /xstate v5 machine/ })
  t.throws(() => machineActor(lightMachine, { type: 'x', version: '' }), { message: /options\.version must be a non-empty string/ })
  t.throws(() => machineActor(lightMachine, { type: 'x', version: '1', key: 'crossing' as never }), { message: /options\.key must be a function/ })
})
