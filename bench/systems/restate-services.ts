// The Restate SDK endpoint of the restate adapter, in a process of its own (restate.ts starts it
// with restate-polyfill.mjs loaded first, and ENDPOINT_PORT). Written the way Restate's docs show:
// - Counter, a virtual object: `add` is an exclusive handler that reads, adds and writes its state;
// - Child, a virtual object keyed c0..c9 that replies x + j;
// - Parent, a service whose `job` calls 10 Child objects and awaits them with RestatePromise.all.
import * as http2 from 'node:http2'
import * as restate from '@restatedev/restate-sdk'

export const counter = restate.object({
  name: 'Counter',
  handlers: {
    add: async (ctx: restate.ObjectContext, by: number): Promise<number> => {
      const next = ((await ctx.get<number>('count')) ?? 0) + by
      ctx.set('count', next)
      return next
    },
  },
})

export const child = restate.object({
  name: 'Child',
  handlers: {
    work: async (ctx: restate.ObjectContext, x: number): Promise<number> => x + Number(ctx.key.slice(1)),
  },
})

export const parent = restate.service({
  name: 'Parent',
  handlers: {
    job: async (ctx: restate.Context, req: { x: number; fanout: number }): Promise<number> => {
      const calls = Array.from({ length: req.fanout }, (_, j) => ctx.objectClient(child, `c${j}`).work(req.x))
      const replies = await restate.RestatePromise.all(calls)
      return replies.reduce((a, b) => a + b, 0)
    },
  },
})

// Started as a program (not when restate.ts imports the types above).
if (process.env.ENDPOINT_PORT) {
  const server = http2.createServer(restate.createEndpointHandler({ services: [counter, child, parent] }))
  server.listen(Number(process.env.ENDPOINT_PORT), '127.0.0.1', () => process.stdout.write('endpoint listening\n'))
  const stop = () => {
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.resume()
}
