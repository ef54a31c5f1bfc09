// xstate v5 actors running state machines (setup().createMachine, assign, sendTo, sendParent).
import { assign, createActor, enqueueActions, sendParent, sendTo, setup, waitFor, type ActorRefFrom } from 'xstate'
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

// W4: a parent machine that spawns its children once (in context), sends each the job with
// sendTo, and sums their sendParent replies in context; the 10th calls the job's resolve.
const workerMachine = setup({
  types: {
    context: {} as { j: number },
    input: {} as { j: number },
    events: {} as { type: 'work'; x: number },
  },
}).createMachine({
  context: ({ input }) => ({ j: input.j }),
  on: { work: { actions: sendParent(({ context, event }) => ({ type: 'done', v: event.x + context.j })) } },
})

type ForkEvent = { type: 'job'; x: number; resolve: (sum: number) => void } | { type: 'done'; v: number }

function forkJoinMachine(fanout: number) {
  return setup({
    types: {
      context: {} as { children: ActorRefFrom<typeof workerMachine>[]; sum: number; pending: number; resolve: ((sum: number) => void) | null },
      events: {} as ForkEvent,
    },
    actors: { worker: workerMachine },
  }).createMachine({
    context: ({ spawn }) => ({
      children: Array.from({ length: fanout }, (_, j) => spawn('worker', { id: `c${j}`, input: { j } })),
      sum: 0,
      pending: 0,
      resolve: null,
    }),
    on: {
      job: {
        actions: enqueueActions(({ context, event, enqueue }) => {
          if (event.type !== 'job') return
          // assign() takes function-valued properties as property assigners, so the resolver is wrapped.
          enqueue.assign({ sum: 0, pending: fanout, resolve: () => event.resolve })
          for (const child of context.children) enqueue.sendTo(child, { type: 'work', x: event.x })
        }),
      },
      done: {
        actions: enqueueActions(({ context, event, enqueue }) => {
          if (event.type !== 'done') return
          const sum = context.sum + event.v
          const pending = context.pending - 1
          enqueue.assign({ sum, pending })
          if (pending === 0) {
            const resolve = context.resolve!
            enqueue(() => resolve(sum))
          }
        }),
      },
    },
  })
}

export const xstateMachine: BenchSystem = {
  name: 'xstate-machine',
  notes: {
    W1: 'createActor(counterMachine): on.inc -> assign(count + by); actor.send; completion via waitFor',
    W2: '10,000 createActor(counterMachine) root actors in a Map, made before the clock starts',
    W3: 'client machine invokes a responder machine; ask = send { type: "ask", resolve } to the client, which sendTo("responder"); the responder assigns and sendParent({ type: "res" }); the client resolves',
    W4: 'parent machine spawns 10 worker machines once (context, spawn); job: enqueueActions assign + sendTo each worker; each worker sendParent({ type: "done", v }); the parent sums in context and calls resolve on the 10th',
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

  W4(fanout) {
    const parent = createActor(forkJoinMachine(fanout)).start()
    return {
      forkJoin: (x) => new Promise<number>((resolve) => parent.send({ type: 'job', x, resolve })),
      teardown: () => parent.stop(),
    }
  },
}
