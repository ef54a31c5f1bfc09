import type { Envelope } from '../../core/envelope.js'
import type { TokenBucket } from '../../supervisor/token-bucket.js'
import type { ActorRuntime } from './actor-runtime.js'

/** Marks a mailbox slot that holds a full envelope rather than a bare body. */
export const ENVELOPE = -1

/**
 * One actor instance: its mailbox and state. Keyed and singleton instances run one
 * turn at a time; the stateless pseudo-instance lets `concurrency` workers pull from one mailbox.
 *
 * The mailbox is three parallel arrays. A message told from outside a turn with
 * default options is kept as its bare body, its id's sequence number and its send
 * time, so the common path allocates no object per message (retaining one doubled the
 * cost of a tell here); anything else is kept as a full envelope with seq `ENVELOPE`.
 */
export class Instance {
  state: unknown
  private items: unknown[] = []
  private seqs: number[] = []
  private sentAts: number[] = []
  private head = 0
  /** Workers pulling from this mailbox now. */
  active = 0
  /** Waiting for a retry delay or a token; workers leave it alone until the timer wakes it. */
  parked = false
  /** In its type's waiting line for a free slot. */
  waiting = false
  bucket: TokenBucket | undefined
  /** The last successful turn, for inspection (its envelope is made only if asked for). */
  last: { readonly message: Envelope } | undefined
  updatedAt: number | undefined
  /** The slot taken by the last `shift()`. */
  item: unknown = undefined
  seq = 0
  sentAt = 0

  constructor(
    readonly rt: ActorRuntime,
    readonly key: string,
    readonly maxActive: number,
  ) {
    this.state = rt.initialState()
    this.bucket = rt.keyBucket()
  }

  get size(): number {
    return this.items.length - this.head
  }

  pushBody(body: unknown, seq: number, sentAt: number): void {
    this.items.push(body)
    this.seqs.push(seq)
    this.sentAts.push(sentAt)
  }

  push(envelope: Envelope): void {
    this.pushBody(envelope, ENVELOPE, envelope.sentAt)
  }

  /** Puts a message back in front, for the retry of a keyed turn (FIFO per key holds). */
  unshift(envelope: Envelope): void {
    if (this.head > 0) {
      this.head--
      this.items[this.head] = envelope
      this.seqs[this.head] = ENVELOPE
      this.sentAts[this.head] = envelope.sentAt
    } else {
      this.items.unshift(envelope)
      this.seqs.unshift(ENVELOPE)
      this.sentAts.unshift(envelope.sentAt)
    }
  }

  /** Moves the next message into `item`/`seq`/`sentAt`; false when the mailbox is empty. */
  shift(): boolean {
    const head = this.head
    if (head >= this.items.length) return false
    this.item = this.items[head]
    this.seq = this.seqs[head]!
    this.sentAt = this.sentAts[head]!
    this.items[head] = undefined
    if (head + 1 === this.items.length) {
      this.items.length = 0
      this.seqs.length = 0
      this.sentAts.length = 0
      this.head = 0
    } else {
      this.head = head + 1
    }
    return true
  }

  /** Empties the mailbox, for `stop()` past its timeout. Returns the slots left. */
  drainAll(): { item: unknown; seq: number; sentAt: number }[] {
    const rest = []
    for (let i = this.head; i < this.items.length; i++) rest.push({ item: this.items[i], seq: this.seqs[i]!, sentAt: this.sentAts[i]! })
    this.items = []
    this.seqs = []
    this.sentAts = []
    this.head = 0
    return rest
  }

  hasWork(): boolean {
    return !this.parked && this.active < this.maxActive && this.active < this.items.length - this.head
  }
}
