import type { Envelope } from '../../core/envelope.js'
import type { TokenBucket } from '../../supervisor/token-bucket.js'
import type { ChildReport } from '../../turn/turn-effects.js'
import type { ActorRuntime } from './actor-runtime.js'
import { ENVELOPE, Mailbox, REPORT } from './mailbox.js'

export { ENVELOPE, REPORT } from './mailbox.js'

/**
 * One actor instance: its mailbox and state. Keyed and singleton instances run one
 * turn at a time; the stateless pseudo-instance lets `concurrency` workers pull from one mailbox.
 *
 * A message told from outside a turn with default options is kept as its bare body,
 * its id's sequence number and its send time, so the common path allocates no object
 * per message (retaining one doubled the cost of a tell here); a fork child's report to its
 * joiner is kept as the report; anything else is kept as a full envelope.
 */
export class Instance {
  state: unknown
  readonly mailbox = new Mailbox()
  /** Workers pulling from this mailbox now. */
  active = 0
  /** Of those, workers waiting for an async turn; the others pull the next message at once. */
  awaiting = 0
  /** Waiting for a retry delay or a token; workers leave it alone until the timer wakes it. */
  parked = false
  /** In its type's waiting line for a free slot. */
  waiting = false
  bucket: TokenBucket | undefined
  /** The last message handled, for inspection: its envelope or report, or the sequence number of a bare body. */
  lastMessage: Envelope | ChildReport | undefined
  lastSeq = -1
  updatedAt: number | undefined
  /** Saves to the state store so far. */
  version = 0
  /** Set while the state is being read from an asynchronous store; turns wait for it. */
  loading: Promise<void> | undefined

  constructor(
    readonly rt: ActorRuntime,
    readonly key: string,
    readonly maxActive: number,
  ) {
    this.bucket = rt.keyBucket()
  }

  get size(): number {
    return this.mailbox.size
  }

  pushBody(body: unknown, seq: number, sentAt: number): void {
    this.mailbox.push(body, seq, sentAt)
  }

  push(envelope: Envelope): void {
    this.mailbox.push(envelope, ENVELOPE, envelope.sentAt)
  }

  pushReport(report: ChildReport, sentAt: number): void {
    this.mailbox.push(report, REPORT, sentAt)
  }

  /** Puts a message back in front, for the retry of a keyed turn (FIFO per key holds). */
  unshift(envelope: Envelope): void {
    this.mailbox.unshift(envelope, ENVELOPE, envelope.sentAt)
  }

  /** Its type or its key is paused: its messages wait until `resume`. */
  get paused(): boolean {
    return this.rt.isPaused(this.key)
  }

  /**
   * Whether another worker should start: only when every worker it has waits for an async turn
   * (a free worker takes the next message itself), below its cap, with messages waiting.
   */
  hasWork(): boolean {
    return this.active === this.awaiting && this.active < this.maxActive && this.mailbox.size !== 0 && !this.parked && !this.paused
  }
}
