// The floor: a hand-written actor mailbox, an array queue drained on one microtask.
// No supervision, no ids, no state isolation, no typing: what "enqueue, process later" costs.
import { signal, type BenchSystem } from './system.js'

class Mailbox<M> {
  private queue: (M | undefined)[] = []
  private head = 0
  private scheduled = false

  constructor(private readonly handler: (msg: M) => void) {}

  send(msg: M): void {
    this.queue.push(msg)
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.drain)
    }
  }

  private readonly drain = (): void => {
    const q = this.queue
    while (this.head < q.length) {
      const msg = q[this.head]!
      q[this.head++] = undefined
      this.handler(msg)
    }
    q.length = 0
    this.head = 0
    this.scheduled = false
  }
}

export const mailbox: BenchSystem = {
  name: 'mailbox',
  notes: {
    W1: 'one Mailbox: array queue; the first send schedules a queueMicrotask drain that handles everything queued',
    W2: '10,000 Mailbox objects in a Map, made before the clock starts; the producer looks each up by key',
    W3: 'ask = send { resolve } and await the promise the handler resolves with the count',
    W4: 'a parent Mailbox and 10 child Mailboxes made once; a job (x, resolve) goes to the parent, which sends { x, replyTo: parent } to each child; each child sends { v } back; the parent sums and resolves after the 10th',
  },

  W1(n) {
    let count = 0
    const finished = signal()
    const box = new Mailbox<{ by: number }>((msg) => {
      count += msg.by
      if (count === n) finished.resolve()
    })
    return {
      send: (by) => box.send({ by }),
      done: () => finished.promise,
      count: () => count,
      teardown: () => undefined,
    }
  },

  W2(keys, perActor) {
    const boxes = new Map<string, Mailbox<{ by: number }>>()
    const counts: { count: number }[] = []
    let complete = 0
    const finished = signal()
    for (const key of keys) {
      const state = { count: 0 }
      counts.push(state)
      boxes.set(
        key,
        new Mailbox((msg) => {
          state.count += msg.by
          if (state.count === perActor && ++complete === keys.length) finished.resolve()
        }),
      )
    }
    return {
      send: (key, by) => boxes.get(key)!.send({ by }),
      done: () => finished.promise,
      total: () => counts.reduce((sum, s) => sum + s.count, 0),
      teardown: () => undefined,
    }
  },

  W3() {
    let count = 0
    const box = new Mailbox<{ resolve: (n: number) => void }>((msg) => msg.resolve(++count))
    return {
      ask: () => new Promise<number>((resolve) => box.send({ resolve })),
      teardown: () => undefined,
    }
  },

  W4(fanout) {
    type ParentMsg = { type: 'job'; x: number; resolve: (sum: number) => void } | { type: 'done'; v: number }
    let job: { sum: number; pending: number; resolve: (sum: number) => void } | undefined
    const parent: Mailbox<ParentMsg> = new Mailbox<ParentMsg>((msg) => {
      if (msg.type === 'job') {
        job = { sum: 0, pending: fanout, resolve: msg.resolve }
        for (const child of children) child.send({ x: msg.x, replyTo: parent })
        return
      }
      const j = job!
      j.sum += msg.v
      if (--j.pending === 0) {
        job = undefined
        j.resolve(j.sum)
      }
    })
    const children = Array.from(
      { length: fanout },
      (_, j) => new Mailbox<{ x: number; replyTo: Mailbox<ParentMsg> }>((msg) => msg.replyTo.send({ type: 'done', v: msg.x + j })),
    )
    return {
      forkJoin: (x) => new Promise<number>((resolve) => parent.send({ type: 'job', x, resolve })),
      teardown: () => undefined,
    }
  },
}
