// A message's turns in the durable host, and how they ended as outbox entries (durable-host.ts is
// the map). The shared turn engine (lib/turn/turn.ts) runs each attempt; a failure is retried in
// place while the batch's deadline allows, else left for later (instance-run.ts parks it or leaves
// it for redelivery). An ending becomes entries:
// the turn's effects (turn-effects.ts), its receipt (with an `ask`'s reply), a fork's report, a
// dead letter. Nothing here is sent: the entries go into the instance's outbox, carried out after
// its commit.
import type { Context } from '../../core/context.js'
import type { Envelope } from '../../core/envelope.js'
import { ItemTooLargeError, NotSerializableError } from '../../core/errors.js'
import type { TroupeEvent } from '../../core/inspection.js'
import type { MessageStatus } from '../../core/receipt.js'
import { findUnserializable } from '../../core/serializable.js'
import { encode } from '../../core/serialization.js'
import { InvalidEnvelopeError } from '../../routing/record-errors.js'
import type { ReceiptRecord } from '../../store/index.js'
import { errorRecord, type AttemptRecord, type DeadLetter, type ErrorRecord } from '../../core/dead-letter.js'
import { writableLetter } from '../../core/writable-letter.js'
import type { ActorType } from '../../turn/actor-type.js'
import { Deadlines } from '../../turn/deadlines.js'
import type { Effect } from '../../turn/effect.js'
import { JOINER, type ChildOutcome } from '../../turn/join-protocol.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { runTurn, startState, turnJournal, TurnRules } from '../../turn/turn.js'
import { deadLetter, doneEffects, filteredError, forkReport, logDead, toldEnvelope, type Cause } from '../../turn/turn-effects.js'
import { EnvelopeTurn, type TurnHost, type TurnSlot } from '../../turn/turn-context.js'
import { message, type DurableContext } from './durable-context.js'
import type { OutboxEntry } from './outbox.js'
import { sampledTrace } from '../../turn/trace-sampling.js'

/** A turn's slot in this host: the instance key. */
type Slot = TurnSlot
type Turn = EnvelopeTurn<unknown, Slot>

/** How a message ended in this run; `later`: it failed, and its next attempt is due at `retryAt` (epoch ms), after this run. */
export type Ended =
  | { end: 'done'; state: unknown; entries: OutboxEntry[]; events: TroupeEvent[] }
  | { end: 'filtered' | 'dead'; entries: OutboxEntry[]; events: TroupeEvent[] }
export type TurnEnd = Ended | { end: 'later'; failures: AttemptRecord[]; retryAt: number }

/** The message a receipt entry is of: its trace is kept with the entry when it has one. */
export type ReceiptSubject = Pick<Envelope, 'id' | 'type' | 'key' | 'attempt'> & Partial<Pick<Envelope, 'correlationId' | 'parentId' | 'sentAt'>>
/** What a receipt entry holds besides its status: an `ask`'s reply, or how the message failed. */
export interface ReceiptExtra {
  reply?: string
  error?: ErrorRecord
}

/** The largest `ask` reply kept: a receipt entry is one DynamoDB item of at most 400 KB. */
const MAX_REPLY_BYTES = 380 * 1024

export class TurnOutcomes {
  private readonly rules: TurnRules
  /** Direct turns running here, each with the last receipt entry made for its message (a conflict's rerun makes it again). */
  readonly directAnswers = new Set<{ envelope: string; record: ReceiptRecord | undefined }>()
  /** Entries a turn adds besides its effects (the fork-result actor's receipt). */
  private readonly extras = new WeakMap<Turn, OutboxEntry[]>()

  constructor(
    private readonly ctx: DurableContext,
    /** The host the turns run in (their `ctx`'s tells, forks and `once`). */
    private readonly host: TurnHost,
    private readonly registry: ActorRegistry<ActorType>,
  ) {
    const { options, clock } = ctx
    this.rules = new TurnRules({ filters: options.filters ?? [], checkSerializable: ctx.checkSerializable, random: options.random ?? Math.random, clock, deadlines: new Deadlines(clock) })
  }

  /**
   * Runs a message's attempts, retrying in place while the deadline allows, for no longer than
   * `waitsInPlaceMs` a wait, and, for a type under a concurrency cap, while `slot` still holds the
   * slot the first attempt ran in (a lease lost or about to lapse leaves the retry for later
   * rather than run past the cap).
   */
  async runMessage(type: ActorType, envelope: Envelope, state: unknown, failures: AttemptRecord[], deadline: number, slot?: { held(now: number): boolean }, waitsInPlaceMs = Infinity): Promise<TurnEnd> {
    for (;;) {
      envelope.attempt = failures.length + 1
      const start = startState(type, state)
      // Kept apart: `state` stays as it was even after a successful turn (its size may still refuse it).
      const ctx: Turn = new EnvelopeTurn(this.host, { key: envelope.key }, envelope, start, this.ctx.clock.now(), turnJournal(type, start, 'apart'))
      const outcome = await runTurn(this.rules, type, ctx)
      // A message's `once` results outlive its end (side-effects.ts): the turn runs again after a
      // lost commit or send (a conflict, a redelivery), here or elsewhere, and must not repeat them.
      if (outcome.end === 'done') return this.done(ctx, outcome.reply)
      if (outcome.end === 'filtered') return this.filtered(envelope, outcome.reason)
      failures.push(outcome.attempt)
      if (outcome.retryInMs === undefined) return this.dead(type, envelope, outcome.error, failures)
      const delayMs = outcome.retryInMs
      const now = this.ctx.clock.now()
      this.ctx.counts.get(type.type)!.retried++
      this.ctx.options.onEvent?.({ type: '@troupe.retried', at: now, envelope, error: outcome.error, delayMs })
      if (now + delayMs >= deadline || delayMs > waitsInPlaceMs || (slot !== undefined && !slot.held(now + delayMs))) return { end: 'later', failures, retryAt: now + delayMs }
      await new Promise<void>((resolve) => this.ctx.clock.setTimeout(resolve, delayMs))
    }
  }

  private done(ctx: Turn, reply: unknown): Ended {
    const envelope = ctx.message
    const entries: OutboxEntry[] = []
    // What the turn sent, then what troupe's own actors added, then the reply and the fork report:
    // a message's place in this list is part of its origin, so the order stays as it always was.
    const own = ctx.outbox?.length ?? 0
    const effects = doneEffects(ctx, reply) ?? []
    for (let i = 0; i < own; i++) entries.push(this.entry(effects[i]!, envelope))
    const extra = this.extras.get(ctx)
    if (extra) entries.push(...extra)
    for (let i = own; i < effects.length; i++) entries.push(this.entry(effects[i]!, envelope))
    if (this.keepsReceipt(envelope, 'done')) entries.push(this.receiptEntry(envelope, 'done', undefined, envelope.receipt === 'reply' ? this.replyOf(envelope, reply) : {}))
    const at = this.ctx.clock.now()
    return { end: 'done', state: ctx.state, entries, events: withSent({ type: '@troupe.done', at, envelope, durationMs: at - ctx.startedAt }, entries) }
  }

  /**
   * The reply of an `ask`, kept with its receipt; a reply too large to keep, or one superjson
   * refuses to write, is an error for the asker instead (the turn itself succeeded, and its state
   * and messages stand).
   */
  private replyOf(envelope: Envelope, reply: unknown): ReceiptExtra {
    let text: string
    try {
      text = encode(reply)
    } catch (error) {
      return { error: errorRecord(refusedIn(envelope.type, 'reply', reply) ?? refusedUnseen(envelope.type, 'reply', error)) }
    }
    const bytes = Buffer.byteLength(text)
    if (bytes <= MAX_REPLY_BYTES) return { reply: text }
    return {
      error: {
        name: 'ReplyTooLargeError',
        message: `the reply of ${envelope.type} to message ${envelope.id} is ${bytes} bytes; an ask's reply is kept in one DynamoDB item and may be ${MAX_REPLY_BYTES} — reply with less (large results belong in S3, with their key in the reply)`,
      },
    }
  }

  private filtered(envelope: Envelope, reason: string): Ended {
    const error = filteredError(reason)
    const entries: OutboxEntry[] = []
    if (envelope.fork !== undefined) entries.push(this.report(envelope, { ok: false, status: 'filtered', error }))
    if (this.keepsReceipt(envelope, 'filtered')) entries.push(this.receiptEntry(envelope, 'filtered', reason, { error }))
    return { end: 'filtered', entries, events: withSent({ type: '@troupe.filtered', at: this.ctx.clock.now(), envelope, reason }, entries) }
  }

  dead(type: ActorType, envelope: Envelope, error: unknown, attempts: AttemptRecord[]): Ended {
    // A body kept out of line stays there: the letter keeps its reference, as the record had it.
    const kept = this.ctx.claimCheck?.travelled(envelope) ?? envelope
    const letter = deadLetter({ ...kept }, error, attempts, this.ctx.clock.now())
    const record = letter.error
    const entries: OutboxEntry[] = [{ kind: 'dead', letter }]
    if (envelope.fork !== undefined) entries.push(this.report(envelope, { ok: false, status: 'dead', error: record }))
    if (this.keepsReceipt(envelope, 'dead')) entries.push(this.receiptEntry(envelope, 'dead', record.message, { error: record }))
    logDead(this.ctx.logger, envelope, record)
    return { end: 'dead', entries, events: withSent({ type: '@troupe.dead', at: this.ctx.clock.now(), envelope, error }, entries) }
  }

  /**
   * A turn whose state would not fit the item is a dead letter. Its letter travels in the commit's
   * outbox as every letter does, spilled to the overflow store when the item cannot hold it beside
   * a state near the limit: it exists only once the commit that ends the message is written. A
   * letter written before that commit would outlive a commit that is lost (its host died, another
   * host committed first), and the run again may apply the message (a state that changed, a turn
   * not the same twice): replayed, the letter would apply it a second time.
   */
  async tooLarge(type: ActorType, envelope: Envelope, prior: AttemptRecord[], bytes: number, what: 'state' | 'outbox'): Promise<Ended> {
    return this.refused(type, envelope, prior, new ItemTooLargeError(type.type === JOINER && what === 'state' ? 'join' : what, `${type.type}#${envelope.key}`, bytes), 'large')
  }

  /**
   * A turn that left what superjson refuses to write (a key named `constructor` in its state, say,
   * with the development check off) is a dead letter, as `tooLarge`'s is: the commit could never be
   * written, and the key would stall on it. A message that was ending as a dead letter keeps its
   * own, its body written so that superjson takes it.
   */
  async unwritable(type: ActorType, envelope: Envelope, prior: AttemptRecord[], end: Ended, cause: unknown): Promise<Ended> {
    if (end.end === 'dead') return this.withLetters(end, 'small')
    return this.refused(type, envelope, prior, unwritableError(type.type, end, cause), 'small')
  }

  /** The message, whose turn ended well, is a dead letter with `error` instead: what it left is not kept. */
  private refused(type: ActorType, envelope: Envelope, prior: AttemptRecord[], error: Error, item: 'large' | 'small'): Promise<Ended> {
    const now = this.ctx.clock.now()
    return this.withLetters(this.dead(type, envelope, error, [...prior, { attempt: envelope.attempt, startedAt: now, endedAt: now, error: errorRecord(error) }]), item)
  }

  /**
   * `ended` with letters its commit can write: their bodies as superjson takes them, kept in the
   * outbox. Beside an item too large (`large`), a host without an overflow store, which could not
   * spill them, writes them now instead (troupe's hosts on AWS always have one).
   */
  private async withLetters(ended: Ended, item: 'large' | 'small'): Promise<Ended> {
    if (item === 'small' || this.ctx.overflow.spills) return { ...ended, entries: ended.entries.map((e) => (e.kind === 'dead' ? writableEntry(e.letter) : e)) }
    const letters = ended.entries.flatMap((e) => (e.kind === 'dead' ? [e.letter] : []))
    await this.ctx.sideEffects.pin(letters)
    await this.ctx.options.journal.putDeadLetters(letters)
    return { ...ended, entries: ended.entries.filter((e) => e.kind !== 'dead') }
  }

  /**
   * Whether a message's end is kept in a receipt: asked for, in a sampled request, or a message
   * that did not go smoothly (retried, dead) — its trace link comes with it.
   */
  private keepsReceipt(envelope: Envelope, status: 'done' | 'filtered' | 'dead'): boolean {
    if (envelope.receipt !== undefined || status === 'dead' || envelope.attempt > 1) return true
    const rate = this.ctx.options.traceSampleRate
    return rate !== undefined && sampledTrace(envelope.correlationId, rate)
  }

  /** A turn's effect as an outbox entry: a told message becomes its envelope. */
  entry(effect: Effect, cause: Cause): OutboxEntry {
    // A copy: the commit gives it its order (instance-commit.ts).
    if (effect.kind === 'schedule' || effect.kind === 'cancel') return { ...effect }
    const envelope = toldEnvelope(effect, this.registry.get(effect.target), cause, this.ctx.clock.now())
    if (effect.receipt || this.ctx.options.receiptsForAll) envelope.receipt = 'status'
    return { kind: 'message', envelope }
  }

  /** Tells a fork's joiner how a child ended. */
  private report(child: Envelope, outcome: ChildOutcome): OutboxEntry {
    return this.entry(forkReport(child, outcome), child)
  }

  receiptEntry(envelope: Envelope, status: MessageStatus, reason: string | undefined, extra: ReceiptExtra): OutboxEntry {
    return { kind: 'receipt', record: this.receiptRecord(envelope, status, reason, extra) }
  }

  /** One receipt entry of a message, expiring after the receipt TTL. */
  receiptRecord(envelope: ReceiptSubject, status: MessageStatus, reason: string | undefined, extra: ReceiptExtra = {}): ReceiptRecord {
    const at = this.ctx.clock.now()
    const record: ReceiptRecord = {
      id: envelope.id,
      actor: envelope.type,
      key: envelope.key,
      entry: { status, at, attempt: envelope.attempt, ...(reason === undefined ? {} : { reason }) },
      ...extra,
      expiresAt: at + this.ctx.receiptTtlMs,
    }
    if (envelope.correlationId !== undefined) {
      record.trace = { correlationId: envelope.correlationId, sentAt: envelope.sentAt ?? at, ...(envelope.parentId !== undefined ? { parentId: envelope.parentId } : {}) }
    }
    for (const watched of this.directAnswers) if (watched.envelope === record.id) watched.record = record
    return record
  }

  /**
   * A run that lost its commit answered nothing: its rerun makes the receipt entries of `ids` again,
   * or finds those messages applied meanwhile and reads their answers.
   */
  forgetAnswers(ids: readonly string[]): void {
    for (const watched of this.directAnswers) if (ids.includes(watched.envelope)) watched.record = undefined
  }

  /** Adds an entry to a running turn's outbox, for effects that are not messages or timers. */
  addEntry(ctx: Context<any>, entry: OutboxEntry): void {
    const turn = ctx as unknown as Turn
    const list = this.extras.get(turn)
    if (list) list.push(entry)
    else this.extras.set(turn, [entry])
  }

  /**
   * Whether a type's turns have their large bodies kept out of line: every type's with the app's
   * claim check; without it only the joiner's, whose join of a large fork no record could carry
   * (measuring every body costs an encoding per message).
   */
  offloads(type: ActorType): boolean {
    return this.ctx.options.claimCheck !== undefined || (this.ctx.claimCheck !== undefined && type.type === JOINER)
  }

  /**
   * `end` with its messages' large bodies kept out of line, when its type offloads: a body
   * superjson refuses to write makes the turn a dead letter (`unwritable`) instead, as a commit
   * holding it would.
   */
  async offloaded(type: ActorType, envelope: Envelope, prior: AttemptRecord[], end: Ended): Promise<Ended> {
    if (!this.offloads(type) || end.entries.length === 0) return end
    try {
      return { ...end, entries: await this.offload(end.entries) }
    } catch (error) {
      if (!(error instanceof InvalidEnvelopeError)) throw error
      return this.unwritable(type, envelope, prior, end, error)
    }
  }

  /** A turn's messages with large bodies put in the payload store, before the commit that keeps them in its outbox. */
  async offload(entries: OutboxEntry[]): Promise<OutboxEntry[]> {
    const claimCheck = this.ctx.claimCheck!
    return Promise.all(entries.map(async (e) => (e.kind === 'message' ? { kind: 'message' as const, envelope: await claimCheck.offload(e.envelope) } : e)))
  }
}

/**
 * A message's end, then an `accepted` for each message it sends, as the embedded host says them:
 * listeners learn who told what (traffic, metrics) from the sender's side, where its turn ran.
 */
function withSent(end: TroupeEvent & { at: number }, entries: readonly OutboxEntry[]): TroupeEvent[] {
  const events: TroupeEvent[] = [end]
  for (const e of entries) if (e.kind === 'message') events.push({ type: '@troupe.accepted', at: end.at, envelope: e.envelope })
  return events
}

/**
 * What a turn left that superjson refuses to write, by its path: in the state it keeps, or in a
 * message it sends (named by its target). A turn that did not end done keeps the state it began
 * on, which was written before.
 */
function unwritableError(actor: string, end: Ended, cause: unknown): NotSerializableError {
  const inState = end.end === 'done' ? refusedIn(actor, 'state', end.state) : undefined
  if (inState !== undefined) return inState
  for (const entry of end.entries) {
    const inBody = entry.kind === 'message' ? refusedIn(entry.envelope.type, 'message', entry.envelope.body) : undefined
    if (inBody !== undefined) return inBody
  }
  return refusedUnseen(actor, 'state', cause)
}

/** The error naming where in `value` (a message body, a state, a reply of `actor`) superjson would refuse to write, or undefined. */
function refusedIn(actor: string, what: 'message' | 'state' | 'reply', value: unknown): NotSerializableError | undefined {
  const found = findUnserializable(value, what === 'message' ? 'body' : what)
  return found === undefined ? undefined : new NotSerializableError(actor, what, found.path, found.found)
}

/** The error for what superjson refused to write where the check finds nothing: superjson's own reason. */
function refusedUnseen(actor: string, what: 'state' | 'reply', cause: unknown): NotSerializableError {
  return new NotSerializableError(actor, what, what, `what superjson refuses to write (${message(cause)})`)
}

/** A letter's outbox entry, its body as superjson takes it (writable-letter.ts). */
function writableEntry(letter: DeadLetter): OutboxEntry {
  const { written, escaped } = writableLetter(letter)
  return escaped ? { kind: 'dead', letter: written, escaped: true } : { kind: 'dead', letter: written }
}
