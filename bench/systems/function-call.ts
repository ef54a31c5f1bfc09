// The ceiling for any in-process runtime: a plain function call per message. No queue, no
// scheduling, no isolation; what a message costs when it is only an argument.
import { signal, type BenchSystem } from './system.js'

export const functionCall: BenchSystem = {
  name: 'function-call',
  notes: {
    W1: 'handler({ by }) called directly per message; one object per message',
    W2: 'Map<key, state>.get(key), then handler(state, { by }); states made before the clock starts',
    W3: 'await of an async function that increments and returns the count (one promise per ask)',
    W4: 'an async parent calls 10 child functions (child j returns x + j) synchronously and sums',
    W7: 'handler(state, { k, by }) on one { counts: Map, seen } made before the clock starts: counts.set(k, counts.get(k) + by); no rollback',
  },

  W7(keys, n) {
    const state = { counts: new Map(keys.map((k) => [k, 0])), seen: 0 }
    const finished = signal()
    const handler = (s: typeof state, msg: { k: string; by: number }) => {
      s.counts.set(msg.k, s.counts.get(msg.k)! + msg.by)
      if (++s.seen === n) finished.resolve()
    }
    return {
      send: (k, by) => handler(state, { k, by }),
      done: () => finished.promise,
      total: () => {
        let total = 0
        for (const count of state.counts.values()) total += count
        return total
      },
      teardown: () => undefined,
    }
  },

  W1(n) {
    let count = 0
    const finished = signal()
    const handler = (msg: { by: number }) => {
      count += msg.by
      if (count === n) finished.resolve()
    }
    return {
      send: (by) => handler({ by }),
      done: () => finished.promise,
      count: () => count,
      teardown: () => undefined,
    }
  },

  W2(keys, perActor) {
    const states = new Map(keys.map((key) => [key, { count: 0 }] as const))
    let complete = 0
    const finished = signal()
    const handler = (state: { count: number }, msg: { by: number }) => {
      state.count += msg.by
      if (state.count === perActor && ++complete === keys.length) finished.resolve()
    }
    return {
      send: (key, by) => handler(states.get(key)!, { by }),
      done: () => finished.promise,
      total: () => {
        let sum = 0
        for (const s of states.values()) sum += s.count
        return sum
      },
      teardown: () => undefined,
    }
  },

  W3() {
    let count = 0
    const handler = async (msg: { by: number }) => (count += msg.by)
    return {
      ask: () => handler({ by: 1 }),
      teardown: () => undefined,
    }
  },

  W4(fanout) {
    const children = Array.from({ length: fanout }, (_, j) => (msg: { x: number }) => msg.x + j)
    const parent = async (msg: { x: number }) => {
      let sum = 0
      for (const child of children) sum += child({ x: msg.x })
      return sum
    }
    return {
      forkJoin: (x) => parent({ x }),
      teardown: () => undefined,
    }
  },
}
