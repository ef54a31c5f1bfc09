// The durable host: runs one batch of records from one shard, the way DESIGN.md's "A turn on
// AWS" describes. The Lambda handler and the shard consumer both hand it their batches.
//
//   decode → group by instance (stream order kept) → load the first hundred states in one
//   BatchGetItem, the rest a hundred at a time as the instances before them run → per
//   instance: send again an outbox this batch delivers the position of, run its turns in
//   order (instances run concurrently), skipping every copy of a message seen (by its origin) →
//   one conditional write per instance with state, version, watermarks, what it saw of each
//   lane and the outbox → send the outbox → report the earliest record not finished, so the
//   stream delivers exactly the unfinished tail again. Why each message is applied once, however
//   many copies come: docs/guarantees.md.
//
// Nothing leaves from state that was not committed: a turn's messages, timers, receipts and
// dead letters are entries of the outbox, carried out after the commit. A conflict (another
// host moved the instance first) reloads it and runs its turns again; the losing run's outbox
// was never sent.
//
// The pieces, each in a file of its own (this one schedules them; none imports it):
//   durable-batch.ts     a batch and its result; a group of records and where it comes from
//   durable-context.ts   what the pieces share: options and defaults, clock, counts, the stores' front ends
//   batch-intake.ts      decode → group by instance → dead letters of bad records → the first read → stateless copies
//   state-slices.ts      the states after the first read's, read a slice at a time while the batch runs
//   group-runner.ts      a group's run: an instance's in rounds (conflicts, too large), a stateless message's at once
//   instance-run.ts      one run of an instance: the stored outbox, the pass over its messages, commit, send
//   stored-outbox.ts     an instance's stored outbox, sent again, placed or kept as its run begins
//   record-reads.ts      a record new, a copy (by origin or id) or inconsistent; what reading it notes
//   instance-commit.ts   the conditional write: encoding, overflow spill, expiry, size check
//   turn-outcomes.ts     a message's turns (the shared runTurn), and how they ended as outbox entries
//   direct-runs.ts       runs no batch brought: a direct invocation, what waits in an item
//   recent-items.ts      the items direct runs left, run on again without a read
//   builtin-duties.ts    what the joiner and the timer actors ask of the host
//   sent-segments.ts     outbox segments this host sent, not sent again on a redelivery here
//   type-rates.ts        a type's rate across its keys: one claim per batch, its tokens dealt to the groups
//   type-slots.ts        a type's concurrency across hosts: one lease per batch, at most its slots at once
// and beside them the bookkeeping (instance-meta.ts, lane-memory.ts, stateless-memory.ts,
// batch-progress.ts), the throttles (instance-throttle.ts, run-throttles.ts, type-bucket.ts,
// waiting-message.ts), a retry that waits long (retry-parking.ts), the outbox (outbox.ts,
// outbox-overflow.ts, pending-outbox.ts), the flush record (flush-record.ts) and this process's
// lane (process-lane.ts).
import { Joiner, JOINER, serveJoiner, type JoinerHost } from '../../../actors/joiner.js'
import { timerActor, type TimerFiring, type TimerHost, type TimerState } from '../../../actors/timer.js'
import type { ActorClass } from '../../core/actor.js'
import type { Clock } from '../../core/clock.js'
import { eachAtOnce } from '../../core/each-at-once.js'
import type { Context } from '../../core/context.js'
import type { Envelope, TraceContext } from '../../core/envelope.js'
import type { OnceSemantics, OnceSubject } from '../../turn/once.js'
import type { ActorCounts } from '../../core/inspection.js'
import type { Logger } from '../../core/logger.js'
import { compareSequence, comparePosition, earliest, positionOf } from '../../core/position.js'
import type { MessageStatus } from '../../core/receipt.js'
import type { ReceiptRecord, StoredReceipt } from '../../store/index.js'
import { ActorType } from '../../turn/actor-type.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { ActorRegistry } from '../../turn/registry.js'
import type { Cause } from '../../turn/turn-effects.js'
import type { TurnHost } from '../../turn/turn-context.js'
import { BatchIntake } from './batch-intake.js'
import { BuiltinDuties } from './builtin-duties.js'
import { DirectRuns, type EarlierTell } from './direct-runs.js'
import { groupStart, type BatchResult, type DurableBatch, type Group } from './durable-batch.js'
import { DurableContext, message, type DurableSettings } from './durable-context.js'
import { GroupRunner } from './group-runner.js'
import { noteParked } from './instance-run.js'
import { readMeta } from './instance-meta.js'
import { unappliedThrottle } from './instance-throttle.js'
import { placeMessages, type OutboxEntry } from './outbox.js'
import type { ProcessLane } from './process-lane.js'
import type { StatelessMemory } from './stateless-memory.js'
import { TurnOutcomes, type ReceiptExtra, type ReceiptSubject } from './turn-outcomes.js'
import { parksAtOnce } from './type-slots.js'

export type { BatchResult, DurableBatch, DurableRecord } from './durable-batch.js'
export { PAUSE_TYPE } from './durable-batch.js'

export interface DurableHostOptions extends DurableSettings {
  /** The user's actor classes; the runtime's own (the joiner) are added here. */
  actors: readonly ActorClass[]
  /** More actor classes, made for this host (the fork-result actor of a system). */
  builtins?: readonly ((host: DurableHost) => ActorClass)[]
}

/** Items of parked instances `refreshParked` reads at most per call, and at once. */
const REFRESH_ITEMS = 100
const REFRESH_AT_ONCE = 8

export class DurableHost implements TurnHost, JoinerHost, TimerHost {
  readonly logger: Logger
  readonly clock: Clock
  readonly counts: Map<string, ActorCounts & { duplicates: number; conflicts: number }>
  /** This process's lane: what it sends outside any turn. */
  readonly lane: ProcessLane
  /**
   * The trace that messages from outside a turn run under when they carry none: the Lambda
   * handler sets it for each invocation from its X-Ray header (lib/lambda/xray-trace.ts).
   */
  outsideTrace: TraceContext | undefined = undefined
  private readonly ctx: DurableContext
  private readonly registry: ActorRegistry<ActorType>
  private readonly outcomes: TurnOutcomes
  private readonly intake: BatchIntake
  private readonly runner: GroupRunner
  private readonly direct: DirectRuns
  private readonly duties: BuiltinDuties

  constructor(options: DurableHostOptions) {
    const ctx = (this.ctx = new DurableContext(options))
    this.clock = ctx.clock
    this.logger = ctx.logger
    this.counts = ctx.counts
    this.lane = ctx.lane
    const builtins = [Joiner, timerActor(this), ...(options.builtins ?? []).map((make) => make(this))]
    this.registry = new ActorRegistry(options.actors, builtins, (cls) => new ActorType(cls))
    serveJoiner(this.registry.get(JOINER).actor, this)
    for (const type of this.registry.values()) {
      this.counts.set(type.type, { accepted: 0, done: 0, filtered: 0, dead: 0, retried: 0, throttled: 0, duplicates: 0, conflicts: 0 })
      const unapplied = unappliedThrottle(type)
      if (unapplied !== undefined) this.logger.warn(unapplied, { actor: type.type })
    }
    this.outcomes = new TurnOutcomes(ctx, this, this.registry)
    this.intake = new BatchIntake(ctx, this.registry)
    this.runner = new GroupRunner(ctx, this.outcomes)
    this.direct = new DirectRuns(ctx, this.registry, this.outcomes, this.runner)
    this.duties = new BuiltinDuties(ctx, this.registry, this.outcomes)
  }

  /** The actor types, by name: the user's and troupe's own. */
  get types(): ReadonlyMap<string, ActorType> {
    return this.registry.byType
  }

  /** The actor type of a class or name; throws naming the known ones. */
  typeOf(target: ActorClass | string): ActorType {
    return this.registry.get(target)
  }

  /** Messages this host's commits left parked (by a throttle or for a retry), waiting for their wake-up (as far as this host knows). */
  get parkedMessages(): number {
    let n = 0
    for (const p of this.runner.parkedHere.values()) n += p.count
    return n
  }

  /**
   * The same per actor type, with when the oldest of them was sent (epoch ms). With `wokenBefore`,
   * leaving out an instance whose wake-up was due before it: by then the wake-up ran, here or on
   * another host (a Lambda tick), and what it left parked is that host's to tell.
   */
  parkedByType(wokenBefore?: number): Map<string, { count: number; oldestSentAt: number }> {
    const byType = new Map<string, { count: number; oldestSentAt: number }>()
    for (const p of this.runner.parkedHere.values()) {
      if (wokenBefore !== undefined && p.wakeAt < wokenBefore) continue
      const t = byType.get(p.type)
      if (t === undefined) byType.set(p.type, { count: p.count, oldestSentAt: p.oldestSentAt })
      else {
        t.count += p.count
        t.oldestSentAt = Math.min(t.oldestSentAt, p.oldestSentAt)
      }
    }
    return byType
  }

  /**
   * Reads again the items of the instances this host's commits left parked whose wake-up was due
   * before `dueBefore`: another host may have run it (a second process's timer runner, a Lambda's
   * tick), and this one never hears of it. What the item holds now is what still waits. A read that
   * fails leaves the count as it was.
   */
  async refreshParked(dueBefore: number): Promise<void> {
    const { parkedHere } = this.runner
    // The longest overdue first, at most REFRESH_ITEMS a call: a process that parked thousands of
    // keys of a type whose wake-ups cannot run must not read them all at every tick.
    const stale = [...parkedHere].filter(([, p]) => p.wakeAt < dueBefore).sort(([, a], [, b]) => a.wakeAt - b.wakeAt).slice(0, REFRESH_ITEMS)
    await eachAtOnce(stale, REFRESH_AT_ONCE, async ([name, p]) => {
      const stored = await Promise.resolve()
        .then(() => this.ctx.options.state.get(p.type, name.slice(p.type.length + 1)))
        .catch(() => null)
      // A commit of this host since tells what it left, read after this one was sent.
      if (stored === null || parkedHere.get(name) !== p) return
      const { meta, problem } = readMeta(stored?.meta)
      if (problem === undefined) noteParked(parkedHere, name, p.type, meta)
    })
  }

  // ── a batch ──────────────────────────────────────────────────────────────

  async handle(batch: DurableBatch): Promise<BatchResult> {
    const deadline = batch.deadline ?? Infinity
    const result: BatchResult = { applied: 0, duplicates: 0, conflicts: 0 }
    const first = batch.records[0]
    if (first === undefined) return result
    const intake = await this.intake.take(batch, first)
    if (intake === undefined) return { ...result, failedFrom: first.sequenceNumber }
    const { all, stateless, source, memory } = intake
    let failedFrom = intake.failedFrom
    if (stateless.length !== 0) source.markParking = () => memory.markParking()
    // One claim per throttled type for the whole batch, its tokens dealt to its groups; a batch
    // that will park stateless messages first says so in the shard's memory (stateless-memory.ts).
    const now = this.clock.now()
    await this.ctx.rates.grant(all, source, now)
    // One lease per capped type for the whole batch; the plan runs at most its slots of the type at once (type-slots.ts).
    const plan = await this.ctx.slots.plan(all, now)
    if (stateless.some((g) => parksAtOnce(g, now))) {
      try {
        await memory.markParking()
      } catch (error) {
        this.logger.error("could not note in the shard's memory that stateless messages wait; the batch will be delivered again", { shard: source.shard, error: message(error) })
        await plan.abandon()
        return { ...result, failedFrom: first.sequenceNumber }
      }
    }

    const worker = async () => {
      for (let group = await plan.next(); group !== undefined; group = await plan.next()) {
        const failed = await this.runner.runGroup(group, source, deadline, result)
        if (failed !== undefined) group.failed = failed
        else if (group.done) source.progress.done(groupStart(group))
        failedFrom = earliest(failedFrom, failed)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.ctx.concurrency, all.length) }, worker))
    if (stateless.length !== 0) failedFrom = earliest(failedFrom, await this.keepStateless(stateless, memory, source.shard))
    if (failedFrom !== undefined) result.failedFrom = failedFrom
    return result
  }

  /**
   * Writes what this batch's stateless turns made true to the shard's memory of stateless
   * messages, up to the first of them that did not finish (its redelivery runs it and those after
   * it again). Returns the first record whose memory could not be kept, if any.
   */
  private async keepStateless(groups: Group[], memory: StatelessMemory, shard: string): Promise<string | undefined> {
    const order = groups.map((g) => g.records[0]!).filter((r) => r.envelope.origin !== undefined)
    order.sort((a, b) => comparePosition(positionOf(a.sequenceNumber!, a.member?.index), positionOf(b.sequenceNumber!, b.member?.index)))
    const firstFailed = groups.reduce<string | undefined>((at, g) => earliest(at, g.failed), undefined)
    const done = firstFailed === undefined ? order : order.filter((r) => compareSequence(r.sequenceNumber!, firstFailed) < 0)
    if (memory.unremembered !== 0) this.logger.warn("stateless messages ran with their lanes not remembered: the shard's memory of lanes is full, so a copy of them may run again", { shard, messages: memory.unremembered })
    // The attempts of those that failed and wait for their record to come again; those that ended drop theirs.
    const retrying = groups.flatMap((g) => (!g.done && g.attempts?.length ? [{ id: g.records[0]!.envelope.id, attempts: g.attempts, ...(g.retryAt !== undefined ? { retryAt: g.retryAt } : {}) }] : []))
    const ended = groups.flatMap((g) => (g.done ? [g.records[0]!.envelope.id] : []))
    try {
      if (await memory.keep(done.map((r) => ({ origin: r.envelope.origin!, type: r.envelope.type, ...(r.arrivedAt !== undefined ? { arrivedAt: r.arrivedAt } : {}) })), firstFailed === undefined, { retrying, ended })) return undefined
    } catch (error) {
      this.logger.error("could not keep the shard's memory of stateless messages; they run again on redelivery", { shard, error: message(error) })
    }
    return done[0]?.sequenceNumber
  }

  /** Gives back the leases on types' slots kept for a next batch (type-slots.ts), and keeps none after: the host stops. */
  releaseSlots(): Promise<void> {
    return this.ctx.slots.giveBackKept()
  }

  // ── runs no batch brought (direct-runs.ts) ───────────────────────────────

  /**
   * Runs one message sent straight to this host (a Lambda `Invoke` from `ask`) under the same
   * conditional commit as the stream path. Resolves to the message's receipt (with the reply), or
   * undefined when the turn could not finish: the caller may try again. `stream` is where the
   * message goes when it is told.
   */
  handleDirect(envelope: Envelope, deadline?: number, after?: EarlierTell, stream?: string, keepsAnswer?: boolean): Promise<StoredReceipt | undefined> {
    return this.direct.handleDirect(envelope, deadline, after, stream, keepsAnswer)
  }

  /** Runs what waits in an instance's item (messages parked by a throttle or for a retry) here, by `deadline`. False when they did not all run. */
  runWaiting(type: string, key: string, flushId: string, stream: string, deadline?: number): Promise<boolean> {
    return this.direct.runWaiting(type, key, flushId, stream, deadline)
  }

  // ── entries made outside the host's turns ────────────────────────────────

  /** One receipt entry of a message, expiring after the receipt TTL. */
  receiptRecord(envelope: ReceiptSubject, status: MessageStatus, reason: string | undefined, extra: ReceiptExtra = {}): ReceiptRecord {
    return this.outcomes.receiptRecord(envelope, status, reason, extra)
  }

  /** Adds an entry to a running turn's outbox, for effects that are not messages or timers. */
  addEntry(ctx: Context<any>, entry: OutboxEntry): void {
    this.outcomes.addEntry(ctx, entry)
  }

  /** Carries out entries made outside a turn (system.fork): same rules as an outbox, its messages at one position of this process's lane. */
  async sendEntries(entries: readonly OutboxEntry[]): Promise<void> {
    const pos = this.lane.take()
    try {
      placeMessages(entries, this.lane.lane, String(pos), 0, this.lane.fence())
      await this.ctx.outbox.send(entries)
    } finally {
      this.lane.settle(pos)
    }
  }

  /** Effects made outside a turn, as outbox entries caused by `cause`. */
  entries(effects: readonly Effect[], cause: Cause): OutboxEntry[] {
    return effects.map((e) => this.outcomes.entry(e, cause))
  }

  // ── TurnHost, JoinerHost and TimerHost (builtin-duties.ts) ───────────────

  checkOutgoing(target: ActorClass | string, body: unknown): unknown {
    return this.typeOf(target).checkOutgoing(body, this.ctx.checkSerializable)
  }

  once<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>, semantics: OnceSemantics): Promise<T> {
    return this.ctx.sideEffects.run(message, name, fn, semantics)
  }

  now(): number {
    return this.clock.now()
  }

  planFork(plan: ForkPlan): Effect[] {
    return this.duties.planFork(plan)
  }

  /** A stream redelivers: a joined fork keeps a small record that recognises late replies, until it expires. */
  readonly keepJoinedRecords = true

  lastStatus(messageId: string): Promise<MessageStatus | undefined> {
    return this.duties.lastStatus(messageId)
  }

  tellFired(ctx: Context<TimerState>, firing: TimerFiring): void {
    this.duties.tellFired(ctx, firing)
  }

  keep(key: string, value: unknown): Promise<void> {
    return this.duties.keep(key, value)
  }

  read(key: string): Promise<unknown> {
    return this.duties.read(key)
  }

  /** With an overflow store, whether a reply is too large for the joiner's item, beside the others. */
  large(reply: unknown): boolean {
    return this.duties.large(reply)
  }
}
