// Compile-time checks: `tsc --noEmit` fails if any @ts-expect-error line compiles.
import t from 'tap'
import { assign, setup } from 'xstate'
import { Actor, createSystem, type Context, type InOf, type ReplyOf } from '../../lib/index.js'
import { machineActor, replyWith, tellActor } from '../../lib/xstate/index.js'
import { LightLog, Reminder, TrafficLight } from './fixtures/machines.js'

class Audit extends Actor<{ door: string; open: boolean }> {
  static readonly type = 'audit'
  receive(_msg: Audit['In'], _ctx: Context) {}
}

const door = setup({
  types: { context: {} as { door: string; opened: number }, events: {} as { type: 'OPEN' } | { type: 'CLOSE' } },
}).createMachine({
  context: { door: 'front', opened: 0 },
  initial: 'closed',
  states: {
    closed: {
      on: {
        OPEN: {
          target: 'open',
          actions: [
            assign({ opened: ({ context }) => context.opened + 1 }),
            tellActor(Audit, ({ context }) => ({ door: context.door, open: true })),
            replyWith(({ context }) => context.opened),
          ],
        },
      },
    },
    open: {
      on: {
        // @ts-expect-error the body must fit Audit's mailbox
        CLOSE: { target: 'closed', actions: tellActor(Audit, ({ context }) => ({ door: context.door })) },
      },
    },
  },
})

// A singleton: no key option, and a reply typed from `reply`.
class Door extends machineActor(door, { type: 'door', version: '1', reply: (snapshot) => snapshot.context.opened }) {}

t.test('the mailbox is the machine event union, ask returns the reply type', async (t) => {
  const system = createSystem({ actors: [TrafficLight, LightLog, Reminder, Door, Audit], logLevel: 'silent' })
  const opened: number = await system.ask(Door, { type: 'OPEN' })
  t.equal(opened, 1)
  const status: { color: string; cycles: number } = await system.ask(TrafficLight, { type: 'STATUS', crossing: 'a' })
  t.equal(status.color, 'off')
  const armed: unknown = await system.ask(Reminder, { type: 'ARM', inMs: 5 })
  t.equal(armed, 'armed')
  const event: InOf<typeof Door> = { type: 'CLOSE' }
  const reply: ReplyOf<typeof Door> = 0
  t.ok(event && reply === 0)
  if (opened < 0) {
    // @ts-expect-error not an event of the light machine
    await system.tell(TrafficLight, { type: 'TIMER', crossing: 'a' })
    // @ts-expect-error START needs its crossing
    await system.tell(TrafficLight, { type: 'START' })
    // @ts-expect-error ARM needs inMs
    await system.tell(Reminder, { type: 'ARM' })
    // @ts-expect-error the door's reply is a number
    const wrong: string = await system.ask(Door, { type: 'OPEN' })
    t.fail(wrong)
  }
  await system.stop()
})

t.test('options are typed from the machine', async (t) => {
  machineActor(door, {
    type: 'door2',
    version: '1',
    // @ts-expect-error the door's events have no crossing
    key: (event) => event.crossing,
  })
  t.pass()
})
