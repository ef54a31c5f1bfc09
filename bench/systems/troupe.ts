// troupe's embedded system, used the way the README shows: one Actor class per message type,
// state in ctx.state, the supervisor on with its defaults. Loaded from the compiled package
// (dist/, built by `npm run bench`), as a user's app loads it, not from the sources through tsx.
import { Actor, createSystem, type ActorClass, type Context, type Joined } from '../../dist/lib/index.js'
import { NO_STATE_COPY } from '../../dist/lib/turn/actor-type.js'
import { signal, type BenchSystem } from './system.js'

export interface TroupeVariant {
  name: string
  /** `async receive` instead of a synchronous one. */
  asyncReceive: boolean
  /** Check every message and state for superjson (the development default); production turns it off. */
  checkSerializable: boolean
  /**
   * W4 from inside the actor world: a Job actor forks in its turn and a Sum actor joins,
   * resolving the caller's promise. Otherwise W4 awaits `system.fork` from outside a turn.
   */
  forkInTurn?: boolean
  /** W7: the actor runs on its state itself, with no rollback of a failed turn (what troupe's own joiner does). */
  noRollback?: boolean
}

/** A fork's deadline in W4: generous, as a user would set it; never reached. */
const JOIN_TIMEOUT_MS = 30_000

type Count = { count: number }

export function troupe(variant: TroupeVariant): BenchSystem {
  const start = (actors: ActorClass[]) => {
    const system = createSystem({ actors, checkSerializable: variant.checkSerializable, logLevel: 'silent' })
    // The done signal fires inside the last turn; an async turn commits its state a moment later.
    // Reading the state for the check waits for stop(), which drains everything accepted.
    let stopped: Promise<unknown> | undefined
    const stop = () => (stopped ??= system.stop())
    return { system, stop }
  }
  const how = `${variant.asyncReceive ? 'async' : 'sync'} receive, checkSerializable: ${variant.checkSerializable}`
  type TallyState = { counts: Map<string, number>; seen: number }

  return {
    name: variant.name,
    notes: {
      W1: `singleton Counter (initialState, no key), ${how}; producer calls system.tell(Counter, { by }) without awaiting`,
      W2: `keyed Counter (key(msg) = msg.k), ${how}; instances are made on their first message, inside the timed part`,
      W3: `singleton Counter returning its count, ${how}; await system.ask(Counter, { by: 1 })`,
      W4: variant.forkInTurn
        ? `a Job actor's turn does ctx.fork(10 x [Child, { x, j }]).join(Sum, { timeoutMs: ${JOIN_TIMEOUT_MS}, value: x }); Sum (stateless) sums the replies and resolves the caller's promise (a Map by x); caller: system.tell(Job, { x }); Child is stateless, ${how}`
        : `const joined = await system.fork(10 x [Child, { x, j }], { timeoutMs: ${JOIN_TIMEOUT_MS} }) from outside a turn, then the replies summed; Child is stateless, ${how}`,
      W7: `singleton Tallies whose state is { counts: Map of every key to 0, seen }; each turn does counts.set(k, counts.get(k) + by) and seen++, ${how}${variant.noRollback ? ', no rollback (NO_STATE_COPY: the turn runs on the state itself)' : ', rollback on failure'}; producer calls system.tell(Tallies, { k, by }) without awaiting`,
    },

    W1(n) {
      const finished = signal()
      class Counter extends Actor<{ by: number }, void, Count> {
        static readonly type = 'counter'
        initialState() {
          return { count: 0 }
        }
        receive(msg: Counter['In'], ctx: Context<Count>) {
          ctx.state.count += msg.by
          if (ctx.state.count === n) finished.resolve()
        }
      }
      class AsyncCounter extends Actor<{ by: number }, void, Count> {
        static readonly type = 'counter'
        initialState() {
          return { count: 0 }
        }
        async receive(msg: AsyncCounter['In'], ctx: Context<Count>) {
          ctx.state.count += msg.by
          if (ctx.state.count === n) finished.resolve()
        }
      }
      const Target: typeof Counter = variant.asyncReceive ? AsyncCounter : Counter
      const { system, stop } = start([Target])
      return {
        send: (by) => void system.tell(Target, { by }),
        done: () => finished.promise,
        count: async () => {
          await stop()
          return (await system.state(Target))?.count ?? -1
        },
        teardown: stop,
      }
    },

    W2(keys, perActor) {
      const finished = signal()
      let complete = 0
      const counted = (count: number) => {
        if (count === perActor && ++complete === keys.length) finished.resolve()
      }
      class KeyedCounter extends Actor<{ k: string; by: number }, void, Count> {
        static readonly type = 'keyedCounter'
        key(msg: KeyedCounter['In']) {
          return msg.k
        }
        initialState() {
          return { count: 0 }
        }
        receive(msg: KeyedCounter['In'], ctx: Context<Count>) {
          counted((ctx.state.count += msg.by))
        }
      }
      class AsyncKeyedCounter extends KeyedCounter {
        override async receive(msg: KeyedCounter['In'], ctx: Context<Count>) {
          counted((ctx.state.count += msg.by))
        }
      }
      const Target: typeof KeyedCounter = variant.asyncReceive ? AsyncKeyedCounter : KeyedCounter
      const { system, stop } = start([Target])
      return {
        send: (k, by) => void system.tell(Target, { k, by }),
        done: () => finished.promise,
        total: async () => {
          await stop()
          return system.instances(Target).reduce((sum, i) => sum + ((i.state as Count | undefined)?.count ?? 0), 0)
        },
        teardown: stop,
      }
    },

    W3() {
      class Counter extends Actor<{ by: number }, number, Count> {
        static readonly type = 'askCounter'
        initialState() {
          return { count: 0 }
        }
        receive(msg: Counter['In'], ctx: Context<Count>) {
          return (ctx.state.count += msg.by)
        }
      }
      class AsyncCounter extends Actor<{ by: number }, number, Count> {
        static readonly type = 'askCounter'
        initialState() {
          return { count: 0 }
        }
        async receive(msg: AsyncCounter['In'], ctx: Context<Count>) {
          return (ctx.state.count += msg.by)
        }
      }
      const Target: ActorClass<Counter | AsyncCounter> = variant.asyncReceive ? AsyncCounter : Counter
      const { system, stop } = start([Target])
      return {
        ask: () => system.ask(Target, { by: 1 }),
        teardown: stop,
      }
    },

    W7(keys, n) {
      const finished = signal()
      class Tallies extends Actor<{ k: string; by: number }, void, TallyState> {
        static readonly type = 'tallies'
        initialState(): TallyState {
          return { counts: new Map(keys.map((k) => [k, 0])), seen: 0 }
        }
        receive(msg: Tallies['In'], ctx: Context<TallyState>) {
          const counts = ctx.state.counts
          counts.set(msg.k, counts.get(msg.k)! + msg.by)
          if (++ctx.state.seen === n) finished.resolve()
        }
      }
      if (variant.noRollback) Object.defineProperty(Tallies, NO_STATE_COPY, { value: true })
      const { system, stop } = start([Tallies])
      return {
        send: (k, by) => void system.tell(Tallies, { k, by }),
        done: () => finished.promise,
        total: async () => {
          await stop()
          let total = 0
          for (const count of (await system.state(Tallies))!.counts.values()) total += count
          return total
        },
        teardown: stop,
      }
    },

    W4(fanout) {
      class Child extends Actor<{ x: number; j: number }, number> {
        static readonly type = 'child'
        receive(msg: Child['In']) {
          return msg.x + msg.j
        }
      }
      class AsyncChild extends Actor<{ x: number; j: number }, number> {
        static readonly type = 'child'
        async receive(msg: AsyncChild['In']) {
          return msg.x + msg.j
        }
      }
      type Worker = ActorClass<Child | AsyncChild>
      const Worker: Worker = variant.asyncReceive ? AsyncChild : Child
      // A loop, not Array.from({ length }, …): that costs 0.66 µs more a fork here, the caller's
      // time and not troupe's (the other adapters' forks build no list per fork).
      const children = (x: number) => {
        const list: (readonly [Worker, { x: number; j: number }])[] = new Array(fanout)
        for (let j = 0; j < fanout; j++) list[j] = [Worker, { x, j }] as const
        return list
      }
      const sum = (joined: Joined<Worker[], unknown>): number => {
        if (!joined.complete) throw new Error(`W4: join incomplete, missing ${JSON.stringify(joined.missing)}`)
        let total = 0
        for (const r of joined.replies) total += r
        return total
      }

      if (!variant.forkInTurn) {
        const { system, stop } = start([Worker])
        return {
          forkJoin: async (x) => sum(await system.fork(children(x), { timeoutMs: JOIN_TIMEOUT_MS })),
          teardown: stop,
        }
      }

      const waiting = new Map<number, (sum: number) => void>()
      class Sum extends Actor<Joined<Worker[], number>> {
        static readonly type = 'sum'
        receive(msg: Sum['In']) {
          const resolve = waiting.get(msg.value)!
          waiting.delete(msg.value)
          resolve(sum(msg))
        }
      }
      class Job extends Actor<{ x: number }> {
        static readonly type = 'job'
        receive(msg: Job['In'], ctx: Context) {
          ctx.fork(children(msg.x)).join(Sum, { timeoutMs: JOIN_TIMEOUT_MS, value: msg.x })
        }
      }
      const { system, stop } = start([Worker, Sum, Job])
      return {
        forkJoin: (x) =>
          new Promise<number>((resolve, reject) => {
            waiting.set(x, resolve)
            system.tell(Job, { x }).catch(reject)
          }),
        teardown: stop,
      }
    },
  }
}
