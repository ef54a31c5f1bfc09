// The durable host: runs one batch of records from one shard, the way DESIGN.md's "A turn on
// AWS" describes. The Lambda handler and the shard consumer both hand it their batches.
//
//   decode → group by instance (stream order kept) → load every state in one BatchGetItem →
//   per instance: re-send an unconfirmed outbox, run its turns in order (instances run
//   concurrently), skipping what was applied → one conditional write per instance with state,
//   version, watermarks, recent ids and the outbox → send the outbox → report the earliest
//   record not finished, so the stream delivers exactly the unfinished tail again.
//
// Nothing leaves from state that was not committed: a turn's messages, timers, receipts and
// dead letters are entries of the outbox, carried out after the commit. A conflict (another
// host moved the instance first) reloads it and runs its turns again; the losing run's outbox
// was never sent.
import { JOINER, joinerActor, type JoinerHost, type JoinerState, type Outcome } from '../../../actors/joiner.js'
import type { ActorClass } from '../../core/actor.js'
import { systemClock, type Clock } from '../../core/clock.js'
import type { Context } from '../../core/context.js'
import { makeEnvelope, type Envelope } from '../../core/envelope.js'
import { ConfigError, ItemTooLargeError, StoreConflictError, TroupeError, TurnTimeoutError, UnknownActorError } from '../../core/errors.js'
import type { Filter } from '../../core/filter.js'
import type { ForkMembership } from '../../core/fork.js'
import { derivedId, type CorrelationId, type MessageId } from '../../core/ids.js'
import type { ActorCounts, TroupeEvent } from '../../core/inspection.js'
import { createLogger, type Logger } from '../../core/logger.js'
import type { MessageStatus } from '../../core/receipt.js'
import { KeyedSequence } from '../../core/keyed-sequence.js'
import { decode, encode } from '../../core/serialization.js'
import { StateJournal } from '../../core/state-journal.js'
import { assertSerializable } from '../../core/validate.js'
import { PayloadError, type ClaimCheck } from '../../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../../routing/record-codec.js'
import type { JournalStore, ReceiptRecord, StateStore, StoredInstance, StoredReceipt, TimerStore } from '../../store/index.js'
import { assembleReceipt } from '../../store/memory-journal.js'
import { errorRecord, type AttemptRecord, type DeadLetter, type ErrorRecord } from '../../supervisor/dead-letter.js'
import type { Rate } from '../../supervisor/policy.js'
import { ActorType, registeredType } from '../actor-type.js'
import type { Effect, ForkPlan } from '../effect.js'
import { planFork } from '../fork-plan.js'
import { ENVELOPE, TurnContext, type TurnHost, type TurnSlot } from '../turn-context.js'
import { applyFilters, nextAttemptDelayMs } from '../turn-rules.js'
import { TokenBucket } from '../../supervisor/token-bucket.js'
import { applied, decodeMeta, encodeMeta, reached, remember, type InstanceMeta, type MemberPosition } from './instance-meta.js'
import { instanceRate, unappliedThrottle, wakeDelayMs, wakeTimer } from './instance-throttle.js'
import { OutboxSender, type MessageSender, type OutboxEntry } from './outbox.js'
import { earliest } from './sequence.js'

/** One record of a batch: its place in the shard and its data (bytes, or base64 from a Lambda event). */
export interface DurableRecord {
  sequenceNumber: string
  data: Uint8Array | string
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
  /** Ids remembered per instance to drop duplicates that come under a new sequence number. @default 64 */
  recentIds?: number
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
type Turn = TurnContext<unknown, Slot>

/** One instance's records in this batch, in stream order. */
interface Group {
  type: ActorType
  key: string
  /**
   * `sequenceNumber` is undefined for a message invoked directly rather than read from a shard;
   * `member` is set for a message that came in an aggregate record (its members share the number).
   */
  records: { sequenceNumber: string | undefined; envelope: Envelope; member?: MemberPosition }[]
  stored?: StoredInstance
  /** The whole type is paused (its pause item was found with the state). */
  typePaused?: boolean
  /** The throttle's wake-up timer that made this run (no records): its parked messages run. */
  wake?: string
}

/** How a message ended in this run; `later`: it failed and its retry is left for redelivery. */
type Ended =
  | { end: 'done'; state: unknown; entries: OutboxEntry[]; events: TroupeEvent[] }
  | { end: 'filtered' | 'dead'; entries: OutboxEntry[]; events: TroupeEvent[] }
type TurnEnd = Ended | { end: 'later'; failures: AttemptRecord[] }

/** Reruns of one instance after lost conditional writes, before its records are left for redelivery. */
const MAX_CONFLICT_ROUNDS = 5
/** Outboxes remembered as sent, so the common path pays no extra request. */
const SENT_MEMORY = 10_000
const DAY_MS = 24 * 60 * 60_000
/** The largest `ask` reply kept: a receipt entry is one DynamoDB item of at most 400 KB. */
const MAX_REPLY_BYTES = 380 * 1024

/** What a direct invocation reports as its unfinished record: it has no sequence number. */
const DIRECT = ''
/** The watermark key of direct invocations: never used, since they have no sequence numbers. */
const INVOKE_SHARD = 'invoke'
/** The watermark key of a throttle's wake-up runs: never used, they run no records. */
const WAKE_SHARD = 'wake'
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

export class DurableHost implements TurnHost<Slot>, JoinerHost {
  readonly logger: Logger
  readonly clock: Clock
  readonly types = new Map<string, ActorType>()
  readonly counts = new Map<string, ActorCounts & { duplicates: number; conflicts: number }>()
  private readonly byClass = new Map<ActorClass, ActorType>()
  private readonly filters: readonly Filter[]
  private readonly random: () => number
  private readonly checkSerializable: boolean
  private readonly recentIds: number
  private readonly receiptTtlMs: number
  private readonly tombstoneTtlMs: number
  private readonly concurrency: number
  private readonly codec: RecordCodec
  private readonly outbox: OutboxSender
  /** `type#key` → the version whose outbox this host saw sent. */
  private readonly sent = new Map<string, number>()
  private readonly onceResults = new Map<string, Promise<unknown>>()
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
    this.filters = options.filters ?? []
    this.random = options.random ?? Math.random
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.recentIds = options.recentIds ?? 64
    this.receiptTtlMs = options.receiptTtlMs ?? DAY_MS
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? 8 * DAY_MS
    this.concurrency = options.concurrency ?? 32
    this.codec = options.codec ?? defaultRecordCodec
    this.outbox = new OutboxSender(options.messages, options.timers, options.journal, () => this.clock.now(), options.onTimer, options.onReceipts)
    const builtins = [joinerActor(this), ...(options.builtins ?? []).map((make) => make(this))]
    for (const cls of [...options.actors, ...builtins]) {
      const type = new ActorType(cls)
      const twin = this.types.get(type.type)
      if (twin) throw new ConfigError(`two actor classes are named "${type.type}": ${twin.cls.name} and ${cls.name}; static type must be unique`)
      this.types.set(type.type, type)
      this.byClass.set(cls, type)
      this.counts.set(type.type, { accepted: 0, done: 0, filtered: 0, dead: 0, retried: 0, throttled: 0, duplicates: 0, conflicts: 0 })
      const unapplied = unappliedThrottle(type)
      if (unapplied !== undefined) this.logger.warn(unapplied, { actor: type.type })
    }
  }

  /** The actor type of a class or name; throws naming the known ones. */
  typeOf(target: ActorClass | string): ActorType {
    const type = typeof target === 'string' ? this.types.get(target) : registeredType(target, this.byClass, this.types)
    if (type) return type
    const name = typeof target === 'string' ? target : `${String((target as { type?: unknown })?.type)} (class ${(target as { name?: string })?.name})`
    throw new UnknownActorError(name, [...this.types.keys()])
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
        if (this.options.claimCheck) {
          try {
            envelope = await this.options.claimCheck.restore(envelope)
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
        if (type === undefined) {
          const error = new UnknownActorError(envelope.type, [...this.types.keys()], `for message ${envelope.id} in this host`)
          undecodable.push({ sequenceNumber: record.sequenceNumber, letter: { envelope, error: errorRecord(error), attempts: [], deadAt: this.clock.now() } })
          continue
        }
        // Unkeyed stateless messages need no order: each is a group of its own.
        const id = type.kind === 'stateless' ? `${envelope.type}\u0000${envelope.id}\u0000${record.sequenceNumber}` : `${envelope.type}\u0000${envelope.key}`
        let group = groups.get(id)
        if (!group) groups.set(id, (group = { type, key: envelope.key, records: [] }))
        group.records.push({ sequenceNumber: record.sequenceNumber, envelope, ...(member ? { member } : {}) })
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
    const stateful = all.filter((g) => g.type.stateful)
    if (stateful.length !== 0) {
      try {
        // The types' pause items come in the same read as the state.
        const types = [...new Set(stateful.map((g) => g.type.type))]
        const refs = [...stateful.map((g) => ({ type: g.type.type, key: g.key })), ...types.map((t) => pauseRef(t))]
        const loaded = this.options.state.getMany ? await this.options.state.getMany(refs) : await Promise.all(refs.map((r) => this.options.state.get(r.type, r.key)))
        const paused = new Set(types.filter((_, i) => loaded[stateful.length + i] !== undefined))
        stateful.forEach((g, i) => {
          g.stored = loaded[i]
          g.typePaused = paused.has(g.type.type)
        })
      } catch (error) {
        this.logger.error('could not load state; the batch will be delivered again', { shard, error: message(error) })
        return { ...result, failedFrom: batch.records[0]?.sequenceNumber }
      }
    }

    let next = 0
    const worker = async () => {
      while (next < all.length) {
        const group = all[next++]!
        const failed = await this.runGroup(group, shard, deadline, result)
        failedFrom = earliest(failedFrom, failed)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, all.length) }, worker))
    if (failedFrom !== undefined) result.failedFrom = failedFrom
    return result
  }

  /**
   * Runs one message sent straight to this host (a Lambda `Invoke` from `ask`), under the same
   * conditional commit as the stream path, so a batch for the same key running at the same
   * time costs a rerun, never a lost update. A repeat of the same message id is not applied
   * again. Resolves to the message's receipt (with the reply), or undefined when the turn could
   * not finish (out of time, or the store or stream failed): the caller may try again. The
   * receipt is the entry this run committed and sent (its history holds that entry alone); only
   * a repeat, which this run did not apply, is read back from the journal.
   */
  async handleDirect(envelope: Envelope, deadline = Infinity, after?: { stream: string; shardId: string; sequenceNumber: string; member?: number }): Promise<StoredReceipt | undefined> {
    const type = this.typeOf(envelope.type)
    if (this.options.claimCheck) envelope = await this.options.claimCheck.restore(envelope)
    envelope.receipt = 'reply'
    const group: Group = { type, key: envelope.key, records: [{ sequenceNumber: undefined, envelope }] }
    if (type.stateful) {
      const loaded = await this.loadPast(type.type, envelope.key, after, Math.min(deadline, this.clock.now() + DIRECT_WAIT_MS))
      if (loaded === NOT_YET) return undefined
      group.stored = loaded.stored
      group.typePaused = loaded.typePaused
    }
    // The receipt entry the turn makes is caught here: the answer needs no read after the send.
    const watched = { envelope: envelope.id, record: undefined as ReceiptRecord | undefined }
    this.directAnswers.add(watched)
    try {
      const failed = await this.runGroup(group, INVOKE_SHARD, deadline, { applied: 0, duplicates: 0, conflicts: 0 })
      if (failed !== undefined) return undefined
    } finally {
      this.directAnswers.delete(watched)
    }
    if (watched.record === undefined) return this.options.journal.receipt(envelope.id, this.clock.now())
    return assembleReceipt(envelope.id, [watched.record])
  }

  /**
   * Runs an instance's parked (throttled) messages, in order, as far as its tokens allow: their
   * wake-up timer `timerId` came due. What stays parked gets a new timer. Rejects when they could
   * not run, so the timer is kept and fires again.
   */
  async wake(typeName: string, key: string, timerId: string): Promise<void> {
    const type = this.types.get(typeName)
    if (type === undefined || !type.stateful) {
      this.logger.error('a throttle wake-up names an actor this host does not run; its parked messages stay in the item', { actor: typeName, key: key || undefined, timerId })
      return
    }
    const group: Group = { type, key, records: [], wake: timerId }
    const failed = await this.runGroup(group, WAKE_SHARD, Infinity, { applied: 0, duplicates: 0, conflicts: 0 })
    if (failed !== undefined) throw new TroupeError('TROUPE_WAKE_UNFINISHED', `the parked messages of ${type.type}#${key} did not all run; their wake-up ${timerId} fires again`)
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

  /** A record that is no envelope: kept as a dead letter with what could be read of it. */
  private undecodable(record: DurableRecord, shard: string, reason: string, messageId: string | undefined, actor: string | undefined): DeadLetter {
    const id = (messageId ?? `record-${shard}-${record.sequenceNumber}`) as MessageId
    const raw = typeof record.data === 'string' ? record.data : Buffer.from(record.data).toString('base64')
    const envelope = makeEnvelope({
      id,
      type: actor ?? '(unreadable)',
      key: '',
      // Enough of the record to see what it was; the whole of it may be the problem.
      body: { base64: raw.length > 4096 ? `${raw.slice(0, 4096)}…` : raw, bytes: Math.floor((raw.length * 3) / 4), shard, sequenceNumber: record.sequenceNumber },
      correlationId: id as string as CorrelationId,
      sentAt: this.clock.now(),
    })
    const error = new TroupeError('TROUPE_BAD_RECORD', `record ${record.sequenceNumber} of ${shard} is not a message troupe can read: ${reason}`)
    return { envelope, error: errorRecord(error), attempts: [], deadAt: this.clock.now() }
  }

  // ── one instance ─────────────────────────────────────────────────────────

  /**
   * Runs a group until it commits; returns the earliest record left unfinished, if any. An
   * instance runs one group at a time in this host: a throttle's wake-up and a batch for the same
   * key would otherwise both run turns (and their side effects, such as a request to a throttled
   * host) before one of them lost its commit.
   */
  private async runGroup(group: Group, shard: string, deadline: number, result: BatchResult): Promise<string | undefined> {
    if (!group.type.stateful) return this.runGroupRounds(group, shard, deadline, result)
    return this.runningHere.run(`${group.type.type}#${group.key}`, () => this.runGroupRounds(group, shard, deadline, result))
  }

  private async runGroupRounds(group: Group, shard: string, deadline: number, result: BatchResult): Promise<string | undefined> {
    const first = group.records[0]?.sequenceNumber ?? DIRECT
    let checkEach = false
    for (let round = 0; ; round++) {
      try {
        // A wake-up reads its instance only once its turn to run has come.
        if ((round !== 0 || group.wake !== undefined) && group.type.stateful) {
          group.stored = await this.options.state.get(group.type.type, group.key)
          group.typePaused = (await this.options.state.get(PAUSE_TYPE, group.type.type)) !== undefined
        }
        return await this.runGroupOnce(group, shard, deadline, result, checkEach)
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

  private async runGroupOnce(group: Group, shard: string, deadline: number, result: BatchResult, checkEach: boolean): Promise<string | undefined> {
    const { type, key, stored } = group
    const meta = decodeMeta(stored?.meta)
    const name = `${type.type}#${key}`
    if (meta.outbox !== undefined && stored !== undefined && this.sent.get(name) !== stored.version) {
      // The last commit's send was never confirmed to this host: send it (again) first.
      await this.outbox.send(meta.outbox)
      this.rememberSent(name, stored.version)
    }
    let state: unknown = stored === undefined ? undefined : decode(stored.state)
    const entries: OutboxEntry[] = []
    const events: TroupeEvent[] = []
    let changed = false
    let failedAt: string | undefined
    let appliedHere = 0
    let duplicates = 0
    const paused = type.stateful && (meta.paused === true || group.typePaused === true)
    // After a resume, what was held runs first, in the order it came, before this batch's records.
    const heldFirst = !paused && meta.held !== undefined ? meta.held.map((envelope) => ({ sequenceNumber: undefined, envelope, held: true, parked: false, member: undefined })) : []
    // Parked (throttled) messages came before any held one: a message is held only while paused,
    // and parked only while not. They run first, as far as the key's tokens allow.
    const parkedFirst = !paused && meta.parked !== undefined ? meta.parked.map((envelope) => ({ sequenceNumber: undefined, envelope, held: false, parked: true, member: undefined })) : []
    const rate = instanceRate(type)
    const bucket = rate && new TokenBucket(rate, this.clock.now(), meta.bucket)
    // A message found no token: everything after it waits behind it, parked in order.
    let waiting = false
    if (group.wake !== undefined && meta.wake?.id === group.wake) {
      // This wake-up's timer is spent: the commit puts a new one if messages stay parked.
      delete meta.wake
      changed = true
    }
    const firstRecord = group.records[0]?.sequenceNumber ?? DIRECT
    // Held messages run here, by id: the wake-up copy resume put on the stream is one of them
    // (and a dead one, or one past the recent ids, would not be recognised otherwise).
    const ranHeld = new Set<string>()
    for (const { sequenceNumber, envelope, held, parked, member } of [...parkedFirst, ...heldFirst, ...group.records.map((r) => ({ ...r, held: false, parked: false }))]) {
      if (
        type.stateful &&
        !held &&
        !parked &&
        (applied(meta, shard, sequenceNumber, envelope.id, member?.index) || ranHeld.has(envelope.id) || meta.held?.some((h) => h.id === envelope.id) || meta.parked?.some((p) => p.id === envelope.id))
      ) {
        duplicates++
        continue
      }
      if (!held && !parked && meta.held !== undefined && !paused) {
        // A held message before it could not finish: this one waits for the redelivery.
        failedAt = earliest(failedAt, sequenceNumber ?? DIRECT)
        break
      }
      if (paused) {
        // Held in the item: the shard moves on, other keys flow, nothing is retried or lost.
        ;(meta.held ??= []).push(envelope)
        remember(meta, shard, sequenceNumber, envelope.id, 0, member)
        if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'paused', undefined, {}))
        changed = true
        continue
      }
      if (this.clock.now() >= deadline) {
        failedAt = held || parked ? firstRecord : (sequenceNumber ?? DIRECT)
        break
      }
      if (bucket !== undefined) {
        const now = this.clock.now()
        const waitMs = bucket.waitMs(now)
        if (waiting || waitMs !== 0) {
          waiting = true
          if (!parked) this.park(type, key, meta, shard, sequenceNumber, member, envelope, held, Math.max(waitMs, 1), entries, events)
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
      let end: Ended = ran
      if (this.options.claimCheck && end.entries.length !== 0) end = { ...end, entries: await this.offload(end.entries) }
      if (checkEach && end.end === 'done' && this.options.maxItemBytes !== undefined) {
        const bytes = Buffer.byteLength(encode(end.state)) + Buffer.byteLength(encodeMeta({ ...meta, outbox: [...entries, ...end.entries] }))
        if (bytes > this.options.maxItemBytes) end = await this.tooLarge(type, envelope, prior, bytes)
      }
      delete meta.failing
      if (end.end === 'done') state = end.state
      entries.push(...end.entries)
      events.push(...end.events)
      // A dead message's id is not remembered, so a replay of it (same id) runs.
      remember(meta, shard, sequenceNumber, envelope.id, end.end === 'dead' ? 0 : this.recentIds, member)
      changed = true
      appliedHere++
    }

    if (type.stateful && changed) {
      const version = (stored?.version ?? 0) + 1
      if (bucket !== undefined) this.throttleCommit(type, key, meta, bucket, rate!, paused, version, entries)
      if (entries.length !== 0) meta.outbox = entries
      else delete meta.outbox
      const item: StoredInstance = { state: encode(state), version, updatedAt: this.clock.now(), meta: encodeMeta(meta) }
      // A deleted instance keeps its watermarks for a while, to recognise redelivered messages.
      // A paused one (its item holds the pause, and maybe held messages) never expires.
      if (state === undefined && !meta.paused && meta.held === undefined && meta.parked === undefined) item.expiresAt = item.updatedAt + this.tombstoneTtlMs
      if (this.options.maxItemBytes !== undefined && !checkEach && Buffer.byteLength(item.state) + Buffer.byteLength(item.meta!) > this.options.maxItemBytes) {
        throw new TooLarge()
      }
      await this.options.state.put(type.type, key, item, stored?.version)
      group.stored = item
      // A paused instance's parked messages wait for its resume, not for a wake-up: not counted.
      if (meta.parked !== undefined && meta.wake !== undefined) this.parkedHere.set(name, meta.parked.length)
      else this.parkedHere.delete(name)
      this.options.onCommit?.(type.type, key, state, item.updatedAt, group.records.at(-1)?.envelope.id)
      this.committed(type, events)
      if (entries.length !== 0) {
        try {
          await this.outbox.send(entries)
          this.rememberSent(name, version)
        } catch (error) {
          // Committed: the next delivery finds the outbox unconfirmed and sends it.
          this.logger.warn('outbox not sent after commit; it goes out on redelivery', { actor: type.type, key: key || undefined, error: message(error) })
          failedAt = earliest(failedAt, group.records[0]?.sequenceNumber ?? DIRECT)
        }
      }
    } else if (!type.stateful && entries.length !== 0) {
      // Nothing to commit: the turn's outbox goes out now (a replayed turn sends the same ids).
      try {
        await this.outbox.send(entries)
        this.committed(type, events)
      } catch (error) {
        this.logger.warn('outbox of a stateless turn not sent; it runs again on redelivery', { actor: type.type, error: message(error) })
        failedAt = earliest(failedAt, group.records[0]?.sequenceNumber ?? DIRECT)
      }
    } else {
      this.committed(type, events)
    }
    result.applied += appliedHere
    result.duplicates += duplicates
    this.counts.get(type.type)!.duplicates += duplicates
    return failedAt
  }

  /**
   * Parks a message that found no token (or came behind one that did not): kept in the item in
   * order, its record marked read so the shard moves on, its receipt saying it is throttled.
   */
  private park(
    type: ActorType,
    key: string,
    meta: InstanceMeta,
    shard: string,
    sequenceNumber: string | undefined,
    member: MemberPosition | undefined,
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
      remember(meta, shard, sequenceNumber, envelope.id, 0, member)
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

  /** A turn's messages with large bodies put in the payload store, before the commit that keeps them in its outbox. */
  private async offload(entries: OutboxEntry[]): Promise<OutboxEntry[]> {
    const claimCheck = this.options.claimCheck!
    return Promise.all(entries.map(async (e) => (e.kind === 'message' ? { kind: 'message' as const, envelope: await claimCheck.offload(e.envelope) } : e)))
  }

  private rememberSent(name: string, version: number): void {
    this.sent.delete(name)
    this.sent.set(name, version)
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.keys().next().value!)
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
      const startedAt = this.clock.now()
      const start = type.kind === 'stateless' ? undefined : state === undefined ? type.initialState() : state
      // Kept apart: `state` stays as it was even after a successful turn (its size may still refuse it).
      const journal = type.kind === 'stateless' ? undefined : new StateJournal(start, { apart: true })
      const ctx: Turn = new TurnContext(this, { key: envelope.key }, envelope, ENVELOPE, envelope.sentAt, start, startedAt, journal)
      try {
        if (this.filters.length !== 0 || type.hasFilter) {
          const reason = applyFilters(type, envelope, this.filters, this.checkSerializable)
          if (reason !== undefined) {
            ctx.closed = true
            return this.filtered(envelope, reason)
          }
        }
        const reply = ctx.keep(await this.receive(type, ctx))
        if (this.checkSerializable) {
          if (type.stateful) assertSerializable(type.type, 'state', ctx.state)
          assertSerializable(type.type, 'reply', reply)
        }
        ctx.closed = true
        return this.done(ctx, reply)
      } catch (error) {
        ctx.closed = true
        ctx.rollback()
        const now = this.clock.now()
        failures.push({ attempt: envelope.attempt, startedAt, endedAt: now, error: errorRecord(error) })
        const delayMs = nextAttemptDelayMs(type, error, envelope.attempt, this.random)
        if (delayMs === undefined) return this.dead(type, envelope, error, failures)
        if (now + delayMs >= deadline) return { end: 'later', failures }
        this.counts.get(type.type)!.retried++
        this.options.onEvent?.({ type: '@troupe.retried', at: now, envelope, error, delayMs })
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delayMs))
      }
    }
  }

  /** `receive`, bounded by the policy's attempt timeout. */
  private receive(type: ActorType, ctx: Turn): Promise<unknown> {
    const result = Promise.resolve().then(() => type.actor.receive(ctx.body, ctx))
    const timeoutMs = type.policy.attemptTimeoutMs
    if (timeoutMs === 0) return result
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new TurnTimeoutError(ctx.message.type, ctx.message.id, timeoutMs)), timeoutMs)
      result.then(
        (reply) => {
          this.clock.clearTimeout(timer)
          resolve(reply)
        },
        (error: unknown) => {
          this.clock.clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  private done(ctx: Turn, reply: unknown): Ended {
    const envelope = ctx.message
    const entries: OutboxEntry[] = []
    for (const effect of ctx.outbox ?? []) entries.push(this.entry(effect, envelope))
    const extra = this.extras.get(ctx)
    if (extra) entries.push(...extra)
    if (envelope.replyTo !== undefined) {
      entries.push(this.entry({ kind: 'tell', target: envelope.replyTo, id: ctx.nextId(), body: reply, replyTo: undefined, receipt: false }, envelope))
    }
    if (envelope.fork !== undefined && !ctx.forwarded) entries.push(this.report(envelope, { ok: true, reply }))
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
    const error: ErrorRecord = { name: 'Filtered', message: reason }
    const entries: OutboxEntry[] = []
    if (envelope.fork !== undefined) entries.push(this.report(envelope, { ok: false, status: 'filtered', error }))
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'filtered', reason, { error }))
    return { end: 'filtered', entries, events: [{ type: '@troupe.filtered', at: this.clock.now(), envelope, reason }] }
  }

  private dead(type: ActorType, envelope: Envelope, error: unknown, attempts: AttemptRecord[]): Ended {
    const record = errorRecord(error)
    // A body kept out of line stays there: the letter keeps its reference, as the record had it.
    const kept = this.options.claimCheck?.travelled(envelope) ?? envelope
    const entries: OutboxEntry[] = [{ kind: 'dead', letter: { envelope: { ...kept }, error: record, attempts, deadAt: this.clock.now() } }]
    if (envelope.fork !== undefined) entries.push(this.report(envelope, { ok: false, status: 'dead', error: record }))
    if (envelope.receipt !== undefined) entries.push(this.receiptEntry(envelope, 'dead', record.message, { error: record }))
    this.logger.warn('message dead-lettered', { actor: type.type, key: envelope.key || undefined, messageId: envelope.id, attempts: envelope.attempt, error: record.message })
    return { end: 'dead', entries, events: [{ type: '@troupe.dead', at: this.clock.now(), envelope, error }] }
  }

  /**
   * A turn whose state would not fit the item is a dead letter. The letter is written at once,
   * not carried in the outbox: it holds the message, which beside a state near the limit may not
   * fit the commit either (the commit would then fail on every delivery). Written early, it is
   * still written once per message id: a rerun of the same turn finds the same state too large.
   */
  private async tooLarge(type: ActorType, envelope: Envelope, prior: AttemptRecord[], bytes: number): Promise<Ended> {
    const error = new ItemTooLargeError('state', `${type.type}#${envelope.key}`, bytes)
    const now = this.clock.now()
    const ended = this.dead(type, envelope, error, [...prior, { attempt: envelope.attempt, startedAt: now, endedAt: now, error: errorRecord(error) }])
    const letters = ended.entries.flatMap((e) => (e.kind === 'dead' ? [e.letter] : []))
    await this.options.journal.putDeadLetters(letters)
    return { ...ended, entries: ended.entries.filter((e) => e.kind !== 'dead') }
  }

  /** A turn's effect as an outbox entry: a told message becomes its envelope. */
  private entry(effect: Effect, cause: Pick<Envelope, 'id' | 'correlationId'>): OutboxEntry {
    if (effect.kind === 'schedule') return { kind: 'schedule', timer: effect.timer }
    if (effect.kind === 'cancel') return { kind: 'cancel', timerId: effect.timerId }
    const target = this.typeOf(effect.target)
    const envelope = makeEnvelope({
      id: effect.id,
      type: target.type,
      key: target.keyOf(effect.body),
      body: effect.body,
      correlationId: cause.correlationId,
      parentId: cause.id,
      causationId: cause.id,
      sentAt: this.clock.now(),
      replyTo: effect.replyTo,
      fork: effect.fork,
    })
    if (effect.receipt || this.options.receiptsForAll) envelope.receipt = 'status'
    return { kind: 'message', envelope }
  }

  /** Tells a fork's joiner how a child ended; the id is fixed by the child's, so a repeat is a duplicate. */
  private report(child: Envelope, outcome: Outcome): OutboxEntry {
    const { forkId, index } = child.fork!
    return this.entry({ kind: 'tell', target: JOINER, id: derivedId(child.id, 'joined'), body: { op: 'reply', forkId, index, outcome }, replyTo: undefined, receipt: false }, child)
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
  addEntry(ctx: Context, entry: OutboxEntry): void {
    const turn = ctx as unknown as Turn
    const list = this.extras.get(turn)
    if (list) list.push(entry)
    else this.extras.set(turn, [entry])
  }

  /** Carries out entries made outside a turn (system.fork, timers): same rules as an outbox. */
  sendEntries(entries: readonly OutboxEntry[]): Promise<void> {
    return this.outbox.send(entries)
  }

  /** Effects made outside a turn, as outbox entries caused by `cause`. */
  entries(effects: readonly Effect[], cause: Pick<Envelope, 'id' | 'correlationId'>): OutboxEntry[] {
    return effects.map((e) => this.entry(e, cause))
  }

  // ── TurnHost and JoinerHost ──────────────────────────────────────────────

  rootEnvelope(): Envelope {
    // Every message of this host arrives as a full envelope.
    throw new TroupeError('TROUPE_INTERNAL', 'the durable host keeps no bare bodies')
  }

  checkOutgoing(target: ActorClass | string, body: unknown): unknown {
    return this.typeOf(target).checkOutgoing(body, this.checkSerializable)
  }


  /**
   * Runs `fn` once per message and name in this host, even across attempts. Another host that
   * redelivers the message runs it again: outside side effects are at least once on AWS.
   */
  once<T>(messageId: MessageId, name: string, fn: () => T | Promise<T>): Promise<T> {
    const k = `${messageId}\u0000${name}`
    let result = this.onceResults.get(k) as Promise<T> | undefined
    if (result === undefined) {
      result = Promise.resolve().then(fn)
      result.catch(() => this.onceResults.delete(k))
      this.onceResults.set(k, result)
      if (this.onceResults.size > SENT_MEMORY) this.onceResults.delete(this.onceResults.keys().next().value!)
    }
    return result
  }

  now(): number {
    return this.clock.now()
  }

  planFork(plan: ForkPlan): Effect[] {
    return planFork(plan, { typeOf: (actor) => this.typeOf(actor).type, checkSerializable: this.checkSerializable, now: this.clock.now() })
  }

  /** A stream redelivers: a joined fork keeps a small record that recognises late replies, until it expires. */
  readonly keepJoinedRecords = true

  async lastStatus(messageId: string): Promise<MessageStatus | undefined> {
    const receipt = await this.options.journal.receipt(messageId, this.clock.now())
    return receipt?.status
  }

  tellJoin(ctx: Context<JoinerState>, join: string, body: unknown, forward: ForkMembership | undefined): void {
    const turn = ctx as unknown as Turn
    const checked = this.checkOutgoing(join, body)
    ;(turn.outbox ??= []).push({ kind: 'tell', target: join, id: turn.nextId(), body: checked, replyTo: undefined, receipt: false, fork: forward })
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
