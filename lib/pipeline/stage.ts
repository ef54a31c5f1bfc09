// A pipeline's stage at run time: a subclass of the user's actor class, under the same type
// name, whose turn ends by handing its reply to the next stage inside the same turn (so what
// it sends leaves only if the turn succeeds, with ids derived from the incoming message's).
import type { ActorClass } from '../core/actor.js'
import type { Context } from '../core/context.js'

/** Where a stage's output goes. */
export type Route =
  | { kind: 'pipe'; to: ActorClass }
  | { kind: 'each'; to: ActorClass }
  | { kind: 'fork'; to: readonly ActorClass[]; join: ActorClass; timeoutMs: number }

/** A reply that carries nothing on: the stage filtered the message out. */
function isNothing(out: unknown): boolean {
  return out === undefined || out === null
}

/** Sends `out` along `route` from inside the turn of `ctx`. */
function forward(route: Route, out: unknown, ctx: Context<unknown>): void {
  switch (route.kind) {
    case 'pipe':
      ctx.tell(route.to, out as never)
      return
    case 'each':
      for (const item of out as Iterable<unknown>) if (!isNothing(item)) ctx.tell(route.to, item as never)
      return
    case 'fork':
      ctx.fork(route.to.map((to) => [to, out]) as never).join(route.join as never, { timeoutMs: route.timeoutMs, value: out })
  }
}

/**
 * The stage class for `cls`: same type name, schema, policy, key and state; its reply is
 * forwarded along `route()` (read at each turn, as later stages are added after it).
 */
export function stageOf<C extends ActorClass>(cls: C, route: () => Route | undefined): C {
  const Base = cls as unknown as new () => { receive(msg: unknown, ctx: Context<unknown>): unknown }
  const Stage = class extends Base {
    override async receive(msg: unknown, ctx: Context<unknown>): Promise<unknown> {
      const out = await super.receive(msg, ctx)
      const next = route()
      if (next && !isNothing(out)) {
        if (next.kind === 'each' && !Array.isArray(out)) {
          throw new TypeError(`${cls.type} is followed by .each(${next.to.type}) but replied ${typeof out}, not an array`)
        }
        forward(next, out, ctx)
      }
      return out
    }
  }
  Object.defineProperty(Stage, 'name', { value: cls.name })
  return Stage as unknown as C
}
