import { NO_READING } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import type { TurnJournal } from '../../core/turn-journal.js'
import { TurnContext, type TurnHost } from '../../turn/turn-context.js'
import type { ChildReport } from '../../turn/turn-effects.js'
import type { Instance } from './instance.js'
import { ENVELOPE, REPORT } from './mailbox.js'

/** Makes the envelope of a message the mailbox kept as a bare body or a report, at `attempt`. */
export interface SlotEnvelopes {
  slotEnvelope(inst: Instance, item: unknown, seq: number, sentAt: number, attempt: number): Envelope
}

/**
 * The latest turn context, kept for its hidden class alone. V8 drops a hidden class once no object
 * of it is left, and with it the optimized code of every function compiled against it: without
 * this, a full collection that finds no turn running (on an idle system, which V8's memory reducer
 * collects) sends the next turns through unoptimized code until they are compiled again.
 * Measured (bench/after-gc.ts): the first 2,000 fork/joins after such a collection took 38–40 ms
 * with the class dropped and 18–23 ms with it kept, against 12–13 ms for 2,000 later on. It holds
 * on to one turn's message and state until one of the next KEEP_EVERY turns replaces it, and its
 * system until then or its stop (`release`). Not replaced on every turn: `kept` lives in the old
 * generation, and each store of a new turn into it went through the collector's write barrier.
 */
const kept: { turn: MailboxTurn | undefined; left: number } = { turn: undefined, left: 0 }
const KEEP_EVERY = 64

/**
 * A turn on a mailbox slot: a full envelope, or a bare body (seq is then its root id's
 * sequence number) or a fork child's report (seq REPORT) whose envelope is made only if the turn
 * asks for it.
 */
export class MailboxTurn extends TurnContext<unknown, Instance> {
  // Declared and set in the constructor, as TurnContext's fields are (turn-context.ts says why).
  protected declare readonly host: TurnHost & SlotEnvelopes
  private declare readonly item: unknown
  declare readonly seq: number
  private declare readonly sentAt: number
  private declare envelope: Envelope | undefined

  constructor(host: TurnHost & SlotEnvelopes, instance: Instance, item: unknown, seq: number, sentAt: number, state: unknown, startedAt: number, journal: TurnJournal | undefined) {
    super(host, instance, state, startedAt, journal)
    this.item = item
    this.seq = seq
    this.sentAt = NO_READING // first, so that the field stays tagged (clock.ts)
    this.sentAt = sentAt
    this.envelope = seq === ENVELOPE ? (item as Envelope) : undefined
    if (--kept.left <= 0 || kept.turn === undefined) {
      kept.turn = this
      kept.left = KEEP_EVERY
    }
  }

  /** Lets go of the context kept for its hidden class if it is a turn of `host`'s, so that a stopped system is not held in memory. */
  static release(host: TurnHost): void {
    if (kept.turn !== undefined && kept.turn.host === host) kept.turn = undefined
  }

  get message(): Envelope {
    // Made by its turn: its first attempt (a retry goes back to the mailbox as an envelope).
    this.envelope ??= this.host.slotEnvelope(this.instance, this.item, this.seq, this.sentAt, 1)
    return this.envelope
  }

  /** The report this turn runs on while no envelope was made of it, for inspection's last message. */
  unmadeReport(): ChildReport | undefined {
    return this.envelope === undefined && this.seq === REPORT ? (this.item as ChildReport) : undefined
  }

  materialized(): Envelope | undefined {
    return this.envelope
  }

  get body(): unknown {
    if (this.envelope !== undefined) return this.envelope.body
    return this.seq === REPORT ? (this.item as ChildReport).body : this.item
  }
}
