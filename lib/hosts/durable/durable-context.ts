// What the parts of the durable host share (durable-host.ts is the map): its options with their
// defaults, its clock, logger and counts, this process's lane, and the front ends of its stores
// (the outbox sender, the claim check, the overflow store for outboxes too large for an item).
import type { ActorType } from '../../turn/actor-type.js'
import { systemClock, type Clock } from '../../core/clock.js'
import { DEFAULT_TOMBSTONE_TTL_MS } from '../../core/defaults.js'
import type { Filter } from '../../core/filter.js'
import type { ActorCounts, TroupeEvent } from '../../core/inspection.js'
import { createLogger, type Logger } from '../../core/logger.js'
import { InFlightLimit } from '../../core/in-flight-limit.js'
import { ClaimCheck } from '../../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../../routing/record-codec.js'
import type { JournalStore, ReceiptRecord, SideEffectStore, StateStore, TimerStore, TypeBucketStore } from '../../store/index.js'
import { MemorySideEffects } from '../../store/memory-side-effects.js'
import { MemoryTypeBuckets } from '../../store/memory-type-buckets.js'
import type { TypeSlotStore } from '../../store/index.js'
import { MemoryTypeSlots } from '../../store/memory-type-slots.js'
import type { PayloadStore } from '../../store/payload-store.js'
import type { LaneHorizons } from './lane-memory.js'
import { OutboxSender, type MessageSender } from './outbox.js'
import { OutboxOverflow } from './outbox-overflow.js'
import { ProcessLane } from './process-lane.js'
import { SideEffects } from './side-effects.js'
import { TypeRates } from './type-rates.js'
import { TypeSlotClaims } from './type-slots.js'

/** The durable host's options but its actor classes (`DurableHostOptions` adds those). */
export interface DurableSettings {
  state: StateStore
  timers: TimerStore
  journal: JournalStore
  /** Sends the outbox's messages (the Kinesis transport). */
  messages: MessageSender
  /**
   * The buckets of types' rates (`policy.throttle` of keyed actors), shared by every host of the
   * app: DynamoDBTypeBuckets on AWS. @default one in this host's memory
   */
  typeBuckets?: TypeBucketStore
  /**
   * The slots of types' concurrency (`policy.concurrency`), leased by every host of the app:
   * DynamoDBTypeSlots on AWS. @default one in this host's memory
   */
  typeSlots?: TypeSlotStore
  /**
   * How long a lease on a type's slots outlives its batch, for the next batch of this host to take
   * on with no write (type-slots.ts has the rule). Only for a host whose timers run between
   * batches (a shard consumer): a frozen Lambda environment could not give an idle lease back.
   * @default 0 (given back when its batch ends)
   */
  keepSlotsMs?: number
  /**
   * The records of `ctx.once` side effects, shared by every host of the app so a turn run again
   * elsewhere finds them: DynamoDBSideEffects on AWS. @default one in this host's memory
   */
  sideEffects?: SideEffectStore
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
  /**
   * The share of requests (by correlation id, decided alike in every host) whose every message
   * keeps a receipt and a trace link, so `troupe inspect trace` shows them whole. A retried or
   * dead-lettered message keeps its receipt at any rate. @default 0
   */
  traceSampleRate?: number
  /** How long receipts (and the replies of `ask`) are kept. @default 24 h */
  receiptTtlMs?: number
  /** How long a deleted instance's item stays to recognise redelivered messages; keep it above the stream's retention. @default 8 days */
  tombstoneTtlMs?: number
  /** Instances run at once within a batch; also the host's commits in flight at once, across the batches it runs. @default 32 */
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
  /** A batch was taken in: when the oldest of each type's records arrived in the stream (epoch ms), for the iterator age per type. */
  onArrivals?: (oldest: ReadonlyMap<string, number>) => void
}

/** Without the app's claim check, a body larger than this goes to the overflow store: no default-sized record could carry it. */
const OVERSIZED_BODY_BYTES = 960 * 1024
const DAY_MS = 24 * 60 * 60_000

export class DurableContext {
  readonly clock: Clock
  readonly logger: Logger
  readonly counts = new Map<string, ActorCounts & { duplicates: number; conflicts: number }>()
  readonly checkSerializable: boolean
  readonly recentIds: number
  readonly receiptTtlMs: number
  readonly tombstoneTtlMs: number
  readonly concurrency: number
  /**
   * The host's commits in flight, at most `concurrency` across all the batches it runs at once (a
   * process reading several shards runs a batch of each, and its direct runs). A stream batch's own
   * never exceed it, so they wait only for other batches' and direct runs'. More would only
   * wait in the HTTP client's queue for a socket or in the table's, each holding its signed
   * request, long enough to outlive garbage collections: when many wait, most of the CPU they
   * cost is in collecting them, and they are no sooner written.
   */
  readonly commits: InFlightLimit
  readonly codec: RecordCodec
  readonly outbox: OutboxSender
  /** This process's lane: what it sends outside any turn. */
  readonly lane: ProcessLane
  readonly horizons: LaneHorizons
  /** Bodies kept out of line: the app's claim check, or one over the overflow store for bodies no record could carry (a large join). */
  readonly claimCheck: ClaimCheck | undefined
  readonly overflow: OutboxOverflow
  /** Types' rates: the claims of their tokens. */
  readonly rates: TypeRates
  /** Types' concurrency: the leases on their slots. */
  readonly slots: TypeSlotClaims
  /** `ctx.once` across hosts. */
  readonly sideEffects: SideEffects

  constructor(readonly options: DurableSettings) {
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger('info')
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.recentIds = options.recentIds ?? 64
    this.receiptTtlMs = options.receiptTtlMs ?? DAY_MS
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS
    this.concurrency = options.concurrency ?? 32
    this.commits = new InFlightLimit(this.concurrency)
    this.codec = options.codec ?? defaultRecordCodec
    this.lane = options.lane ?? new ProcessLane()
    this.claimCheck = options.claimCheck ?? (options.overflow && new ClaimCheck({ store: options.overflow, aboveBytes: OVERSIZED_BODY_BYTES }))
    this.overflow = new OutboxOverflow(options.overflow, this.tombstoneTtlMs, () => this.clock.now())
    this.horizons = { processMs: 15 * 60_000, shardMs: this.tombstoneTtlMs, ...options.laneHorizons }
    this.rates = new TypeRates(options.typeBuckets ?? new MemoryTypeBuckets(), this.logger)
    this.slots = new TypeSlotClaims(options.typeSlots ?? new MemoryTypeSlots(), this.clock, this.logger, this.concurrency, { keepMs: options.keepSlotsMs ?? 0, random: options.random ?? Math.random })
    this.sideEffects = new SideEffects(options.sideEffects ?? new MemorySideEffects(), this.clock, this.horizons.shardMs, options.overflow, this.logger)
    this.outbox = new OutboxSender(options.messages, options.timers, options.journal, options.onTimer, options.onReceipts, (letters) => this.sideEffects.pin(letters))
  }

  /** Counts and events of what an instance's commit made true. */
  committed(type: ActorType, events: readonly TroupeEvent[]): void {
    const counts = this.counts.get(type.type)!
    for (const e of events) {
      if (e.type === '@troupe.done') counts.done++
      else if (e.type === '@troupe.filtered') counts.filtered++
      else if (e.type === '@troupe.dead') counts.dead++
      else if (e.type === '@troupe.throttled') counts.throttled++
      this.options.onEvent?.(e)
    }
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
