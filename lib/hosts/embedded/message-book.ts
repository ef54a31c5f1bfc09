import type { Clock } from '../../core/clock.js'
import type { Envelope } from '../../core/envelope.js'
import type { ForkMembership } from '../../core/fork.js'
import { mapWithout } from '../../core/map-without.js'
import type { MessageStatus } from '../../core/receipt.js'
import type { AttemptRecord } from '../../core/dead-letter.js'
import { OnceResults } from '../../turn/once.js'
import { ENVELOPE, type Instance } from './instance.js'
import type { PauseBook } from './pause-book.js'
import type { PendingAsks } from './pending-asks.js'
import type { ReceiptBook } from './receipt-book.js'

/**
 * Where the embedded system's messages stand between acceptance and their end: how many are
 * not final yet (0 is idle), the failed attempts kept for a dead letter, where each fork child
 * is, and who waits for everything to settle. Statuses on the way go to a receipt or an ask
 * only when there is one, so a bare tell costs two counters.
 */
export class MessageBook {
  /** Accepted and not yet final, across all types. */
  outstanding = 0
  /** Messages that reached a final status: stop()'s report counts them. */
  ended = 0
  /** Failed attempts of messages still in play, for their dead letter. */
  readonly failures = new Map<string, AttemptRecord[]>()
  readonly onceResults = new OnceResults()
  /**
   * Where each fork child in play is, for the missing children of a join past its deadline: one
   * entry per fork, not per child (a map entry made and dropped per child cost more than its turn).
   */
  private forks = new Map<string, ForkChildren>()
  /**
   * The fork looked up last, and its children: a fork's children are accepted, run and end one
   * after another, so most look-ups are of the fork before (three per child, in a map keyed by
   * strings, cost a fork of ten about a twentieth of its time).
   */
  private lastForkId: string | undefined = undefined
  private lastFork: ForkChildren | undefined = undefined
  private settledWaiters: (() => void)[] = []

  constructor(
    private readonly receipts: ReceiptBook,
    private readonly asks: PendingAsks,
    private readonly pausing: PauseBook,
  ) {}

  accepted(envelope: Envelope | undefined): void {
    this.outstanding++
    const member = envelope?.fork
    if (member === undefined) return
    let children = this.fork(member.forkId)
    if (children === undefined) {
      this.forks.set(member.forkId, (children = { statuses: [], inPlay: 0 }))
      this.lastForkId = member.forkId
      this.lastFork = children
    }
    children.statuses[member.index] = 'accepted'
    children.inPlay++
  }

  /** The children of fork `forkId` in play here. */
  private fork(forkId: string): ForkChildren | undefined {
    if (forkId === this.lastForkId) return this.lastFork
    const children = this.forks.get(forkId)
    if (children !== undefined) {
      this.lastForkId = forkId
      this.lastFork = children
    }
    return children
  }

  /** A status that is not final, reached at `at` (a reading the caller has): kept in the receipt, if any, and for a fork child. */
  track(envelope: Envelope, status: 'running' | 'retrying', reason: string | undefined, at: number): void {
    this.note(envelope, status, reason, at)
    const member = envelope.fork
    if (member !== undefined) {
      const children = this.fork(member.forkId)
      if (children !== undefined) children.statuses[member.index] = status
    }
  }

  /** A status on the way, reached at `at`: in the message's receipt, or with its ask while it has none. */
  note(envelope: Envelope, status: 'paused' | 'running' | 'retrying', reason: string | undefined, at: number): void {
    if (this.receipts.size !== 0) this.receipts.record(envelope, status, reason, at)
    if (this.asks.size !== 0) this.asks.moved(envelope.id, status, reason, at)
  }

  /** Keeps a failed attempt and returns all the message's attempts so far. */
  attempted(envelope: Envelope, attempt: AttemptRecord): AttemptRecord[] {
    let attempts = this.failures.get(envelope.id)
    if (!attempts) this.failures.set(envelope.id, (attempts = []))
    attempts.push(attempt)
    return attempts
  }

  /** The message's attempts, forgotten: it is being dead-lettered. */
  takeAttempts(envelope: Envelope): AttemptRecord[] {
    const attempts = this.failures.get(envelope.id) ?? []
    this.failures.delete(envelope.id)
    return attempts
  }

  /**
   * Every message ends here, exactly once per acceptance. `envelope` is undefined for a
   * message that never needed one (a bare body: no receipt, no failures, no once-results).
   */
  finish(envelope: Envelope | undefined, status: 'done' | 'filtered' | 'dead', reason?: string): void {
    if (envelope !== undefined) {
      // An ask that ends without its reply leaves a receipt to follow.
      if (status !== 'done' && this.asks.size !== 0) this.asks.keepReceipt(envelope.id)
      if (this.receipts.size !== 0) this.receipts.record(envelope, status, reason)
      if (envelope.fork !== undefined) this.childEnded(envelope.fork)
      if (this.failures.size !== 0 && status !== 'dead') this.failures.delete(envelope.id)
      // A dead message's side effects stay with its letter: its replay must not run them again
      // (forgotten when the letter is dropped past the limit).
      if (status !== 'dead') this.onceResults.forget(envelope.id)
    }
    this.outstanding--
    this.ended++
    if (this.settledWaiters.length !== 0) this.wakeSettled()
  }

  private childEnded(member: ForkMembership): void {
    const children = this.fork(member.forkId)
    if (children === undefined) return
    children.statuses[member.index] = undefined
    if (--children.inPlay !== 0) return
    this.forks = mapWithout(this.forks, member.forkId)
    this.lastForkId = undefined
    this.lastFork = undefined
  }

  /** Where a message is: a fork child in play (`member` says where in its fork), or what its receipt says. */
  lastStatus(messageId: string, member?: ForkMembership): MessageStatus | undefined {
    const inPlay = member === undefined ? undefined : this.fork(member.forkId)?.statuses[member.index]
    return inPlay ?? this.receipts.status(messageId)
  }

  /** Whether every accepted message is final or held by a pause. */
  isSettled(): boolean {
    return this.outstanding <= this.pausing.waiting()
  }

  /** Resolves once every accepted message is final or held by a pause. */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  /** Resolves once settled, or after `timeoutMs` on `clock` (a stop's wait). */
  settledWithin(clock: Clock, timeoutMs: number): Promise<void> {
    if (this.isSettled()) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = clock.setTimeout(resolve, timeoutMs)
      void this.settled().then(() => {
        clock.clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Notes the messages that wait in `held` (instances a pause now holds) as paused. */
  paused(held: readonly Instance[], at: number): void {
    if (this.receipts.size === 0 && this.asks.size === 0) return
    for (const inst of held) {
      inst.mailbox.forEach((item, seq) => {
        if (seq === ENVELOPE) this.note(item as Envelope, 'paused', undefined, at)
      })
    }
  }

  /** A pause may leave everything that waits waiting only behind it. */
  wakeSettled(): void {
    if (this.settledWaiters.length === 0 || !this.isSettled()) return
    const waiters = this.settledWaiters
    this.settledWaiters = []
    for (const resolve of waiters) resolve()
  }
}

/** The children of one fork in play here: each one's status by its index in the fork. */
interface ForkChildren {
  statuses: (MessageStatus | undefined)[]
  inPlay: number
}
