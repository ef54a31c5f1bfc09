// xstate v5's lightest actor logic: fromTransition (a reducer), createActor, actor.send.
// Replies leave an actor the two ways xstate v5 gives a reducer: actorScope.emit (to listeners
// registered with actor.on) and sends deferred with actorScope.defer (to another actor).
import { createActor, fromTransition, waitFor, type ActorSystem, type AnyActorRef } from 'xstate'
import type { BenchSystem } from './system.js'

// xstate does not export its AnyActorSystem alias.
type AnyActorSystem = ActorSystem<any>

type Inc = { type: 'inc'; by: number }

const counterLogic = fromTransition((count: number, event: Inc) => count + event.by, 0)

type Count = { type: 'count'; value: number }
type Joined = { type: 'joined'; sum: number }

const askLogic = fromTransition<number, { type: 'ask' }, AnyActorSystem, undefined, Count>(
  (count, _event, { emit }) => {
    const next = count + 1
    emit({ type: 'count', value: next })
    return next
  },
  0,
)

type WorkerEvent = { type: 'work'; x: number; replyTo: AnyActorRef }
type ParentEvent = { type: 'job'; x: number } | { type: 'done'; v: number }
type Join = { sum: number; pending: number }

export const xstateTransition: BenchSystem = {
  name: 'xstate-transition',
  notes: {
    W1: 'createActor(fromTransition((count, e) => count + e.by, 0)); actor.send({ type: "inc", by }); completion via waitFor',
    W2: '10,000 createActor(fromTransition) root actors in a Map, made before the clock starts; completion via waitFor on each',
    W3: 'the reducer counts and actorScope.emit({ type: "count", value }); ask = send { type: "ask" } and resolve from actor.on("count")',
    W4: 'a parent reducer on job defers a send of { type: "work", x, replyTo: self } to 10 worker actors (fromTransition, made once); each worker defers replyTo.send({ type: "done", v }); the parent sums in its snapshot and emits "joined" on the 10th, which resolves the caller',
  },

  W1(n) {
    const actor = createActor(counterLogic).start()
    return {
      send: (by) => actor.send({ type: 'inc', by }),
      done: async () => {
        await waitFor(actor, (s) => s.context === n, { timeout: Infinity })
      },
      count: () => actor.getSnapshot().context,
      teardown: () => actor.stop(),
    }
  },

  W2(keys, perActor) {
    const actors = new Map(keys.map((key) => [key, createActor(counterLogic, { id: key }).start()] as const))
    return {
      send: (key, by) => actors.get(key)!.send({ type: 'inc', by }),
      done: async () => {
        const pending = []
        for (const a of actors.values()) {
          if (a.getSnapshot().context !== perActor) pending.push(waitFor(a, (s) => s.context === perActor, { timeout: Infinity }))
        }
        await Promise.all(pending)
      },
      total: () => {
        let sum = 0
        for (const a of actors.values()) sum += a.getSnapshot().context
        return sum
      },
      teardown: () => {
        for (const a of actors.values()) a.stop()
      },
    }
  },

  W3() {
    const actor = createActor(askLogic).start()
    let pending: ((n: number) => void) | undefined
    actor.on('count', (e) => pending!(e.value))
    return {
      ask: () =>
        new Promise<number>((resolve) => {
          pending = resolve
          actor.send({ type: 'ask' })
        }),
      teardown: () => actor.stop(),
    }
  },

  W4(fanout) {
    const workers = Array.from({ length: fanout }, (_, j) =>
      createActor(
        fromTransition((s: null, e: WorkerEvent, { defer }) => {
          defer(() => e.replyTo.send({ type: 'done', v: e.x + j }))
          return s
        }, null),
      ).start(),
    )
    const parent = createActor(
      fromTransition<Join, ParentEvent, AnyActorSystem, undefined, Joined>(
        (join, e, { defer, emit, self }) => {
          if (e.type === 'job') {
            defer(() => {
              for (const w of workers) w.send({ type: 'work', x: e.x, replyTo: self })
            })
            return { sum: 0, pending: fanout }
          }
          const next = { sum: join.sum + e.v, pending: join.pending - 1 }
          if (next.pending === 0) emit({ type: 'joined', sum: next.sum })
          return next
        },
        { sum: 0, pending: 0 },
      ),
    ).start()
    let resolveJob: ((sum: number) => void) | undefined
    parent.on('joined', (e) => resolveJob!(e.sum))
    return {
      forkJoin: (x) =>
        new Promise<number>((resolve) => {
          resolveJob = resolve
          parent.send({ type: 'job', x })
        }),
      teardown: () => {
        parent.stop()
        for (const w of workers) w.stop()
      },
    }
  },
}
