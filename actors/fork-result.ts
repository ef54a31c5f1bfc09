// The join target of a fork made from outside a turn (system.fork): it hands the joined
// replies to whoever waits for them in this process.
import { Actor } from '../lib/core/actor.js'
import type { Context } from '../lib/core/context.js'

export const FORK_RESULT = 'troupe.forkResult'

/**
 * What a host does with each joined fork, inside the turn (a durable host hands it on with the
 * turn's other effects). An object with a method, not a closure: in the embedded host (the
 * fork/join joiner's forks object) the fork-result turn's call then sees one function in every
 * system, and V8 keeps its optimized code when a second system is made.
 */
export interface DeliverFork {
  deliverFork(forkId: string, joined: unknown, ctx: Context): void | Promise<void>
}

/**
 * The fork-result actor: one class for every system, as the joiner is (a class per system would
 * make each new system's turns see new shapes). Each host hands its instance what to do with a
 * joined fork when it registers the class (`serveForkResult`).
 */
export class ForkResult extends Actor<{ forkId: string }> {
  static readonly type = FORK_RESULT
  /** Set once, when the host registers the class. */
  deliver!: DeliverFork

  receive(msg: { forkId: string }, ctx: Context) {
    return this.deliver.deliverFork(msg.forkId, msg, ctx)
  }
}

/** Hands the fork-result instance a host registered what to do with each joined fork. */
export function serveForkResult(actor: unknown, deliver: DeliverFork): void {
  if (!(actor instanceof ForkResult)) throw new Error(`internal: serveForkResult got a ${(actor as object)?.constructor?.name}, not troupe's fork-result actor`)
  actor.deliver = deliver
}
