// The join target of a fork made from outside a turn (system.fork): it hands the joined
// replies to whoever waits for them in this process.
import { Actor, type ActorClass } from '../lib/index.js'

export const FORK_RESULT = 'troupe.forkResult'

/** The fork-result actor class for one host; `deliver` gets each joined fork. */
export function forkResultActor(deliver: (forkId: string, joined: unknown) => void): ActorClass {
  return class ForkResult extends Actor<{ forkId: string }> {
    static readonly type = FORK_RESULT
    receive(msg: { forkId: string }) {
      deliver(msg.forkId, msg)
    }
  }
}
