import type { Clock } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import { SystemStoppedError } from '../../core/errors.js'
import type { DeadLetterBox } from '../../supervisor/dead-letter-box.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { deadLetter } from '../../turn/turn-effects.js'
import type { ActorRuntime } from './actor-runtime.js'
import type { Instance } from './instance.js'
import type { MessageBook } from './message-book.js'
import type { RetryWaits } from './retry-waits.js'

/**
 * What a stop does with the messages it leaves: each is dead-lettered, whole and replayable,
 * so none disappears; the count goes into stop()'s report.
 */
export class StopBurial {
  /** Messages dead-lettered by the stop. */
  count = 0

  constructor(
    private readonly clock: Clock,
    private readonly book: MessageBook,
    private readonly dead: DeadLetterBox,
  ) {}

  bury(rt: ActorRuntime, envelope: Envelope, error: Error): void {
    this.count++
    rt.counts.dead++
    this.dead.add(deadLetter(envelope, error, this.book.takeAttempts(envelope), this.clock.now()))
    this.book.finish(envelope, 'dead', error.message)
  }

  /** Dead-letters every message still waiting: out a retry's backoff, or in a mailbox (parked for good). */
  buryWaiting(
    registry: ActorRegistry<ActorRuntime>,
    retries: RetryWaits,
    slotEnvelope: (inst: Instance, item: unknown, seq: number, sentAt: number) => Envelope,
  ): void {
    const waiting = retries.cancel().map((envelope): [ActorRuntime, Envelope] => [registry.get(envelope.type), envelope])
    for (const rt of registry.values()) {
      for (const inst of rt.instances.values()) {
        // Parked for good where a turn still runs or messages waited; an idle instance is left as
        // it is (nothing reaches it now: what is sent after the stop is dead-lettered, and a
        // stopping system evicts nothing), so a stop writes nothing into every instance, which V8
        // would answer by dropping optimized code.
        if (inst.active !== 0 || inst.size !== 0) inst.parked = true
        for (const slot of inst.mailbox.drain()) {
          waiting.push([rt, slotEnvelope(inst, slot.item, slot.seq, slot.sentAt)])
        }
      }
    }
    for (const [rt, envelope] of waiting) {
      rt.queued--
      this.bury(rt, envelope, new SystemStoppedError(`the system stopped before ${rt.type} message ${envelope.id} could finish`))
    }
  }
}
