// Node's EventEmitter as the message bus: synchronous dispatch to listeners, no mailbox.
// The limit of "an event per message" in Node without any queue.
import { EventEmitter } from 'node:events'
import { signal, type BenchSystem } from './system.js'

export const eventEmitter: BenchSystem = {
  name: 'event-emitter',
  notes: {
    W1: "one emitter, emit('msg', { by }) per message; the listener counts (synchronous call)",
    W2: 'one bus emitter with one event name per key (10,000 listeners, one each), made before the clock starts',
    W3: "the client emits 'req' { id }; the server's listener counts and emits 'res' { id, value }; the client resolves the pending promise (a Map by id)",
    W4: "a parent emitter emits 'work' on 10 child emitters; each child emits 'done' { id, v } on the parent; the parent sums and resolves after the 10th",
  },

  W1(n) {
    const ee = new EventEmitter()
    let count = 0
    const finished = signal()
    ee.on('msg', (msg: { by: number }) => {
      count += msg.by
      if (count === n) finished.resolve()
    })
    return {
      send: (by) => ee.emit('msg', { by }),
      done: () => finished.promise,
      count: () => count,
      teardown: () => ee.removeAllListeners(),
    }
  },

  W2(keys, perActor) {
    const bus = new EventEmitter()
    bus.setMaxListeners(0)
    const states: { count: number }[] = []
    let complete = 0
    const finished = signal()
    for (const key of keys) {
      const state = { count: 0 }
      states.push(state)
      bus.on(key, (msg: { by: number }) => {
        state.count += msg.by
        if (state.count === perActor && ++complete === keys.length) finished.resolve()
      })
    }
    return {
      send: (key, by) => bus.emit(key, { by }),
      done: () => finished.promise,
      total: () => states.reduce((sum, s) => sum + s.count, 0),
      teardown: () => bus.removeAllListeners(),
    }
  },

  W3() {
    const toServer = new EventEmitter()
    const toClient = new EventEmitter()
    let count = 0
    toServer.on('req', (msg: { id: number }) => toClient.emit('res', { id: msg.id, value: ++count }))
    const pending = new Map<number, (n: number) => void>()
    toClient.on('res', (msg: { id: number; value: number }) => {
      const resolve = pending.get(msg.id)!
      pending.delete(msg.id)
      resolve(msg.value)
    })
    let nextId = 0
    return {
      ask: () =>
        new Promise<number>((resolve) => {
          const id = nextId++
          pending.set(id, resolve)
          toServer.emit('req', { id })
        }),
      teardown: () => undefined,
    }
  },

  W4(fanout) {
    const parent = new EventEmitter()
    const children = Array.from({ length: fanout }, (_, j) => {
      const child = new EventEmitter()
      child.on('work', (msg: { id: number; x: number }) => parent.emit('done', { id: msg.id, v: msg.x + j }))
      return child
    })
    const jobs = new Map<number, { sum: number; pending: number; resolve: (sum: number) => void }>()
    parent.on('job', (msg: { id: number; x: number; resolve: (sum: number) => void }) => {
      jobs.set(msg.id, { sum: 0, pending: fanout, resolve: msg.resolve })
      for (const child of children) child.emit('work', { id: msg.id, x: msg.x })
    })
    parent.on('done', (msg: { id: number; v: number }) => {
      const job = jobs.get(msg.id)!
      job.sum += msg.v
      if (--job.pending === 0) {
        jobs.delete(msg.id)
        job.resolve(job.sum)
      }
    })
    let nextId = 0
    return {
      forkJoin: (x) => new Promise<number>((resolve) => parent.emit('job', { id: nextId++, x, resolve })),
      teardown: () => undefined,
    }
  },
}
