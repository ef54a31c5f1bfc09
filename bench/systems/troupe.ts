// troupe's embedded system, used the way the README shows: one Actor class per message type,
// state in ctx.state, the supervisor on with its defaults.
import { Actor, createSystem, type ActorClass, type Context } from '../../lib/index.js'
import { signal, type BenchSystem } from './system.js'

export interface TroupeVariant {
  name: string
  /** `async receive` instead of a synchronous one. */
  asyncReceive: boolean
  /** Check every message and state for superjson (the development default); production turns it off. */
  checkSerializable: boolean
}

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

  return {
    name: variant.name,
    notes: {
      W1: `singleton Counter (initialState, no key), ${how}; producer calls system.tell(Counter, { by }) without awaiting`,
      W2: `keyed Counter (key(msg) = msg.k), ${how}; instances are made on their first message, inside the timed part`,
      W3: `singleton Counter returning its count, ${how}; await system.ask(Counter, { by: 1 })`,
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
  }
}
