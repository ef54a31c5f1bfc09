// The durable host: runs one batch of records from one shard, the way DESIGN.md's "A turn on
// AWS" describes. The Lambda handler and the shard consumer both hand it their batches.
//
//   decode → group by instance (stream order kept) → load every state in one BatchGetItem →
//   per instance: send again an outbox this batch delivers the position of, run its turns in
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
import { joinerActor, type JoinerHost } from '../../../actors/joiner.js'
import { JOINER, type ChildOutcome } from '../../turn/join-protocol.js'
import { timerActor, type TimerFiring, type TimerHost, type TimerState } from '../../../actors/timer.js'
import type { ActorClass } from '../../core/actor.js'
import { systemClock, type Clock } from '../../core/clock.js'
import type { Context } from '../../core/context.js'
import { makeEnvelope, type Envelope, type Origin } from '../../core/envelope.js'
import { ItemTooLargeError, StoreConflictError, TroupeError, UnknownActorError } from '../../core/errors.js'
import type { Filter } from '../../core/filter.js'
import { derivedId, type MessageId } from '../../core/ids.js'
import type { ActorCounts, TroupeEvent } from '../../core/inspection.js'
import { createLogger, type Logger } from '../../core/logger.js'
import type { MessageStatus } from '../../core/receipt.js'
import { KeyedSequence } from '../../core/keyed-sequence.js'
import { decode, encode } from '../../core/serialization.js'
import { ClaimCheck, PayloadError } from '../../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../../routing/record-codec.js'
import { unreadableRecordLetter } from '../../routing/unreadable-record.js'
import type { JournalStore, ReceiptRecord, StateStore, StoredInstance, StoredReceipt, TimerStore } from '../../store/index.js'
import { assembleReceipt } from '../../store/receipt-records.js'
import type { PayloadStore } from '../../store/payload-store.js'
import { errorRecord, type AttemptRecord, type DeadLetter, type ErrorRecord } from '../../supervisor/dead-letter.js'
import type { Rate } from '../../supervisor/policy.js'
import { ActorType } from '../../turn/actor-type.js'
import { Deadlines } from '../../turn/deadlines.js'
import { OnceResults } from '../../turn/once.js'
import { ActorRegistry } from '../../turn/registry.js'
import { runTurn, startState, turnJournal, type TurnRules } from '../../turn/turn.js'
import { deadLetter, doneEffects, filteredError, firedEnvelope, forkReport, logDead, toldEnvelope, type Cause } from '../../turn/turn-effects.js'
import type { Effect, ForkPlan } from '../../turn/effect.js'
import { planFork } from '../../turn/fork-plan.js'
import { EnvelopeTurn, type TurnHost, type TurnSlot } from '../../turn/turn-context.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import { decodeMeta, encodeMeta, LEGACY_LANE, reached, remember, type InstanceMeta, type MemberPosition } from './instance-meta.js'
import { instanceRate, unappliedThrottle, wakeDelayMs, wakeTimer } from './instance-throttle.js'
import { forgetSilent, markSeen, sameStream, seenBefore, type LaneHorizons } from './lane-memory.js'
import { STATELESS_SEEN, StatelessMemory } from './stateless-memory.js'
import { messagesOf, OutboxSender, PENDING, placeMessages, type MessageSender, type OutboxEntry, type OutboxSegment } from './outbox.js'
import { BatchProgress } from './batch-progress.js'
import { flushRecord } from './flush-record.js'
import { OutboxOverflow, spilledKeys } from './outbox-overflow.js'
import { ProcessLane } from './process-lane.js'
import { compareSequence, comparePosition, earliest, positionOf } from '../../core/position.js'

/** One record of a batch: its place in the shard and its data (bytes, or base64 from a Lambda event). */
export interface DurableRecord {
  sequenceNumber: string
  data: Uint8Array | string
  /** When Kinesis took the record (its approximate arrival time), epoch ms: lets a receiver forget lanes long silent. */
  arrivedAt?: number
}

export interface DurableBatch {
  stream: string
  shardId: string
  records: readonly DurableRecord[]
  /** Epoch milliseconds by which the batch must be done (a Lambda's remaining time); turns not started by then are left for redelivery. */
  deadline?: number
}

export interface BatchResult {
  /** The earliest record not finished; everything before it is done. Undefined when all are. */
  failedFrom?: string
  /** Messages applied by this run (not counting duplicates); an aggregate record counts each of its messages. */
  applied: number
  /** Messages skipped because they were applied before (redelivery, re-sent outbox). */
  duplicates: number
  /** Conditional writes lost to another host, each followed by a reload and a rerun. */
  conflicts: number
}

export interface DurableHostOptions {
  /** The user's actor classes; the runtime's own (the joiner) are added here. */
  actors: readonly ActorClass[]
  /** More actor classes, made for this host (the fork-result actor of a system). */
  builtins?: readonly ((host: DurableHost) => ActorClass)[]
  state: StateStore
  timers: TimerStore
  journal: JournalStore
  /** Sends the outbox's messages (the Kinesis transport). */
  messages: MessageSender
  codec?: RecordCodec
  /** Bodies kept out of line: restored before their turn, and a turn's large messages offloaded before its commit. */
  claimCheck?: ClaimCheck
  filters?: readonly Filter[]
  clock?: Clock
  random?: () => number
  logger?: Logger
  /** @default true unless NODE_ENV is "production" */
  checkSerializable?: boolean
  /** Ids remembered per instance for messages without an origin (written by another producer). @default 64 */
  recentIds?: number
  /** This process's lane, for the messages it sends outside any turn (`sendEntries`). @default a new one */
  lane?: ProcessLane
  /**
   * How long a lane that stopped sending to an instance may still have copies in the stream
   * (lane-memory.ts). A process gives up a send within minutes; a turn's messages are sent again
   * until its record is done, at worst until the record leaves the stream: keep `shardMs` above
   * the streams' retention. @default { processMs: 15 min, shardMs: 8 days }
   */
  laneHorizons?: Partial<LaneHorizons>
  /** Keep a receipt (and a trace link) for every message a turn sends, not only those asked for. Each costs a DynamoDB write. @default false */
  receiptsForAll?: boolean
  /** How long receipts (and the replies of `ask`) are kept. @default 24 h */
  receiptTtlMs?: number
  /** How long a deleted instance's item stays to recognise redelivered messages; keep it above the stream's retention. @default 8 days */
  tombstoneTtlMs?: number
  /** Instances run at once within a batch. @default 32 */
  concurrency?: number
  /** The most one instance's commit (state and bookkeeping) may take, in bytes; a turn that would pass it is dead-lettered. */
  maxItemBytes?: number
  /**
   * Where a commit keeps an outbox too large for the instance's item (a fork of thousands of
   * children), written before the commit that refers to it; without one, such a turn is a dead
   * letter (`TROUPE_OUTBOX_TOO_LARGE`).
   */
  overflow?: PayloadStore
  /** Timers were put (so an in-process timer runner can wake early). */
  onTimer?: (dueAt: number) => void
  /** Receipts were written (so an `ask` in this process hears at once instead of polling). */
  onReceipts?: (records: readonly ReceiptRecord[]) => void
  /** Inspection events, after the commit that made them true. */
  onEvent?: (event: TroupeEvent) => void
  /** An instance's state was committed (undefined: deleted). */
  onCommit?: (type: string, key: string, state: unknown, updatedAt: number, lastMessageId: string | undefined) => void
}

/** A turn's slot in this host: the instance key. */
type Slot = TurnSlot
type Turn = EnvelopeTurn<unknown, Slot>

/** One instance's records in this batch, in stream order (for a stateless actor: one message and its copies). */
interface Group {
  type: ActorType
  key: string
  /**
   * `sequenceNumber` is undefined for a message invoked directly rather than read from a shard;
   * `member` is set for a message that came in an aggregate record (its members share the number).
   */
  records: { sequenceNumber: string | undefined; envelope: Envelope; member?: MemberPosition; arrivedAt?: number }[]
  stored?: StoredInstance
  /** The whole type is paused (its pause item was found with the state). */
  typePaused?: boolean
  /** A stateless message found to be a copy of one this lane's host ran before. */
  copy?: boolean
  /** The record this group left unfinished. */
  failed?: string
  /** Finished in this batch: none of its positions can be given a new message later (batch-progress.ts). */
  done?: boolean
}

/** Where a run's messages come from: a batch of a shard (a lane), or one message invoked directly. */
type Source = ShardSource | { kind: 'direct'; stream: string; envelope: Envelope }
interface ShardSource {
  kind: 'shard'
  stream: string
  /** `stream/shardId`: the key of the instances' watermarks. */
  shard: string
  /** The shard's lane: the origin of what its turns send. */
  lane: string
  /** The batch's first position: everything of the lane before it is done. */
  first: string
  /** Which groups of the batch are done: the fence what this batch sends carries. */
  progress: BatchProgress
  /**
   * When the batch's first record arrived: a lane silent for its horizon before it is forgotten.
   * Judged by the first record, so nothing a redelivery of this batch reads again is forgotten.
   */
  firstArrival: number | undefined
}

/** How a message ended in this run; `later`: it failed and its retry is left for redelivery. */
type Ended =
  | { end: 'done'; state: unknown; entries: OutboxEntry[]; events: TroupeEvent[] }
  | { end: 'filtered' | 'dead'; entries: OutboxEntry[]; events: TroupeEvent[] }
type TurnEnd = Ended | { end: 'later'; failures: AttemptRecord[] }

/** Reruns of one instance after lost conditional writes, before its records are left for redelivery. */
const MAX_CONFLICT_ROUNDS = 5
/** Without the app's claim check, a body larger than this goes to the overflow store: no default-sized record could carry it. */
const OVERSIZED_BODY_BYTES = 960 * 1024
/** A reply larger than this is kept out of its joiner's item, which holds many replies. */
const LARGE_REPLY_BYTES = 16 * 1024
/** Children per joiner: a fork with more is joined by a tree of joiners (fork-plan.ts), each item far below 400 KB for small replies. */
const JOIN_GROUP_SIZE = 256
/** Outbox segments remembered as sent by this host, so a redelivery in the same process sends none again. */
const SENT_MEMORY = 10_000
const DAY_MS = 24 * 60 * 60_000
/** The largest `ask` reply kept: a receipt entry is one DynamoDB item of at most 400 KB. */
const MAX_REPLY_BYTES = 380 * 1024

/** What a direct invocation reports as its unfinished record: it has no sequence number. */
const DIRECT = ''
/** The watermark key of direct invocations: never used, since they have no sequence numbers. */
const INVOKE_SHARD = 'invoke'
/** The stream a direct invocation's message is remembered under when the caller names none. */
const DIRECT_STREAM = '(direct)'
/** How long a direct turn waits for the asker's earlier tell to be applied from the stream. */
const DIRECT_WAIT_MS = 3_000
const NOT_YET = Symbol('not yet')

/** The state store's items that mark a whole actor type paused: key = the type. */
export const PAUSE_TYPE = 'troupe.paused'

function pauseRef(type: string): { type: string; key: string } {
  return { type: PAUSE_TYPE, key: type }
}

/** Rerun an instance's turns checking the size after each one (rare: only after an oversized commit). */
class TooLarge extends Error {}

export class DurableHost implements TurnHost, JoinerHost, TimerHost {
  readonly logger: Logger
  readonly clock: Clock
  readonly counts = new Map<string, ActorCounts & { duplicates: number; conflicts: number }>()
  private readonly registry: ActorRegistry<ActorType>
  private readonly rules: TurnRules
  private readonly checkSerializable: boolean
  private readonly recentIds: number
  private readonly receiptTtlMs: number
  private readonly tombstoneTtlMs: number
  private readonly concurrency: number
  private readonly codec: RecordCodec
  private readonly outbox: OutboxSender
  /** Outbox segments this host sent (`type#key`, lane, position, size). */
  private readonly sent = new Set<string>()
  /** This process's lane: what it sends outside any turn. */
  readonly lane: ProcessLane
  private readonly horizons: LaneHorizons
  /** Bodies kept out of line: the app's claim check, or one over the overflow store for bodies no record could carry (a large join). */
  private readonly claimCheck: ClaimCheck | undefined
  private readonly overflow: OutboxOverflow
  private readonly onceResults = new OnceResults(SENT_MEMORY)
  /** Runs of each instance (`type#key`) in this host, one at a time. */
  private readonly runningHere = new KeyedSequence()
  /** `type#key` → messages parked by a throttle and due to wake, as this host's last commit of the instance left them. */
  private readonly parkedHere = new Map<string, number>()
  /** Direct turns running here, each with the last receipt entry made for its message (a conflict's rerun makes it again). */
  private readonly directAnswers = new Set<{ envelope: string; record: ReceiptRecord | undefined }>()
  /** Entries a turn adds besides its effects (the fork-result actor's receipt). */
  private readonly extras = new WeakMap<Turn, OutboxEntry[]>()

  constructor(private readonly options: DurableHostOptions) {
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger('info')
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.rules = { filters: options.filters ?? [], checkSerializable: this.checkSerializable, random: options.random ?? Math.random, clock: this.clock, deadlines: new Deadlines(this.clock) }
    this.recentIds = options.recentIds ?? 64
    this.receiptTtlMs = options.receiptTtlMs ?? DAY_MS
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? 8 * DAY_MS
    this.concurrency = options.concurrency ?? 32
    this.codec = options.codec ?? defaultRecordCodec
    this.lane = options.lane ?? new ProcessLane()
    this.claimCheck = options.claimCheck ?? (options.overflow && new ClaimCheck({ store: options.overflow, aboveBytes: OVERSIZED_BODY_BYTES }))
    this.overflow = new OutboxOverflow(options.overflow, this.tombstoneTtlMs, () => this.clock.now())
    this.horizons = { processMs: 15 * 60_000, shardMs: this.tombstoneTtlMs, ...options.laneHorizons }
    this.outbox = new OutboxSender(options.messages, options.timers, options.journal, () => this.clock.now(), options.onTimer, options.onReceipts)
    const builtins = [joinerActor(this), timerActor(this), ...(options.builtins ?? []).map((make) => make(this))]
    this.registry = new ActorRegistry(options.actors, builtins, (cls) => new ActorType(cls))
    for (const type of this.registry.values()) {
      this.counts.set(type.type, { accepted: 0, done: 0, filtered: 0, dead: 0, retried: 0, throttled: 0, duplicates: 0, conflicts: 0 })
      const unapplied = unappliedThrottle(type)
      if (unapplied !== undefined) this.logger.warn(unapplied, { actor: type.type })
    }
  }

  /** The actor types, by name: the user's and troupe's own. */
  get types(): ReadonlyMap<string, ActorType> {
    return this.registry.byType
  }

  /** The actor type of a class or name; throws naming the known ones. */
  typeOf(target: ActorClass | string): ActorType {
    return this.registry.get(target)
  }

  /** Messages this host's commits left parked by a throttle, waiting for their wake-up (as far as this host knows). */
  get parkedMessages(): number {
    let n = 0
    for (const count of this.parkedHere.values()) n += count
    return n
  }

  // ── a batch ──────────────────────────────────────────────────────────────

  async handle(batch: DurableBatch): Promise<BatchResult> {
    const shard = `${batch.stream}/${batch.shardId}`
    const deadline = batch.deadline ?? Infinity
    const result: BatchResult = { applied: 0, duplicates: 0, conflicts: 0 }
    const first = batch.records[0]
    if (first === undefined) return result
    const groups = new Map<string, Group>()
    const undecodable: { sequenceNumber: string; letter: DeadLetter }[] = []
    let failedAt: string | undefined
    records: for (const record of batch.records) {
      const decoded = this.codec.decodeAll(record.data)
      if (!decoded.ok) {
        undecodable.push({ sequenceNumber: record.sequenceNumber, letter: this.undecodable(record, shard, decoded.reason, decoded.messageId, decoded.actor) })
        continue
      }
      // An aggregate record's members share its sequence number; each is known by its place in it.
      const count = decoded.envelopes.length
      for (let index = 0; index < count; index++) {
        let envelope = decoded.envelopes[index]!
        const member = decoded.aggregate ? { index, last: index === count - 1 } : undefined
        if (this.claimCheck) {
          try {
            envelope = await this.claimCheck.restore(envelope)
          } catch (error) {
            if (!(error instanceof PayloadError)) {
              // The payload store did not answer: this record and what follows come again.
              this.logger.error('could not fetch a payload; the batch will be delivered again', { shard, messageId: envelope.id, error: message(error) })
              failedAt ??= record.sequenceNumber
              break records
            }
            undecodable.push({ sequenceNumber: record.sequenceNumber, letter: { envelope, error: errorRecord(error), attempts: [], deadAt: this.clock.now() } })
            continue
          }
        }
        const type = this.types.get(envelope.type)
        // A flush record is for a stateful instance; for anything else there is nothing to run.
        if (envelope.control !== undefined && type?.stateful !== true) continue
        if (type === undefined) {
          const error = new UnknownActorError(envelope.type, this.registry.names(), `for message ${envelope.id} in this host`)
          undecodable.push({ sequenceNumber: record.sequenceNumber, letter: { envelope, error: errorRecord(error), attempts: [], deadAt: this.clock.now() } })
          continue
        }
        // Unkeyed stateless messages need no order: each is a group of its own, and the copies of
        // one message (the same origin) share a group, so the second is known as a copy.
        const id = !type.stateful
          ? `${envelope.type}\u0000${envelope.origin ? `${envelope.origin.lane}\u0000${envelope.origin.pos}\u0000${envelope.origin.i}` : `${envelope.id}\u0000${record.sequenceNumber}`}`
          : `${envelope.type}\u0000${envelope.key}`
        let group = groups.get(id)
        if (!group) groups.set(id, (group = { type, key: envelope.key, records: [] }))
        group.records.push({ sequenceNumber: record.sequenceNumber, envelope, ...(member ? { member } : {}), ...(record.arrivedAt !== undefined ? { arrivedAt: record.arrivedAt } : {}) })
      }
    }

    let failedFrom: string | undefined = failedAt
    if (undecodable.length !== 0) {
      try {
        await this.options.journal.putDeadLetters(undecodable.map((u) => u.letter))
        for (const u of undecodable) this.logger.warn('record dead-lettered', { shard, sequenceNumber: u.sequenceNumber, messageId: u.letter.envelope.id, error: u.letter.error.message })
      } catch (error) {
        this.logger.error('could not keep dead letters of bad records; the batch will be delivered again', { shard, error: message(error) })
        failedFrom = earliest(failedFrom, undecodable[0]!.sequenceNumber)
      }
    }

    const all = [...groups.values()]
    // Everything of this lane before the batch's first record is done: the mapping (or the shard
    // consumer) delivers a record again until a run reports it done, and reports come in order.
    const firstPosition = positionOf(first.sequenceNumber)
    const groupStart = (g: Group) => positionOf(g.records[0]!.sequenceNumber!, g.records[0]!.member?.index)
    const source: ShardSource = {
      kind: 'shard',
      stream: batch.stream,
      shard,
      lane: `s:${shard}`,
      first: firstPosition,
      progress: new BatchProgress(firstPosition, all.map(groupStart)),
      firstArrival: first.arrivedAt,
    }
    const stateful = all.filter((g) => g.type.stateful)
    const stateless = all.filter((g) => !g.type.stateful)
    let laneItem: StoredInstance | undefined
    if (stateful.length !== 0 || stateless.length !== 0) {
      try {
        // The types' pause items, and the lane's memory of stateless messages, come in the same read as the state.
        const types = [...new Set(stateful.map((g) => g.type.type))]
        const refs = [...stateful.map((g) => ({ type: g.type.type, key: g.key })), ...types.map((t) => pauseRef(t))]
        if (stateless.length !== 0) refs.push({ type: STATELESS_SEEN, key: shard })
        const loaded = this.options.state.getMany ? await this.options.state.getMany(refs) : await Promise.all(refs.map((r) => this.options.state.get(r.type, r.key)))
        const paused = new Set(types.filter((_, i) => loaded[stateful.length + i] !== undefined))
        stateful.forEach((g, i) => {
          g.stored = loaded[i]
          g.typePaused = paused.has(g.type.type)
        })
        if (stateless.length !== 0) laneItem = loaded[refs.length - 1]
      } catch (error) {
        this.logger.error('could not load state; the batch will be delivered again', { shard, error: message(error) })
        return { ...result, failedFrom: first.sequenceNumber }
      }
    }
    // Which stateless messages are copies is decided in stream order, before any runs: a later
    // record's fence speaks only of records before it.
    const memory = new StatelessMemory(this.options.state, batch.stream, shard, laneItem, this.horizons, () => this.clock.now(), first.arrivedAt)
    for (const g of stateless) g.copy = memory.decide(g.records[0]!.envelope)

    let next = 0
    const worker = async () => {
      while (next < all.length) {
        const group = all[next++]!
        const failed = await this.runGroup(group, source, deadline, result)
        if (failed !== undefined) group.failed = failed
        else if (group.done) source.progress.done(groupStart(group))
        failedFrom = earliest(failedFrom, failed)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, all.length) }, worker))
    if (stateless.length !== 0) failedFrom = earliest(failedFrom, await this.keepStateless(stateless, memory, shard))
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
    try {
      if (await memory.keep(done.map((r) => ({ origin: r.envelope.origin!, ...(r.arrivedAt !== undefined ? { arrivedAt: r.arrivedAt } : {}) })))) return undefined
    } catch (error) {
      this.logger.error("could not keep the shard's memory of stateless messages; they run again on redelivery", { shard, error: message(error) })
    }
    return done[0]?.sequenceNumber
  }

  /** Records that a copy from `origin` was read here. */
  private noteOrigin(meta: InstanceMeta, stream: string, origin: Origin, arrivedAt: number | undefined): void {
    meta.seen = markSeen(meta.seen, stream, origin, arrivedAt)
  }

  /**
   * Runs one message sent straight to this host (a Lambda `Invoke` from `ask`), under the same
   * conditional commit as the stream path, so a batch for the same key running at the same
   * time costs a rerun, never a lost update. A copy of a message already applied (the same
   * origin) is not applied again. The messages its turn sends are kept in the instance's item
   * and go out through its shard: a flush record for the instance is put on the stream, and the
   * turn that reads it places and sends them (docs/guarantees.md). Resolves to the message's receipt (with
   * the reply), or undefined when the turn could not finish (out of time, or the store or stream
   * failed): the caller may try again. `stream` is where the message goes when it is told.
   */
  async handleDirect(
    envelope: Envelope,
    deadline = Infinity,
    after?: { stream: string; shardId: string; sequenceNumber: string; member?: number },
    stream = after?.stream ?? DIRECT_STREAM,
  ): Promise<StoredReceipt | undefined> {
    const type = this.typeOf(envelope.type)
    if (this.claimCheck) envelope = await this.claimCheck.restore(envelope)
    envelope.receipt = 'reply'
    if (!type.stateful) return this.directStateless(type, envelope, deadline)
    const group: Group = { type, key: envelope.key, records: [{ sequenceNumber: undefined, envelope }] }
    const loaded = await this.loadPast(type.type, envelope.key, after, Math.min(deadline, this.clock.now() + DIRECT_WAIT_MS))
    if (loaded === NOT_YET) return undefined
    group.stored = loaded.stored
    group.typePaused = loaded.typePaused
    // The receipt entry the turn makes is caught here: the answer needs no read after the send.
    const watched = { envelope: envelope.id, record: undefined as ReceiptRecord | undefined }
    this.directAnswers.add(watched)
    try {
      const failed = await this.runGroup(group, { kind: 'direct', stream, envelope }, deadline, { applied: 0, duplicates: 0, conflicts: 0 })
      if (failed !== undefined) return undefined
    } finally {
      this.directAnswers.delete(watched)
    }
    if (watched.record === undefined) return this.options.journal.receipt(envelope.id, this.clock.now())
    return assembleReceipt(envelope.id, [watched.record])
  }

  /**
   * Runs what waits in an instance's item (messages parked by its throttle) here, as a direct run
   * of a flush record: what the waiting turns send goes out through the instance's shard, as a
   * direct run's does. False when they did not all run.
   */
  async runWaiting(type: string, key: string, flushId: string, stream: string): Promise<boolean> {
    const actor = this.typeOf(type)
    const loaded = await this.loadPast(actor.type, key, undefined, Infinity)
    if (loaded === NOT_YET) return false
    const flush = flushRecord(actor.type, key, flushId, flushId, this.clock.now())
    const group: Group = { type: actor, key, records: [{ sequenceNumber: undefined, envelope: flush }], stored: loaded.stored, typePaused: loaded.typePaused }
    return (await this.runGroup(group, { kind: 'direct', stream, envelope: flush }, Infinity, { applied: 0, duplicates: 0, conflicts: 0 })) === undefined
  }

  /**
   * A stateless actor's turn invoked directly: its reply is the answer. It has no item to keep the
   * messages it sends until its shard sends them, so when it sends any, a copy of the message goes
   * on the stream instead and the turn runs there again to send them (a stateless turn may run
   * more than once, as on any redelivery); its receipts and timers are written now (keyed writes).
   */
  private async directStateless(type: ActorType, envelope: Envelope, deadline: number): Promise<StoredReceipt | undefined> {
    const watched = { envelope: envelope.id, record: undefined as ReceiptRecord | undefined }
    this.directAnswers.add(watched)
    try {
      const ran = await this.runMessage(type, envelope, undefined, [], deadline)
      if (ran.end === 'later') return undefined
      await this.outbox.send(ran.entries.filter((e) => e.kind !== 'message'))
      if (messagesOf(ran.entries).length !== 0) await this.putOnStream(envelope)
      this.committed(type, ran.events)
    } catch (error) {
      this.logger.warn('a direct turn of a stateless actor did not finish; the ask goes on the stream', { actor: type.type, messageId: envelope.id, error: message(error) })
      return undefined
    } finally {
      this.directAnswers.delete(watched)
    }
    if (watched.record === undefined) return this.options.journal.receipt(envelope.id, this.clock.now())
    return assembleReceipt(envelope.id, [watched.record])
  }

  /**
   * The instance, once it has applied the record at `after` (the asker's earlier tell): a direct
   * turn must not overtake it. NOT_YET when it has not by `until`; the ask then follows the tell
   * on the stream.
   */
  private async loadPast(
    type: string,
    key: string,
    after: { stream: string; shardId: string; sequenceNumber: string; member?: number } | undefined,
    until: number,
  ): Promise<{ stored: StoredInstance | undefined; typePaused: boolean } | typeof NOT_YET> {
    // The type's pause item is read with the instance, as a stream batch reads it.
    const refs = [{ type, key }, pauseRef(type)]
    for (let pauseMs = 20; ; pauseMs = Math.min(pauseMs * 2, 500)) {
      const [stored, pause] = this.options.state.getMany ? await this.options.state.getMany(refs) : await Promise.all(refs.map((r) => this.options.state.get(r.type, r.key)))
      const loaded = { stored, typePaused: pause !== undefined }
      if (after === undefined) return loaded
      if (reached(decodeMeta(stored?.meta), `${after.stream}/${after.shardId}`, after.sequenceNumber, after.member)) return loaded
      if (this.clock.now() + pauseMs >= until) return NOT_YET
      await new Promise<void>((resolve) => this.clock.setTimeout(() => resolve(), pauseMs))
    }
  }

  /** A record that is no envelope: kept as a dead letter with all of its data (see unreadable-record.ts). */
  private undecodable(record: DurableRecord, shard: string, reason: string, messageId: string | undefined, actor: string | undefined): DeadLetter {
    return unreadableRecordLetter({ data: record.data, shard, sequenceNumber: record.sequenceNumber, reason, messageId, actor, now: this.clock.now() })
  }

  // ── one instance ─────────────────────────────────────────────────────────

  /**
   * Runs a group until it commits; returns the earliest record left unfinished, if any. An
   * instance runs one group at a time in this host: two runs for the same key would otherwise
   * both run turns (and their side effects) before one of them lost its commit.
   */
  private async runGroup(group: Group, source: Source, deadline: number, result: BatchResult): Promise<string | undefined> {
    if (!group.type.stateful) return this.runStateless(group, source as ShardSource, deadline, result)
    return this.runningHere.run(`${group.type.type}#${group.key}`, () => this.runGroupRounds(group, source, deadline, result))
  }

  private async runGroupRounds(group: Group, source: Source, deadline: number, result: BatchResult): Promise<string | undefined> {
    const first = group.records[0]?.sequenceNumber ?? DIRECT
    let checkEach = false
    for (let round = 0; ; round++) {
      try {
        if (round !== 0) {
          group.stored = await this.options.state.get(group.type.type, group.key)
          group.typePaused = (await this.options.state.get(PAUSE_TYPE, group.type.type)) !== undefined
        }
        return await this.runGroupOnce(group, source, deadline, result, checkEach)
      } catch (error) {
        if (error instanceof StoreConflictError && round + 1 < MAX_CONFLICT_ROUNDS) {
          result.conflicts++
          this.counts.get(group.type.type)!.conflicts++
          continue
        }
        if (error instanceof TooLarge && !checkEach) {
          checkEach = true
          continue
        }
        this.logger.error('instance left for redelivery', { actor: group.type.type, key: group.key || undefined, error: message(error) })
        return first
      }
    }
  }

  /**
   * A stateless message's turn: its messages go out at once (it has nothing to commit), with the
   * origin of its record, so a rerun sends the same messages with the same origin. Copies of the
   * message were found before the batch ran (`Group.copy`).
   */
  private async runStateless(group: Group, source: ShardSource, deadline: number, result: BatchResult): Promise<string | undefined> {
    const { type } = group
    const record = group.records[0]!
    if (group.copy) {
      result.duplicates += group.records.length
      this.counts.get(type.type)!.duplicates += group.records.length
      group.done = true
      return undefined
    }
    // Later copies of the same message in this batch are copies of this one.
    const copies = group.records.length - 1
    result.duplicates += copies
    this.counts.get(type.type)!.duplicates += copies
    if (this.clock.now() >= deadline) return record.sequenceNumber
    const ran = await this.runMessage(type, record.envelope, undefined, [], deadline)
    if (ran.end === 'later') return record.sequenceNumber
    let entries = ran.entries
    if (this.offloads(type) && entries.length !== 0) entries = await this.offload(entries)
    placeMessages(entries, source.lane, positionOf(record.sequenceNumber!, record.member?.index), 0, source.progress.fence())
    try {
      await this.outbox.send(entries, source.progress.fence())
      this.committed(type, ran.events)
    } catch (error) {
      this.logger.warn('outbox of a stateless turn not sent; it runs again on redelivery', { actor: type.type, error: message(error) })
      return record.sequenceNumber
    }
    result.applied++
    group.done = true
    return undefined
  }

  private async runGroupOnce(group: Group, source: Source, deadline: number, result: BatchResult, checkEach: boolean): Promise<string | undefined> {
    const { type, key, stored } = group
    const meta = decodeMeta(stored?.meta)
    const name = `${type.type}#${key}`
    const stream = source.stream
    const shard = source.kind === 'shard' ? source.shard : INVOKE_SHARD
    // The instance's records in the batch that it had not read before. A record it read before (a
    // redelivery) may already be behind a fence its lane's copies carried, so it never gets new
    // messages; with none, this run only recognises copies and sends again what a redelivery must
    // (late work waits). What this run sends sits at the last of them that it reads (below).
    const fresh = source.kind === 'shard' ? group.records.filter((r) => !reached(meta, source.shard, r.sequenceNumber!, r.member?.index)) : []
    const lateWork = source.kind === 'direct' || fresh.length !== 0
    // Group records this run read: those before the one it stopped at, if it stopped.
    let readCount = group.records.length
    let changed = false
    // Lanes silent for their horizon before this batch began are forgotten (a direct run forgets nothing).
    if (source.kind === 'shard' && source.firstArrival !== undefined) forgetSilent(meta.seen, stream, source.firstArrival, this.horizons)
    // A direct run's spilled entries are kept until deleted: once a commit no longer refers to them, they go.
    const pendingSpills = spilledKeys(meta.outbox, PENDING)
    // The stored outbox: what this run must send again, place, or keep.
    const kept: OutboxSegment[] = []
    const placed: OutboxEntry[] = []
    for (const segment of meta.outbox ?? []) {
      if (source.kind === 'shard') {
        if (segment.lane === PENDING && lateWork) {
          // A direct invocation's entries: placed in this lane now, sent after this commit.
          placed.push(...(await this.spilledEntries(group, segment)))
          changed = true
          continue
        }
        if (segment.lane === source.lane || segment.lane === LEGACY_LANE) {
          // Made in this lane: at or after the batch's start it may not all have gone out (this
          // is a redelivery of its position); before it, it was sent for good.
          const again = segment.lane === LEGACY_LANE || comparePosition(segment.pos, source.first) >= 0
          if (again && !this.sentHere(name, segment)) {
            await this.outbox.send(await this.overflow.entriesOf(segment), source.progress.fence())
            this.rememberSent(name, segment)
          }
          continue
        }
        // A parent shard's (the stream was resharded): read to its end before this child was.
        if (sameStream(segment.lane, source.lane)) continue
      } else if (segment.lane === PENDING) {
        // An earlier direct run's: its timers, receipts and letters went out after its commit and
        // are written again here (keyed writes) so they need not be kept; its messages wait for the shard.
        const entries = await this.spilledEntries(group, segment)
        const written = entries.filter((e) => e.kind !== 'message')
        if (written.length !== 0) await this.outbox.send(written)
        const messages = entries.filter((e) => e.kind === 'message')
        if (messages.length !== 0) kept.push({ lane: PENDING, pos: segment.pos, entries: messages })
        continue
      }
      kept.push(segment)
    }
    let state: unknown = stored === undefined ? undefined : decode(stored.state)
    const entries: OutboxEntry[] = []
    const events: TroupeEvent[] = []
    let failedAt: string | undefined
    let appliedHere = 0
    let duplicates = 0
    const paused = meta.paused === true || group.typePaused === true
    // After a resume, what was held runs first, in the order it came, before this batch's records.
    const heldFirst = lateWork && !paused && meta.held !== undefined ? meta.held.map((envelope) => ({ sequenceNumber: undefined, envelope, held: true, parked: false, member: undefined, arrivedAt: undefined })) : []
    // Parked (throttled) messages came before any held one: a message is held only while paused,
    // and parked only while not. They run first, as far as the key's tokens allow.
    const parkedFirst = lateWork && !paused && meta.parked !== undefined ? meta.parked.map((envelope) => ({ sequenceNumber: undefined, envelope, held: false, parked: true, member: undefined, arrivedAt: undefined })) : []
    const rate = instanceRate(type)
    const bucket = rate && new TokenBucket(rate, this.clock.now(), meta.bucket)
    // A message found no token: everything after it waits behind it, parked in order.
    let waiting = false
    if (meta.wake !== undefined && meta.wake.dueAt <= this.clock.now()) {
      // The wake-up is due (its timer fired, or is about to): the commit puts a new one if messages stay parked.
      delete meta.wake
      if (meta.parked !== undefined) changed = true
    }
    const firstRecord = group.records[0]?.sequenceNumber ?? DIRECT
    // Held and parked messages that ran here: a copy of one later in this pass is known by its id.
    const ranHeld = new Set<string>()
    const pass = [...parkedFirst, ...heldFirst, ...group.records.map((r) => ({ ...r, held: false, parked: false }))]
    for (const [n, { sequenceNumber, envelope, held, parked, member, arrivedAt }] of pass.entries()) {
      // Stopping at a message from the item (held or parked), the run reads none of the records.
      const stopHere = () => (readCount = Math.max(0, n - parkedFirst.length - heldFirst.length))
      if (envelope.control !== undefined) {
        // A flush record: nothing to apply; it only made this run, which ran what waits above.
        if (source.kind === 'shard') remember(meta, source.shard, sequenceNumber, envelope.id, 0, member)
        continue
      }
      if (!held && !parked) {
        const verdict = ranHeld.has(envelope.id) || meta.held?.some((h) => h.id === envelope.id) || meta.parked?.some((p) => p.id === envelope.id) ? 'copy' : this.verdict(meta, source, sequenceNumber, envelope, member)
        if (verdict !== 'new') {
          this.noteRead(meta, source, sequenceNumber, envelope, member, arrivedAt)
          if (verdict === 'copy') {
            duplicates++
            continue
          }
          // At or below the watermark, yet never applied here: kept as a dead letter, never skipped in silence.
          entries.push(...this.inconsistent(type, envelope, shard, sequenceNumber!, member, meta).entries)
          changed = true
          continue
        }
      }
      if (!held && !parked && meta.held !== undefined && !paused) {
        // A held message before it could not finish: this one waits for the redelivery.
        failedAt = earliest(failedAt, sequenceNumber ?? DIRECT)
        stopHere()
        break
      }
      if (paused) {
        // Held in the item: the shard moves on, other keys flow, nothing is retried or lost.
        ;(meta.held ??= []).push(envelope)
        this.noteRead(meta, source, sequenceNumber, envelope, member, arrivedAt)
        if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'paused', undefined, {}))
        changed = true
        continue
      }
      if (this.clock.now() >= deadline) {
        failedAt = held || parked ? firstRecord : (sequenceNumber ?? DIRECT)
        stopHere()
        break
      }
      if (bucket !== undefined) {
        const now = this.clock.now()
        const waitMs = bucket.waitMs(now)
        if (waiting || waitMs !== 0) {
          waiting = true
          if (!parked) this.park(type, key, meta, source, sequenceNumber, member, arrivedAt, envelope, held, Math.max(waitMs, 1), entries, events)
          // Still parked: nothing to write, unless the parked ones lack a wake-up.
          if (!parked || meta.wake === undefined) changed = true
          continue
        }
        bucket.take()
      }
      const prior = meta.failing?.id === envelope.id ? [...meta.failing.attempts] : []
      const ran = await this.runMessage(type, envelope, state, prior, deadline)
      if (ran.end === 'later') {
        meta.failing = { id: envelope.id, attempts: ran.failures }
        changed = true
        failedAt = held || parked ? firstRecord : (sequenceNumber ?? DIRECT)
        stopHere()
        break
      }
      if (held) {
        ranHeld.add(envelope.id)
        meta.held!.shift()
        if (meta.held!.length === 0) delete meta.held
      }
      if (parked) {
        ranHeld.add(envelope.id)
        meta.parked!.shift()
        if (meta.parked!.length === 0) delete meta.parked
      }
      if (held || parked) this.noteRanLate(meta, envelope)
      let end: Ended = ran
      if (this.offloads(type) && end.entries.length !== 0) end = { ...end, entries: await this.offload(end.entries) }
      if (checkEach && end.end === 'done' && this.options.maxItemBytes !== undefined) {
        // The outbox goes to the overflow store when there is one: then only state and bookkeeping count.
        const outbox = this.options.overflow ? kept : [...kept, { lane: PENDING, pos: '0', entries: [...placed, ...entries, ...end.entries] }]
        const bytes = Buffer.byteLength(encode(end.state)) + Buffer.byteLength(encodeMeta({ ...meta, outbox }))
        if (bytes > this.options.maxItemBytes) end = await this.tooLarge(type, envelope, prior, bytes, this.options.overflow || kept.length !== 0 ? 'state' : 'outbox')
      }
      delete meta.failing
      if (end.end === 'done') state = end.state
      entries.push(...end.entries)
      events.push(...end.events)
      if (!held && !parked) this.noteRead(meta, source, sequenceNumber, envelope, member, arrivedAt)
      changed = true
      appliedHere++
    }

    // Where what this run sends sits in its lane: the last record it read of those it had not read
    // before. Its commit passes the watermark over that record, so no later run places anything
    // there; a record the run stopped at stays unread, and the run that reads it places its own.
    const readNow = new Set(group.records.slice(0, readCount))
    const last = fresh.filter((r) => readNow.has(r)).at(-1)
    const at = last === undefined ? undefined : positionOf(last.sequenceNumber!, last.member?.index)
    if (changed) {
      const version = (stored?.version ?? 0) + 1
      if (bucket !== undefined) this.throttleCommit(type, key, meta, bucket, rate!, paused, version, entries)
      const made = [...placed, ...entries]
      let segment: OutboxSegment | undefined
      // Without a record of its own to sit at (a direct run; a redelivery whose only change is a
      // throttle's wake-up), what a run made waits as PENDING: its messages for the shard's next
      // turn of the instance, the rest written now (keyed writes, written again when placed).
      let pendingNow: OutboxEntry[] | undefined
      if (made.length !== 0) {
        if (source.kind === 'shard' && at !== undefined) {
          placeMessages(made, source.lane, at, 0, source.progress.fence())
          segment = { lane: source.lane, pos: at, entries: made }
          kept.push(segment)
        } else {
          const pending = kept.find((s) => s.lane === PENDING)
          if (pending) pending.entries.push(...made)
          else kept.push({ lane: PENDING, pos: '0', entries: made })
          pendingNow = made.filter((e) => e.kind !== 'message')
        }
      }
      if (kept.length !== 0) meta.outbox = kept
      else delete meta.outbox
      const stateText = encode(state)
      let metaText = encodeMeta(meta)
      if (this.options.maxItemBytes !== undefined && this.options.overflow !== undefined && Buffer.byteLength(stateText) + Buffer.byteLength(metaText) > this.options.maxItemBytes) {
        // Too large for the item with its outbox: the outbox waits in the overflow store, written
        // before the commit that refers to it (nothing refers to it if the commit loses).
        meta.outbox = await Promise.all(kept.map((k) => this.overflow.spill(name, version, k)))
        metaText = encodeMeta(meta)
      }
      const item: StoredInstance = { state: stateText, version, updatedAt: this.clock.now(), meta: metaText }
      // A deleted instance keeps its watermarks for a while, to recognise redelivered messages.
      // A paused one (its item holds the pause, and maybe held messages) never expires.
      if (state === undefined && !meta.paused && meta.held === undefined && meta.parked === undefined && meta.outbox === undefined) item.expiresAt = item.updatedAt + this.tombstoneTtlMs
      else if (type.stateTtlMs !== undefined && meta.outbox === undefined) item.expiresAt = item.updatedAt + type.stateTtlMs
      const spilledNow = newSpills(stored?.meta, meta)
      if (this.options.maxItemBytes !== undefined && !checkEach && Buffer.byteLength(item.state) + Buffer.byteLength(item.meta!) > this.options.maxItemBytes) {
        await Promise.all(spilledNow.map((spilled) => this.overflow.drop(spilled)))
        throw new TooLarge()
      }
      try {
        await this.options.state.put(type.type, key, item, stored?.version)
      } catch (error) {
        // Not written, or written with its answer lost (a retried put then meets its own write as
        // a conflict): what this attempt spilled goes only if the item as it stands does not refer to it.
        if (spilledNow.length !== 0) await this.dropUnreferenced(type.type, key, spilledNow)
        throw error
      }
      group.stored = item
      // A paused instance's parked messages wait for its resume, not for a wake-up: not counted.
      if (meta.parked !== undefined && meta.wake !== undefined) this.parkedHere.set(name, meta.parked.length)
      else this.parkedHere.delete(name)
      this.options.onCommit?.(type.type, key, state, item.updatedAt, group.records.at(-1)?.envelope.id)
      this.committed(type, events)
      await this.overflow.dropUnreferenced(pendingSpills, meta.outbox)
      try {
        if (segment !== undefined) {
          await this.outbox.send(segment.entries, source.kind === 'shard' ? source.progress.fence() : undefined)
          this.rememberSent(name, segment)
        } else if (pendingNow !== undefined) {
          await this.outbox.send(pendingNow)
        }
      } catch (error) {
        // Committed: the next delivery of its position sends it (a direct run's: the shard's next turn of the instance).
        this.logger.warn('outbox not sent after commit; it goes out on redelivery', { actor: type.type, key: key || undefined, error: message(error) })
        failedAt = earliest(failedAt, group.records[0]?.sequenceNumber ?? DIRECT)
      }
    } else {
      this.committed(type, events)
    }
    if (source.kind === 'direct' && failedAt === undefined && messagesOf(meta.outbox?.find((s) => s.lane === PENDING)?.entries ?? []).length !== 0) {
      // Messages wait in the item for the instance's shard: a flush record there makes the turn
      // that reads it place and send them.
      try {
        await this.flush(source.envelope)
      } catch (error) {
        this.logger.warn("could not put a direct run's flush record on its stream; its messages go out with the instance's next record", { actor: type.type, key: key || undefined, error: message(error) })
        failedAt = DIRECT
      }
    }
    result.applied += appliedHere
    result.duplicates += duplicates
    this.counts.get(type.type)!.duplicates += duplicates
    // Done for the batch's fence when its records can get no new message later: committed, or none was new here.
    group.done = failedAt === undefined && (changed || fresh.length === 0)
    return failedAt
  }

  /** Deletes those of `spilled` that the instance's item, read now, does not refer to (left alone if it cannot be read). */
  private async dropUnreferenced(type: string, key: string, spilled: readonly string[]): Promise<void> {
    let current: StoredInstance | undefined
    try {
      current = await this.options.state.get(type, key)
    } catch {
      return
    }
    await this.overflow.dropUnreferenced(spilled, decodeMeta(current?.meta).outbox)
  }

  /**
   * A direct run's entries, from the overflow store when spilled. A commit that placed them
   * deletes them: gone, and the instance moved on since this run loaded it, they are a conflict
   * (reload and run again), not a loss.
   */
  private async spilledEntries(group: Group, segment: OutboxSegment): Promise<OutboxEntry[]> {
    try {
      return await this.overflow.entriesOf(segment)
    } catch (error) {
      if (!(error instanceof TroupeError && error.code === 'TROUPE_OVERFLOW_MISSING')) throw error
      const now = await this.options.state.get(group.type.type, group.key)
      if (now?.version !== group.stored?.version) throw new StoreConflictError(`${group.type.type}#${group.key}`, group.stored?.version)
      throw error
    }
  }

  /**
   * Puts `envelope` itself on its stream, with its origin: a stateless turn has no item to wait in,
   * so the turn runs again there (a flush record would find nothing to run).
   */
  private async putOnStream(envelope: Envelope): Promise<void> {
    const report = await this.options.messages.send([{ ...(this.claimCheck?.travelled(envelope) ?? envelope) }])
    const failed = report.results.find((r) => r.status !== 'sent')
    if (failed?.status === 'failed') throw failed.error
  }

  /** Puts a flush record for the instance of `envelope` on its stream: the turn that reads it places and sends what waits. */
  private async flush(envelope: Envelope): Promise<void> {
    const report = await this.options.messages.send([flushRecord(envelope.type, envelope.key, derivedId(envelope.id, 'flush'), envelope.correlationId, this.clock.now())])
    const failed = report.results.find((r) => r.status !== 'sent')
    if (failed?.status === 'failed') throw failed.error
  }

  /**
   * A held or parked message ran. Its origin was noted when it was held or parked, under the
   * stream it came on; noting it again under the stream of this run would raise that stream's
   * fence for its lane over messages still on their way there (a priority stream's message run by
   * a run of the default stream). One without an origin is remembered by its id.
   */
  private noteRanLate(meta: InstanceMeta, envelope: Envelope): void {
    if (envelope.origin === undefined) remember(meta, INVOKE_SHARD, undefined, envelope.id, this.recentIds)
  }

  /** How a record stands with the instance: new, a copy of one it read, or inconsistent (at or below its watermark, yet unknown). */
  private verdict(meta: InstanceMeta, source: Source, sequenceNumber: string | undefined, envelope: Envelope, member: MemberPosition | undefined): 'new' | 'copy' | 'inconsistent' {
    // By its origin when it has one: a replay keeps the id of the message it runs again, under a new origin.
    const known = envelope.origin !== undefined ? seenBefore(meta.seen, source.stream, envelope.origin) : meta.recent.includes(envelope.id)
    if (known) return 'copy'
    if (source.kind === 'shard' && sequenceNumber !== undefined && reached(meta, source.shard, sequenceNumber, member?.index)) return 'inconsistent'
    return 'new'
  }

  /**
   * Records that a record was read (its message applied, dead, filtered, held, parked, or a copy):
   * its shard's mark, and its origin, or without one its id among the recent. A replay of a dead
   * message comes with an origin of its own, so it is not taken for a copy.
   */
  private noteRead(meta: InstanceMeta, source: Source, sequenceNumber: string | undefined, envelope: Envelope, member: MemberPosition | undefined, arrivedAt: number | undefined): void {
    const shard = source.kind === 'shard' ? source.shard : INVOKE_SHARD
    remember(meta, shard, sequenceNumber, envelope.id, envelope.origin === undefined ? this.recentIds : 0, member)
    if (envelope.origin !== undefined) this.noteOrigin(meta, source.stream, envelope.origin, source.kind === 'shard' ? arrivedAt : (arrivedAt ?? this.clock.now()))
  }

  /** The dead letter of a record at or below the instance's watermark whose message was never applied. */
  private inconsistent(type: ActorType, envelope: Envelope, shard: string, sequenceNumber: string, member: MemberPosition | undefined, meta: InstanceMeta): Ended {
    const mark = meta.marks[shard]!
    const where = member === undefined ? `record ${sequenceNumber}` : `member ${member.index} of record ${sequenceNumber}`
    const watermark = `${type.type}#${envelope.key}'s watermark there (${mark}${meta.members?.[shard] !== undefined ? `, member ${meta.members[shard]}` : ''})`
    const why = envelope.origin
      ? `yet its message ${envelope.id} (from ${envelope.origin.lane} at ${envelope.origin.pos}#${envelope.origin.i}) was never applied here; kept as a dead letter instead of being skipped (replay it to apply it)`
      : `and its message ${envelope.id} carries no origin and is not among the last ${this.recentIds} without one, so it cannot be told from one applied before; kept as a dead letter instead of being skipped (replay it only if it was not applied: a producer that writes records itself should give them origins)`
    const error = new TroupeError('TROUPE_INCONSISTENT_RECORD', `${where} of ${shard} is at or below ${watermark}, ${why}`)
    return this.dead(type, envelope, error, [])
  }

  /**
   * Parks a message that found no token (or came behind one that did not): kept in the item in
   * order, its record marked read so the shard moves on, its receipt saying it is throttled.
   */
  private park(
    type: ActorType,
    key: string,
    meta: InstanceMeta,
    source: Source,
    sequenceNumber: string | undefined,
    member: MemberPosition | undefined,
    arrivedAt: number | undefined,
    envelope: Envelope,
    held: boolean,
    waitMs: number,
    entries: OutboxEntry[],
    events: TroupeEvent[],
  ): void {
    if (held) {
      meta.held!.shift()
      if (meta.held!.length === 0) delete meta.held
    } else {
      this.noteRead(meta, source, sequenceNumber, envelope, member, arrivedAt)
    }
    ;(meta.parked ??= []).push(envelope)
    const reason = `no token of ${type.type}'s throttle for key "${key}" (next in ${waitMs} ms); ${meta.parked.length} message(s) wait`
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'throttled', reason, {}))
    events.push({ type: '@troupe.throttled', at: this.clock.now(), actor: type.type, key, waitMs, scope: type.kind === 'singleton' ? 'type' : 'key' })
  }

  /**
   * The throttle's part of a commit: the bucket as it is now, and a wake-up timer for parked
   * messages, due when tokens are there (`wakeDelayMs`). A paused instance gets none: its resume wakes it.
   * Once nothing is parked, a pending wake-up is cancelled.
   */
  private throttleCommit(type: ActorType, key: string, meta: InstanceMeta, bucket: TokenBucket, rate: Required<Rate>, paused: boolean, version: number, entries: OutboxEntry[]): void {
    const now = this.clock.now()
    meta.bucket = bucket.save()
    if (meta.parked !== undefined && meta.wake === undefined && !paused) {
      const timer = wakeTimer(type.type, key, meta.parked[0]!, version, now + wakeDelayMs(bucket, rate, meta.parked.length, now))
      meta.wake = { id: timer.id, dueAt: timer.dueAt }
      entries.push({ kind: 'schedule', timer })
    } else if (meta.parked === undefined && meta.wake !== undefined) {
      entries.push({ kind: 'cancel', timerId: meta.wake.id })
      delete meta.wake
    }
  }

  /**
   * Whether a type's turns have their large bodies kept out of line: every type's with the app's
   * claim check; without it only the joiner's, whose join of a large fork no record could carry
   * (measuring every body costs an encoding per message).
   */
  private offloads(type: ActorType): boolean {
    return this.options.claimCheck !== undefined || (this.claimCheck !== undefined && type.type === JOINER)
  }

  /** A turn's messages with large bodies put in the payload store, before the commit that keeps them in its outbox. */
  private async offload(entries: OutboxEntry[]): Promise<OutboxEntry[]> {
    const claimCheck = this.claimCheck!
    return Promise.all(entries.map(async (e) => (e.kind === 'message' ? { kind: 'message' as const, envelope: await claimCheck.offload(e.envelope) } : e)))
  }

  private segmentId(name: string, segment: OutboxSegment): string {
    return `${name}\u0000${segment.lane}\u0000${segment.pos}\u0000${segment.spilled?.count ?? segment.entries.length}`
  }

  private sentHere(name: string, segment: OutboxSegment): boolean {
    return this.sent.has(this.segmentId(name, segment))
  }

  private rememberSent(name: string, segment: OutboxSegment): void {
    const id = this.segmentId(name, segment)
    this.sent.delete(id)
    this.sent.add(id)
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.values().next().value!)
  }

  /** Counts and events of what an instance's commit made true. */
  private committed(type: ActorType, events: readonly TroupeEvent[]): void {
    const counts = this.counts.get(type.type)!
    for (const e of events) {
      if (e.type === '@troupe.done') counts.done++
      else if (e.type === '@troupe.filtered') counts.filtered++
      else if (e.type === '@troupe.dead') counts.dead++
      else if (e.type === '@troupe.throttled') counts.throttled++
      this.options.onEvent?.(e)
    }
  }

  // ── one message ──────────────────────────────────────────────────────────

  /** Runs a message's attempts, retrying in place while the deadline allows. */
  private async runMessage(type: ActorType, envelope: Envelope, state: unknown, failures: AttemptRecord[], deadline: number): Promise<TurnEnd> {
    for (;;) {
      envelope.attempt = failures.length + 1
      const start = startState(type, state)
      // Kept apart: `state` stays as it was even after a successful turn (its size may still refuse it).
      const ctx: Turn = new EnvelopeTurn(this, { key: envelope.key }, envelope, start, this.clock.now(), turnJournal(type, start, 'apart'))
      const outcome = await runTurn(this.rules, type, ctx)
      if (outcome.end === 'done') {
        this.onceResults.forget(envelope.id)
        return this.done(ctx, outcome.reply)
      }
      if (outcome.end === 'filtered') {
        this.onceResults.forget(envelope.id)
        return this.filtered(envelope, outcome.reason)
      }
      failures.push(outcome.attempt)
      if (outcome.retryInMs === undefined) {
        this.onceResults.forget(envelope.id)
        return this.dead(type, envelope, outcome.error, failures)
      }
      // Left for redelivery: its `once` results stay for the next attempt, which may run here.
      const delayMs = outcome.retryInMs
      const now = this.clock.now()
      if (now + delayMs >= deadline) return { end: 'later', failures }
      this.counts.get(type.type)!.retried++
      this.options.onEvent?.({ type: '@troupe.retried', at: now, envelope, error: outcome.error, delayMs })
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delayMs))
    }
  }

  private done(ctx: Turn, reply: unknown): Ended {
    const envelope = ctx.message
    const entries: OutboxEntry[] = []
    for (const effect of doneEffects(ctx, reply) ?? []) entries.push(this.entry(effect, envelope))
    const extra = this.extras.get(ctx)
    if (extra) entries.push(...extra)
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'done', undefined, envelope.receipt === 'reply' ? this.replyOf(envelope, reply) : {}))
    const at = this.clock.now()
    return { end: 'done', state: ctx.state, entries, events: [{ type: '@troupe.done', at, envelope, durationMs: at - ctx.startedAt }] }
  }

  /**
   * The reply of an `ask`, kept with its receipt; a reply too large to keep is an error for the
   * asker instead (the turn itself succeeded, and its state and messages stand).
   */
  private replyOf(envelope: Envelope, reply: unknown): { reply?: string; error?: ErrorRecord } {
    const text = encode(reply)
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
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'filtered', reason, { error }))
    return { end: 'filtered', entries, events: [{ type: '@troupe.filtered', at: this.clock.now(), envelope, reason }] }
  }

  private dead(type: ActorType, envelope: Envelope, error: unknown, attempts: AttemptRecord[]): Ended {
    // A body kept out of line stays there: the letter keeps its reference, as the record had it.
    const kept = this.claimCheck?.travelled(envelope) ?? envelope
    const letter = deadLetter({ ...kept }, error, attempts, this.clock.now())
    const record = letter.error
    const entries: OutboxEntry[] = [{ kind: 'dead', letter }]
    if (envelope.fork !== undefined) entries.push(this.report(envelope, { ok: false, status: 'dead', error: record }))
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'dead', record.message, { error: record }))
    logDead(this.logger, envelope, record)
    return { end: 'dead', entries, events: [{ type: '@troupe.dead', at: this.clock.now(), envelope, error }] }
  }

  /**
   * A turn whose state would not fit the item is a dead letter. The letter is written at once,
   * not carried in the outbox: it holds the message, which beside a state near the limit may not
   * fit the commit either (the commit would then fail on every delivery). Written early, it is
   * still written once per message id: a rerun of the same turn finds the same state too large.
   */
  private async tooLarge(type: ActorType, envelope: Envelope, prior: AttemptRecord[], bytes: number, what: 'state' | 'outbox'): Promise<Ended> {
    const error = new ItemTooLargeError(type.type === JOINER && what === 'state' ? 'join' : what, `${type.type}#${envelope.key}`, bytes)
    const now = this.clock.now()
    const ended = this.dead(type, envelope, error, [...prior, { attempt: envelope.attempt, startedAt: now, endedAt: now, error: errorRecord(error) }])
    const letters = ended.entries.flatMap((e) => (e.kind === 'dead' ? [e.letter] : []))
    await this.options.journal.putDeadLetters(letters)
    return { ...ended, entries: ended.entries.filter((e) => e.kind !== 'dead') }
  }

  /** A turn's effect as an outbox entry: a told message becomes its envelope. */
  private entry(effect: Effect, cause: Cause): OutboxEntry {
    if (effect.kind === 'schedule') return { kind: 'schedule', timer: effect.timer }
    if (effect.kind === 'cancel') return { kind: 'cancel', timerId: effect.timerId }
    const envelope = toldEnvelope(effect, this.typeOf(effect.target), cause, this.clock.now())
    if (effect.receipt || this.options.receiptsForAll) envelope.receipt = 'status'
    return { kind: 'message', envelope }
  }

  /** Tells a fork's joiner how a child ended. */
  private report(child: Envelope, outcome: ChildOutcome): OutboxEntry {
    return this.entry(forkReport(child, outcome), child)
  }

  private receiptEntry(envelope: Envelope, status: MessageStatus, reason: string | undefined, extra: { reply?: string; error?: ErrorRecord }): OutboxEntry {
    return { kind: 'receipt', record: this.receiptRecord(envelope, status, reason, extra) }
  }

  /** One receipt entry of a message, expiring after the receipt TTL. */
  receiptRecord(
    envelope: Pick<Envelope, 'id' | 'type' | 'key' | 'attempt'> & Partial<Pick<Envelope, 'correlationId' | 'parentId' | 'sentAt'>>,
    status: MessageStatus,
    reason: string | undefined,
    extra: { reply?: string; error?: ErrorRecord } = {},
  ): ReceiptRecord {
    const at = this.clock.now()
    const record: ReceiptRecord = {
      id: envelope.id,
      actor: envelope.type,
      key: envelope.key,
      entry: { status, at, attempt: envelope.attempt, ...(reason === undefined ? {} : { reason }) },
      ...extra,
      expiresAt: at + this.receiptTtlMs,
    }
    if (envelope.correlationId !== undefined) {
      record.trace = { correlationId: envelope.correlationId, sentAt: envelope.sentAt ?? at, ...(envelope.parentId !== undefined ? { parentId: envelope.parentId } : {}) }
    }
    for (const watched of this.directAnswers) if (watched.envelope === record.id) watched.record = record
    return record
  }

  /** Adds an entry to a running turn's outbox, for effects that are not messages or timers. */
  addEntry(ctx: Context<any>, entry: OutboxEntry): void {
    const turn = ctx as unknown as Turn
    const list = this.extras.get(turn)
    if (list) list.push(entry)
    else this.extras.set(turn, [entry])
  }

  /** Carries out entries made outside a turn (system.fork): same rules as an outbox, its messages at one position of this process's lane. */
  async sendEntries(entries: readonly OutboxEntry[]): Promise<void> {
    const pos = this.lane.take()
    try {
      placeMessages(entries, this.lane.lane, String(pos), 0, this.lane.fence())
      await this.outbox.send(entries)
    } finally {
      this.lane.settle(pos)
    }
  }

  /** Effects made outside a turn, as outbox entries caused by `cause`. */
  entries(effects: readonly Effect[], cause: Cause): OutboxEntry[] {
    return effects.map((e) => this.entry(e, cause))
  }

  // ── TurnHost and JoinerHost ──────────────────────────────────────────────

  checkOutgoing(target: ActorClass | string, body: unknown): unknown {
    return this.typeOf(target).checkOutgoing(body, this.checkSerializable)
  }


  once<T>(messageId: MessageId, name: string, fn: () => T | Promise<T>): Promise<T> {
    return this.onceResults.run(messageId, name, fn)
  }

  now(): number {
    return this.clock.now()
  }

  planFork(plan: ForkPlan): Effect[] {
    return planFork(plan, {
      typeOf: (actor) => this.typeOf(actor).type,
      checkSerializable: this.checkSerializable,
      now: this.clock.now(),
      // A tree of joiners needs the overflow store for its groups' replies.
      ...(this.options.overflow ? { groupSize: JOIN_GROUP_SIZE } : {}),
    })
  }

  /** A stream redelivers: a joined fork keeps a small record that recognises late replies, until it expires. */
  readonly keepJoinedRecords = true

  async lastStatus(messageId: string): Promise<MessageStatus | undefined> {
    const receipt = await this.options.journal.receipt(messageId, this.clock.now())
    return receipt?.status
  }

  tellFired(ctx: Context<TimerState>, firing: TimerFiring): void {
    const envelope = firedEnvelope(firing, this.typeOf(firing.target), this.clock.now())
    if (this.options.receiptsForAll) envelope.receipt = 'status'
    this.addEntry(ctx, { kind: 'message', envelope })
  }

  async keep(key: string, value: unknown): Promise<void> {
    await this.options.overflow!.put(key, Buffer.from(encode(value), 'utf8'), this.clock.now() + this.tombstoneTtlMs)
  }

  async read(key: string): Promise<unknown> {
    const data = await this.options.overflow!.get(key)
    if (data === undefined) throw new TroupeError('TROUPE_OVERFLOW_MISSING', `the fork's replies kept under ${key} are not in the overflow store`)
    return decode(Buffer.from(data).toString('utf8'))
  }

  /** With an overflow store, a reply over this many bytes (as superjson text) is kept out of the joiner's item. */
  large(reply: unknown): boolean {
    if (this.options.overflow === undefined || reply === null || (typeof reply !== 'object' && typeof reply !== 'string')) return false
    if (typeof reply === 'string') return reply.length > LARGE_REPLY_BYTES / 4 && Buffer.byteLength(reply) > LARGE_REPLY_BYTES
    return Buffer.byteLength(encode(reply)) > LARGE_REPLY_BYTES
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The keys a commit's outbox spilled that the stored item did not refer to already. */
function newSpills(storedMeta: string | undefined, meta: InstanceMeta): string[] {
  const before = new Set(spilledKeys(decodeMeta(storedMeta).outbox))
  return spilledKeys(meta.outbox).filter((key) => !before.has(key))
}
