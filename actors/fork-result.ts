// The join target of a fork made from outside a turn (system.fork): it hands the joined
// replies to whoever waits for them in this process.
import { Actor, type ActorClass } from '../lib/core/actor.js'
import type { Context } from '../lib/core/context.js'

export const FORK_RESULT = 'troupe.forkResult'

/**
 * The fork-result actor class for one host; `deliver` gets each joined fork, inside the turn
 * (a durable host hands it on with the turn's other effects).
 */
export function forkResultActor(deliver: (forkId: string, joined: unknown, ctx: Context) => void | Promise<void>): ActorClass {
  return class ForkResult extends Actor<{ forkId: string }> {
    static readonly type = FORK_RESULT
    receive(msg: { forkId: string }, ctx: Context) {
      return deliver(msg.forkId, msg, ctx)
    }
  }
}
