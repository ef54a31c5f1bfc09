// nact 7 (Akka-style actors for Node): start, spawn, dispatch, query. nact runs each message in
// its own setImmediate callback, and a query makes a temporary actor and a timer per ask.
import nact from 'nact'
import { signal, type BenchSystem } from './system.js'

const { start, spawn, dispatch, query, stop } = nact

/** A query's timeout: generous, never reached. */
const QUERY_TIMEOUT_MS = 10_000

export const nactSystem: BenchSystem = {
  name: 'nact',
  notes: {
    W1: 'spawn(system, (count, msg) => count + msg.by, "counter", { initialState: 0 }); dispatch(counter, { by }) per message',
    W2: '10,000 actors spawned under the system, the key as the actor name, in a Map; made before the clock starts',
    W3: `query(counter, { by: 1 }, ${QUERY_TIMEOUT_MS}) (nact's ask: a temporary actor and a timer); the counter dispatches its count to ctx.sender`,
    W4: 'a parent actor with 10 spawned children; the caller queries the parent with { x }; the parent dispatches { x } to each child with itself as the sender; each child dispatches { v } back; the parent sums in its state and dispatches the sum to the query on the 10th',
  },

  W1(n) {
    const system = start()
    let count = 0
    const finished = signal()
    const counter = spawn(
      system,
      (state: number, msg: { by: number }) => {
        count = state + msg.by
        if (count === n) finished.resolve()
        return count
      },
      'counter',
      { initialState: 0 },
    )
    return {
      send: (by) => dispatch(counter, { by }),
      done: () => finished.promise,
      count: () => count,
      teardown: () => stop(system),
    }
  },

  W2(keys, perActor) {
    const system = start()
    let complete = 0
    let total = 0
    const finished = signal()
    const counter = (state: number, msg: { by: number }) => {
      total += msg.by
      const next = state + msg.by
      if (next === perActor && ++complete === keys.length) finished.resolve()
      return next
    }
    const refs = new Map(keys.map((key) => [key, spawn(system, counter, key, { initialState: 0 })] as const))
    return {
      send: (key, by) => dispatch(refs.get(key)!, { by }),
      done: () => finished.promise,
      total: () => total,
      teardown: () => stop(system),
    }
  },

  W3() {
    const system = start()
    const counter = spawn(
      system,
      (state: number, msg: { by: number }, ctx: nact.Context) => {
        const next = state + msg.by
        dispatch(ctx.sender, next)
        return next
      },
      'counter',
      { initialState: 0 },
    )
    return {
      ask: () => query(counter, { by: 1 }, QUERY_TIMEOUT_MS) as Promise<number>,
      teardown: () => stop(system),
    }
  },

  W4(fanout) {
    const system = start()
    type Job = { sum: number; pending: number; replyTo: nact.Ref | null }
    type Msg = { type: 'job'; x: number } | { type: 'done'; v: number }
    const parent = spawn(
      system,
      (state: Job, msg: Msg, ctx: nact.Context) => {
        if (msg.type === 'job') {
          for (const child of ctx.children.values()) dispatch(child, { x: msg.x }, ctx.self)
          return { sum: 0, pending: fanout, replyTo: ctx.sender }
        }
        const next = { sum: state.sum + msg.v, pending: state.pending - 1, replyTo: state.replyTo }
        if (next.pending === 0) dispatch(next.replyTo!, next.sum)
        return next
      },
      'parent',
      { initialState: { sum: 0, pending: 0, replyTo: null } },
    )
    for (let j = 0; j < fanout; j++) {
      spawn(
        parent,
        (state: number, msg: { x: number }, ctx: nact.Context) => {
          dispatch(ctx.sender, { type: 'done', v: msg.x + j }, ctx.self)
          return state
        },
        `c${j}`,
        { initialState: 0 },
      )
    }
    return {
      forkJoin: (x) => query(parent, { type: 'job', x }, QUERY_TIMEOUT_MS) as Promise<number>,
      teardown: () => stop(system),
    }
  },
}
