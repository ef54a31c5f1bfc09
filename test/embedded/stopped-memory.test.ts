// A stopped system is let go: nothing of troupe's outlives it in memory. The embedded mode keeps
// its latest turn context for V8's sake (lib/hosts/embedded/mailbox-turn.ts), and a kept context
// holds its system; the stop lets go of it.
import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import { Actor, createSystem, memoryStores, type Context } from '../../lib/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

class Counter extends Actor<{ by: number }, number, { count: number; ballast: number[] }> {
  static readonly type = 'counter'
  initialState() {
    return { count: 0, ballast: [] }
  }
  receive(msg: Counter['In'], ctx: Context<Counter['State']>) {
    ctx.state.count += msg.by
    return ctx.state.count
  }
}

/** Runs a system for a few turns and stops it; returns weak references to the system and its state. */
async function runAndStop(): Promise<{ system: WeakRef<object>; state: WeakRef<object> }> {
  const system = createSystem({ actors: [Counter], logLevel: 'silent' })
  for (let i = 0; i < 10; i++) await system.ask(Counter, { by: 1 })
  const state = (await system.state(Counter))!
  await system.stop()
  return { system: new WeakRef(system), state: new WeakRef(state) }
}

t.test('a stopped system, its instances and their state are collected once the caller lets go of it', async (t) => {
  const refs = await runAndStop()
  // The collector runs between turns of the event loop: let the stop's own promises settle first.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  // Compared as booleans: a failure would otherwise print the whole system.
  t.equal(refs.system.deref() === undefined, true, 'the system was collected')
  t.equal(refs.state.deref() === undefined, true, "its counter's state was collected")
})

t.test('a stopped system is collected while another system keeps running', async (t) => {
  const other = createSystem({ actors: [Counter], logLevel: 'silent' })
  t.teardown(() => other.stop())
  await other.ask(Counter, { by: 1 })
  const refs = await runAndStop()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  t.equal(refs.system.deref() === undefined, true, 'the stopped system was collected')
  t.equal(await other.ask(Counter, { by: 1 }), 2, 'the running system goes on')
})

t.test('a system whose stop failed to save its state is collected too', async (t) => {
  const refs = await (async () => {
    const stores = memoryStores()
    // The stop writes every instance to the state store; this one refuses.
    const state = Object.assign(Object.create(stores.state) as typeof stores.state, {
      put: () => Promise.reject(new Error('the state store is down (injected)')),
    })
    const system = createSystem({ actors: [Counter], logLevel: 'silent', stores: { state, timers: stores.timers } })
    t.equal(await system.ask(Counter, { by: 1 }), 1)
    await t.rejects(system.stop(), /the state store is down/, 'the stop says why it failed')
    return { system: new WeakRef(system) }
  })()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  t.equal(refs.system.deref() === undefined, true, 'the system was collected')
})
