// xstate v5 actors running state machines (setup().createMachine, assign, sendTo, sendParent).
import { assign, createActor, sendParent, sendTo, setup, waitFor } from 'xstate'
import type { BenchSystem } from './system.js'

const counterMachine = setup({
  types: {
    context: {} as { count: number },
    events: {} as { type: 'inc'; by: number },
  },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  on: { inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) } },
})

const responderMachine = setup({
  types: {
    context: {} as { count: number },
    events: {} as { type: 'req' },
  },
}).createMachine({
  context: { count: 0 },
  on: {
    req: {
      actions: [
        assign({ count: ({ context }) => context.count + 1 }),
        sendParent(({ context }) => ({ type: 'res', value: context.count })),
      ],
    },
  },
})

type ClientEvent = { type: 'ask'; resolve: (n: number) => void } | { type: 'res'; value: number }

// xstate v5 has no built-in ask: the idiom is a parent that sends to a child and handles its sendParent reply.
const clientMachine = setup({
  types: {
    context: {} as { pending: ((n: number) => void) | null },
    events: {} as ClientEvent,
  },
  actors: { responder: responderMachine },
}).createMachine({
  context: { pending: null },
  invoke: { src: 'responder', id: 'responder' },
  on: {
    ask: {
      actions: [
        assign(({ event }) => ({ pending: event.type === 'ask' ? event.resolve : null })),
        sendTo('responder', { type: 'req' }),
      ],
    },
    res: {
      actions: ({ context, event }) => {
        if (event.type === 'res') context.pending?.(event.value)
      },
    },
  },
})

export const xstateMachine: BenchSystem = {
  name: 'xstate-machine',
  notes: {
    W1: 'createActor(counterMachine): on.inc -> assign(count + by); actor.send; completion via waitFor',
    W2: '10,000 createActor(counterMachine) root actors in a Map, made before the clock starts',
    W3: 'client machine invokes a responder machine; ask = send { type: "ask", resolve } to the client, which sendTo("responder"); the responder assigns and sendParent({ type: "res" }); the client resolves',
  },

  W1(n) {
    const actor = createActor(counterMachine).start()
    return {
      send: (by) => actor.send({ type: 'inc', by }),
      done: async () => {
        await waitFor(actor, (s) => s.context.count === n, { timeout: Infinity })
      },
      count: () => actor.getSnapshot().context.count,
      teardown: () => actor.stop(),
    }
  },

  W2(keys, perActor) {
    const actors = new Map(keys.map((key) => [key, createActor(counterMachine, { id: key }).start()] as const))
    return {
      send: (key, by) => actors.get(key)!.send({ type: 'inc', by }),
      done: async () => {
        const pending = []
        for (const a of actors.values()) {
          if (a.getSnapshot().context.count !== perActor) pending.push(waitFor(a, (s) => s.context.count === perActor, { timeout: Infinity }))
        }
        await Promise.all(pending)
      },
      total: () => {
        let sum = 0
        for (const a of actors.values()) sum += a.getSnapshot().context.count
        return sum
      },
      teardown: () => {
        for (const a of actors.values()) a.stop()
      },
    }
  },

  W3() {
    const client = createActor(clientMachine).start()
    return {
      ask: () => new Promise<number>((resolve) => client.send({ type: 'ask', resolve })),
      teardown: () => client.stop(),
    }
  },
}
