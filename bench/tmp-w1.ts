import { Actor, createSystem, type Context } from '../lib/index.js'
class Counter extends Actor<{ by: number }, void, { count: number }> {
  static readonly type = 'counter'
  initialState() { return { count: 0 } }
  receive(msg: Counter['In'], ctx: Context<{ count: number }>) { ctx.state.count += msg.by; if (ctx.state.count === N) done() }
}
class AsyncCounter extends Actor<{ by: number }, void, { count: number }> {
  static readonly type = 'acounter'
  initialState() { return { count: 0 } }
  async receive(msg: Counter['In'], ctx: Context<{ count: number }>) { ctx.state.count += msg.by; if (ctx.state.count === N) done() }
}
const N = 1_000_000
let done: () => void = () => {}
for (const cls of [Counter, AsyncCounter, Counter, AsyncCounter]) {
  const system = createSystem({ actors: [cls], checkSerializable: false })
  const p = new Promise<void>(r => done = r)
  const t0 = performance.now()
  for (let i = 0; i < N; i++) system.tell(cls, { by: 1 })
  const t1 = performance.now()
  await p
  const ms = performance.now() - t0
  console.log(cls.type, 'send ms', (t1-t0).toFixed(0), 'total', ms.toFixed(0), 'msgs/s', Math.round(N / ms * 1000))
  await system.stop()
}
