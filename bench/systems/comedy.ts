// comedy 2 (actors for Node, in-memory mode): an actor is a class whose methods are its topics;
// send() and sendAndReceive() return promises.
import { createSystem, type Actor, type ActorRef, type ActorSystem } from 'comedy'
import { signal, type BenchSystem } from './system.js'

async function root(): Promise<{ system: ActorSystem; root: Actor }> {
  // test: true only silences comedy's logger and skips its actors.json lookup.
  const system = createSystem({ test: true })
  return { system, root: await system.rootActor() }
}

const IN_MEMORY = { mode: 'in-memory' }

export const comedy: BenchSystem = {
  name: 'comedy',
  notes: {
    W1: "root.createChild(Counter, { mode: 'in-memory' }); counter.send('inc', { by }) per message, not awaited",
    W2: '10,000 in-memory child actors made one by one with createChild (awaited, before the clock starts), in a Map by key',
    W3: "await counter.sendAndReceive('inc', { by: 1 }), the method returning the count",
    W4: "a Parent actor makes 10 in-memory children in initialize(); its job(x) awaits Promise.all(children.map((c) => c.sendAndReceive('work', x))) and sums; the caller awaits parent.sendAndReceive('job', x)",
  },

  async W1(n) {
    const { system, root: r } = await root()
    let count = 0
    const finished = signal()
    class Counter {
      inc(msg: { by: number }) {
        count += msg.by
        if (count === n) finished.resolve()
      }
    }
    const counter = await r.createChild(Counter, IN_MEMORY)
    return {
      send: (by) => void counter.send('inc', { by }),
      done: () => finished.promise,
      count: () => count,
      teardown: () => system.destroy(),
    }
  },

  async W2(keys, perActor) {
    const { system, root: r } = await root()
    let complete = 0
    let total = 0
    const finished = signal()
    class Counter {
      private count = 0
      inc(msg: { by: number }) {
        total += msg.by
        this.count += msg.by
        if (this.count === perActor && ++complete === keys.length) finished.resolve()
      }
    }
    const refs = new Map<string, ActorRef>()
    for (const key of keys) refs.set(key, await r.createChild(Counter, { ...IN_MEMORY, name: key }))
    return {
      send: (key, by) => void refs.get(key)!.send('inc', { by }),
      done: () => finished.promise,
      total: () => total,
      teardown: () => system.destroy(),
    }
  },

  async W3() {
    const { system, root: r } = await root()
    class Counter {
      private count = 0
      inc(msg: { by: number }) {
        return (this.count += msg.by)
      }
    }
    const counter = await r.createChild(Counter, IN_MEMORY)
    return {
      ask: () => counter.sendAndReceive('inc', { by: 1 }) as Promise<number>,
      teardown: () => system.destroy(),
    }
  },

  async W4(fanout) {
    const { system, root: r } = await root()
    class Child {
      private j = 0
      initialize(self: Actor) {
        this.j = (self.getCustomParameters() as { j: number }).j
      }
      work(x: number) {
        return x + this.j
      }
    }
    class Parent {
      private children: ActorRef[] = []
      async initialize(self: Actor) {
        for (let j = 0; j < fanout; j++) this.children.push(await self.createChild(Child, { ...IN_MEMORY, customParameters: { j } }))
      }
      async job(x: number) {
        const replies = (await Promise.all(this.children.map((c) => c.sendAndReceive('work', x)))) as number[]
        let sum = 0
        for (const v of replies) sum += v
        return sum
      }
    }
    const parent = await r.createChild(Parent, IN_MEMORY)
    return {
      forkJoin: (x) => parent.sendAndReceive('job', x) as Promise<number>,
      teardown: () => system.destroy(),
    }
  },
}
