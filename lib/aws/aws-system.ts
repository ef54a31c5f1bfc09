// The AWS mode as a System: the same actor classes and the same API as the embedded default,
// with Kinesis carrying the messages and DynamoDB holding state, timers, receipts and dead
// letters. `tell` puts a record and resolves once Kinesis has it; turns run in the durable
// host, fed by the shard consumer in this process (a container, `troupe dev`) or by a Lambda
// (`consume: false` here: this process only sends, asks and reads).
//
// This file is the facade: it builds the parts and answers the System API with them. The parts,
// each in a file of its own (none imports this one):
//   aws-options.ts         AwsSystemOptions
//   aws-outbox.ts          putting on the streams: an instance's tells in order, where the last went
//   invoke-ask.ts          `ask` by a direct invocation of the host function (the `invoke` option)
//   receipt-waiter.ts      reading a receipt until it has the status wanted; an ask's answer from it
//   aws-timers.ts          scheduling, and firing due timers onto the stream
//   aws-fork.ts            `system.fork`: the fork-result actor, and waiting for the joined replies
//   stream-hosting.ts      this process as the host of its streams (`consume`): the shard consumer, idle
//   held-batches.ts        the batches this process's host runs: what is in flight, the stop report
//   process-view.ts        what the system shows: its events, `instances()`, `evict`, `inspect()`
//   backlog-gauges.ts      each type's backlog as its host saw it, for the metrics a host writes
//   backlog-metrics.ts     a consuming process writing those gauges every minute (`metrics`)
//   dead-letter-replay.ts  sending a dead letter again
import { firingRoute } from '../../actors/timer.js'
import type { ActorClass, InOf, ReplyOf, StateOf } from '../core/actor.js'
import { systemClock, type Clock } from '../core/clock.js'
import * as d from '../core/defaults.js'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import { ConfigError, NotPausableError, SystemStoppedError } from '../core/errors.js'
import type { ForkChildren, Joined, JoinOptions } from '../core/fork.js'
import { parseMessageId, RootIds, type CorrelationId, type MessageId } from '../core/ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot, TroupeEvent } from '../core/inspection.js'
import { createLogger, type Logger } from '../core/logger.js'
import type { Receipt } from '../core/receipt.js'
import type { ScheduleOptions } from '../core/schedule.js'
import type { AskOptions, AwaitReceiptOptions, Pause, StopOptions, StopReport, System, TellOptions } from '../core/system.js'
import { assertSerializable, validateBody } from '../core/validate.js'
import { DurableHost } from '../hosts/durable/durable-host.js'
import { ClaimCheck } from '../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../routing/record-codec.js'
import { Router } from '../routing/router.js'
import { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import { DynamoDBLeaseStore } from '../store/dynamodb-leases.js'
import { DynamoDBSideEffects } from '../store/dynamodb-side-effects.js'
import { DynamoDBTypeBuckets } from '../store/dynamodb-type-buckets.js'
import { DynamoDBTypeSlots } from '../store/dynamodb-type-slots.js'
import { RunningSlots } from './running-slots.js'
import { DYNAMODB_MAX_ITEM_BYTES, DynamoDBStateStore, DynamoDBTimerStore } from '../store/dynamodb.js'
import type { TimerRecord } from '../store/index.js'
import { DynamoDBPayloadStore, type PayloadStore } from '../store/payload-store.js'
import type { DeadLetter } from '../supervisor/dead-letter.js'
import { KinesisTransport } from '../transport/kinesis.js'
import { currentState, loadedState } from '../turn/state-version.js'
import { outsideTrace } from '../turn/turn-trace.js'
import { forkAndJoin, forkResultBuiltin } from './aws-fork.js'
import type { AwsSystemOptions } from './aws-options.js'
import { AwsOutbox } from './aws-outbox.js'
import { AwsTimers } from './aws-timers.js'
import { replayDeadLetter } from './dead-letter-replay.js'
import { HeldBatches } from './held-batches.js'
import { InvokeAsk } from './invoke-ask.js'
import { DurablePauses } from './pauses.js'
import { ProcessView } from './process-view.js'
import { answerOf, ReceiptWaiter, type AskOutcome } from './receipt-waiter.js'
import { BacklogGauges } from './backlog-gauges.js'
import { BacklogMetrics } from './backlog-metrics.js'
import { countRequests, RequestCounter } from './request-counter.js'
import type { ShardConsumer } from './shard-consumer.js'
import { keepSlotsMs, StreamHosting } from './stream-hosting.js'

export type { AwsSystemOptions } from './aws-options.js'

export class AwsSystem implements System {
  readonly clock: Clock
  readonly logger: Logger
  readonly host: DurableHost
  readonly transport: KinesisTransport
  readonly consumer: ShardConsumer | undefined
  readonly router: Router
  readonly requests: RequestCounter
  /** Each actor type's backlog as this process's host saw it, for the metrics a host writes (the Lambda host's EMF lines; a consuming process's with `metrics`). */
  readonly backlog: BacklogGauges
  private readonly states: DynamoDBStateStore
  private readonly journal: DynamoDBJournalStore
  /** Where what is too large for an item waits: outboxes, a large fork's replies, a large fork result. */
  private readonly overflow: PayloadStore
  private readonly codec: RecordCodec
  private readonly ids = new RootIds()
  private readonly checkSerializable: boolean
  private readonly receiptsForAll: boolean
  private readonly outbox: AwsOutbox
  /** With `invoke`: how `ask` reaches the host function directly. */
  private readonly invokeAsk: InvokeAsk | undefined
  private readonly waiter: ReceiptWaiter
  private readonly timing: AwsTimers
  private readonly pausing: DurablePauses
  /** Batches the consumer handed this process's host, while it runs them. */
  private readonly batches: HeldBatches
  private readonly view: ProcessView
  /** With `consume`: the shard consumer feeding the host. */
  private readonly hosting: StreamHosting | undefined
  private readonly idleHost: (() => Promise<void>) | undefined
  /** With `consume` and `metrics`: the backlog gauges written every interval (a Lambda host writes its own per invocation). */
  private readonly backlogMetrics: BacklogMetrics | undefined
  private stopping = false

  constructor(options: AwsSystemOptions) {
    this.codec = options.codec ?? defaultRecordCodec
    this.idleHost = options.idleHost
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger(options.logLevel ?? 'info')
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.receiptsForAll = options.receiptsForAll ?? false
    const rate = options.traceSampleRate
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new ConfigError(`AwsSystem: traceSampleRate must be a number from 0 to 1, got ${String(rate)}`)
    this.requests = options.requests ?? new RequestCounter()
    countRequests(options.kinesis, this.requests)
    countRequests(options.dynamodb, this.requests)
    const table = { client: options.dynamodb, tableName: options.tableName }
    this.states = new DynamoDBStateStore(table)
    const timerStore = new DynamoDBTimerStore(table)
    this.journal = new DynamoDBJournalStore(table)
    this.waiter = new ReceiptWaiter(this.journal, this.clock, () => this.stopping, (type, key) => this.states.get(type, key))
    const stream = options.router?.defaultStream ?? options.stream ?? 'troupe'
    const consumes = (options.consume ?? true) && process.env.TROUPE_LAMBDA_BUNDLE !== 'true'
    // Filled in below; the router asks only once messages flow.
    let host: DurableHost | undefined
    this.router = new Router({ ...options.router, defaultStream: stream, isKeyed: (type) => host?.types.get(type)?.kind !== 'stateless', routeAs: firingRoute })
    this.transport = new KinesisTransport({ client: options.kinesis, router: this.router, ...(options.codec ? { codec: options.codec } : {}), lingerMs: options.lingerMs ?? 10, ordering: options.ordering ?? 'strict', aggregate: options.aggregate ?? true })
    const claimCheck = options.payloads && new ClaimCheck({ store: new DynamoDBPayloadStore(table), ...options.payloads })
    // Outboxes too large for an instance's item (a fork of thousands of children) wait here.
    const overflow = (this.overflow = claimCheck?.store ?? new DynamoDBPayloadStore(table))
    // Types' concurrency slots too; the view of them `inspect()` shows as `running`.
    const backlog = (this.backlog = new BacklogGauges(this.clock, (wokenBefore) => host!.parkedByType(wokenBefore)))
    const slots = new RunningSlots(new DynamoDBTypeSlots(table), this.clock, this.logger, (type, live) => backlog.slotsSeen(type, live))
    host = this.host = new DurableHost({
      actors: options.actors,
      builtins: [forkResultBuiltin(overflow, this.clock)],
      state: this.states,
      timers: timerStore,
      journal: this.journal,
      messages: { send: (envelopes) => this.outbox.sendTracked(envelopes) },
      // Types' rates are shared by every process and environment of the app: their buckets live in the table.
      typeBuckets: new DynamoDBTypeBuckets(table),
      typeSlots: slots,
      // A consuming process keeps a lease for its next batch (it can give it back when idle); a Lambda environment cannot.
      ...(consumes ? { keepSlotsMs: keepSlotsMs(options.pollMs ?? 1_000) } : {}),
      // So are `ctx.once` records: a turn run again in another environment finds them.
      sideEffects: new DynamoDBSideEffects(table),
      ...(options.codec ? { codec: options.codec } : {}),
      ...(claimCheck ? { claimCheck } : {}),
      ...(options.filters ? { filters: options.filters } : {}),
      clock: this.clock,
      random: options.random ?? Math.random,
      logger: this.logger,
      checkSerializable: this.checkSerializable,
      receiptsForAll: this.receiptsForAll,
      ...(options.traceSampleRate !== undefined ? { traceSampleRate: options.traceSampleRate } : {}),
      ...(options.receiptTtlMs !== undefined ? { receiptTtlMs: options.receiptTtlMs } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      // The state item also carries keys and version: leave them room.
      maxItemBytes: DYNAMODB_MAX_ITEM_BYTES - 4 * 1024,
      overflow,
      onTimer: (dueAt) => this.timing.notify(dueAt),
      onReceipts: (records) => this.waiter.wake(records),
      onEvent: (event) => this.view.emit(event),
      onCommit: (type, key, state, updatedAt, lastMessageId) => this.view.remember(type, key, state, updatedAt, lastMessageId),
      onArrivals: (oldest) => backlog.arrivals(oldest),
    })
    this.batches = new HeldBatches(host, this.codec, this.clock)
    this.view = new ProcessView(host, this.batches, this.requests, this.clock, this.logger, () => this.consumer?.stats() ?? [], (type) => slots.running(type))
    const emit = (event: TroupeEvent) => this.view.emit(event)
    const now = () => this.clock.now()
    this.outbox = new AwsOutbox({ transport: this.transport, router: this.router, host, journal: this.journal, claimCheck, trackTells: options.invoke !== undefined, now, emit })
    const parts = { host, outbox: this.outbox, router: this.router, journal: this.journal, clock: this.clock, logger: this.logger }
    if (options.invoke) {
      this.invokeAsk = new InvokeAsk({ ...parts, invoker: options.invoke, codec: this.codec, transport: this.transport, waiter: this.waiter, emit, stopping: () => this.stopping })
    }
    this.timing = new AwsTimers({
      ...parts,
      store: timerStore,
      states: this.states,
      receiptsForAll: this.receiptsForAll,
      newId: () => this.ids.id(this.ids.next()),
      fires: options.timers ?? options.consume ?? true,
      tickMs: options.timerTickMs ?? 10_000,
    })
    this.pausing = new DurablePauses(
      this.states,
      async (envelope) => {
        const result = await this.transport.enqueue(await this.outbox.offload(envelope))
        if (result.status === 'failed') throw result.error
      },
      now,
    )
    if (process.env.TROUPE_LAMBDA_BUNDLE === 'true') {
      // A Lambda bundle defines this at build time, so the consumer, its reader and its leases
      // are dead code there and left out: in Lambda the event source mapping reads the streams.
      if (options.consume ?? true) throw new ConfigError('an AwsSystem in a Lambda bundle does not read streams itself (consume: false); the event source mapping feeds the handler')
    } else if (options.consume ?? true) {
      this.hosting = new StreamHosting({
        consumer: {
          kinesis: options.kinesis,
          leases: new DynamoDBLeaseStore(table),
          streams: this.router.streams,
          logger: this.logger,
          pollMs: options.pollMs ?? 1_000,
          ...options.consumer,
          handler: (batch) => this.batches.run(batch, this.stopping),
        },
        host,
        transport: this.transport,
        timers: this.timing,
        logger: this.logger,
      })
      this.consumer = this.hosting.consumer
      if (options.metrics) this.backlogMetrics = new BacklogMetrics(backlog, this.clock, options.tableName, options.metrics)
    }
  }

  // ── sending ──────────────────────────────────────────────────────────────

  tell<C extends ActorClass>(actor: C, body: InOf<C>, options?: TellOptions): Promise<MessageId>
  tell(type: string, body: unknown, options?: TellOptions): Promise<MessageId>
  async tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    const envelope = await this.envelope(target, body, options)
    if (options?.receipt || this.receiptsForAll) envelope.receipt = 'status'
    await this.outbox.put(envelope)
    return envelope.id
  }

  ask<C extends ActorClass>(actor: C, body: InOf<C>, options?: AskOptions): Promise<ReplyOf<C>>
  ask(type: string, body: unknown, options?: AskOptions): Promise<unknown>
  async ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    const envelope = await this.envelope(target, body, options)
    envelope.receipt = 'reply'
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    const started = this.clock.now()
    let receipt: AskOutcome | undefined
    if (this.invokeAsk) receipt = await this.invokeAsk.ask(envelope, timeoutMs)
    else await this.outbox.put(envelope)
    receipt ??= await this.waiter.finalOf(envelope, Math.max(0, started + timeoutMs - this.clock.now()), timeoutMs)
    return answerOf(envelope, receipt) as never
  }

  /** A validated envelope for a message from outside a turn, carrying the caller's span. */
  private async envelope(target: ActorClass | string, body: unknown, options: TellOptions | undefined): Promise<Envelope> {
    const trace = outsideTrace()
    if (this.stopping) throw new SystemStoppedError()
    const type = this.host.typeOf(target)
    const valid = await validateBody(type.type, type.schema, body)
    if (this.checkSerializable) assertSerializable(type.type, 'message', valid)
    const id = this.ids.id(this.ids.next())
    const correlationId = (options?.correlationId === undefined ? id : parseMessageId(options.correlationId, 'correlationId')) as string as CorrelationId
    const envelope = makeEnvelope({ id, type: type.type, key: type.keyOf(valid), body: valid, correlationId, sentAt: this.clock.now() })
    if (trace !== undefined) envelope.trace = trace
    return envelope
  }

  // ── receipts ─────────────────────────────────────────────────────────────

  receipt(id: string): Promise<Receipt | undefined> {
    return this.waiter.receipt(id)
  }

  awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt> {
    return this.waiter.awaitReceipt(id, options)
  }

  // ── fork/join and timers ─────────────────────────────────────────────────

  async fork<const T extends readonly ActorClass[], Value = undefined>(children: ForkChildren<T>, options: JoinOptions<Value>): Promise<Joined<T, Value>> {
    if (this.stopping) throw new SystemStoppedError()
    const forkId = this.ids.id(this.ids.next())
    return forkAndJoin({ host: this.host, waiter: this.waiter, overflow: this.overflow, stopping: () => this.stopping }, forkId, children, options)
  }

  async schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    if (this.stopping) throw new SystemStoppedError()
    return this.timing.schedule(actor, body, options)
  }

  async cancelSchedule(id: string): Promise<void> {
    await this.timing.cancel(id)
  }

  timers(): Promise<TimerRecord[]> {
    return this.timing.list()
  }

  /** Fires every timer due now and resolves when they are sent (a scheduled tick in a Lambda). */
  fireDueTimers(): Promise<void> {
    return this.timing.fireDue()
  }

  // ── pausing ──────────────────────────────────────────────────────────────

  async pause(actor: ActorClass | string, key?: string): Promise<void> {
    await this.pausing.pause(this.pausable(actor), key)
  }

  async resume(actor: ActorClass | string, key?: string): Promise<void> {
    await this.pausing.resume(this.pausable(actor), key)
  }

  pauses(): Promise<Pause[]> {
    return this.pausing.list()
  }

  /** Held messages live in the instance's item: a type that keeps no state has none to hold them in. */
  private pausable(actor: ActorClass | string): string {
    const type = this.host.typeOf(actor)
    if (!type.stateful) {
      throw new NotPausableError(type.type)
    }
    return type.type
  }

  /**
   * Every commit writes the table, and each batch loads its instances from it: what this process
   * holds of an instance is the copy `instances()` lists (since its last turn here). Evict drops
   * that copy; true when there was one and the instance is idle here: no message of it is in a
   * batch this host is running (under way, behind a turn or waiting for a retry's backoff). The
   * state stays readable (`state()` reads the table). (The host's note of the outbox it last sent
   * for the instance stays: it only spares a resend.)
   */
  async evict(actor: ActorClass | string, key = ''): Promise<boolean> {
    return this.view.evict(this.host.typeOf(actor).type, key)
  }

  // ── reading ──────────────────────────────────────────────────────────────

  state<C extends ActorClass>(actor: C, key?: string): Promise<StateOf<C> | undefined>
  async state(actor: ActorClass, key = ''): Promise<never> {
    const type = this.host.typeOf(actor)
    const stored = await this.states.get(type.type, key)
    // A state of another version: migrated for the read (not written), or refused when newer.
    return (stored === undefined ? undefined : currentState(type, key, loadedState(type, stored))) as never
  }

  /**
   * The instances whose turns ran in this process lately (the table holds all of them), with
   * what `inspect()` counts of each: its turn under way, and its messages waiting here.
   */
  instances<C extends ActorClass>(actor: C): InstanceSnapshot<StateOf<C>>[]
  instances(actor: string): InstanceSnapshot[]
  instances(actor: ActorClass | string): InstanceSnapshot<never>[] {
    return this.view.instances(this.host.typeOf(actor).type) as InstanceSnapshot<never>[]
  }

  deadLetters(filter?: { type?: string }): Promise<DeadLetter[]> {
    return Promise.resolve(this.journal.deadLetters(filter?.type))
  }

  async replay(id: string): Promise<MessageId> {
    if (this.stopping) throw new SystemStoppedError()
    const { journal, host, router, codec, transport, outbox } = this
    const envelope = await replayDeadLetter({ journal, state: this.states, host, router, codec, transport, outbox }, id)
    this.view.emit({ type: '@troupe.replayed', at: this.clock.now(), envelope })
    return envelope.id
  }

  /**
   * Counts of this process. On AWS a message waits in the stream, not here: `queued` and
   * `running` count only the messages of batches this process's host is running now (none when
   * a Lambda is the host). The host runs a batch's instances at once, one turn at a time each:
   * `running` is the instances of the type with a turn under way (loading, running or
   * committing), `queued` the messages waiting behind those turns, or for a retry's backoff (an
   * instance waiting for one is not running). For a type with `policy.concurrency`, `running` is
   * the slots its live leases hold on every host (its turns under way across all of them, Lambda
   * environments too), as the table said at most a second before: the first look at a type starts
   * the read, and a later one shows it. Messages a pause or a throttle set aside wait in
   * their instance's item, and are not in `queued`: `parked` counts those this process's turns
   * parked for a token and that still wait, `oldestParkedAt` says since when (`troupe inspect
   * actors` counts them all, from the table). `iteratorAgeMs` is how far behind the newest
   * record this process reads its streams. `instances` is what `instances()` lists.
   */
  inspect(): SystemSnapshot {
    return this.view.snapshot()
  }

  on(listener: Listener): () => void {
    return this.view.on(listener)
  }

  // ── idle and stop ────────────────────────────────────────────────────────

  /**
   * Resolves once everything sent so far, and everything it caused, has reached its final
   * outcome: the transport is empty and every shard is read to its end with no batch running
   * (a batch retries its messages inside it), no timer is due now (this process fires those
   * due), and no message this process parked for a throttle still waits (their wake-ups fire
   * here). Timers due later are not waited for, nor messages held by a pause (they wait in
   * their instance's item, not in the stream). Needs `consume` (this process must be the host),
   * or an `idleHost` that knows when the host elsewhere is done; rejects with `TROUPE_CONFIG`
   * otherwise.
   */
  async idle(): Promise<void> {
    if (this.hosting) return this.hosting.idle()
    if (this.idleHost) return this.idleHost()
    throw new ConfigError('idle() needs a system that consumes its streams (consume: true), or an idleHost that knows where they are consumed')
  }

  /**
   * Takes no new messages, lets the batches this process's host is running finish (for up to
   * `timeoutMs`), checkpoints them and gives up its shards. Nothing is dead-lettered: what this
   * process read and did not finish stays in the stream for whoever reads the shard next
   * (`leftInStream`), and records not yet read were never this process's: a batch the consumer
   * reads while it stops is left in the stream unrun. The report accounts for every message of
   * the batches held when `stop()` was called: `drained` once it ended, `stillRunning` while its
   * batch still runs when `stop()` resolves (the host runs it on: the turn under way, those
   * behind it, those waiting for a backoff), `leftInStream` when its batch ended without
   * finishing it. What the turns send goes to the stream, and is not this process's to count.
   */
  async stop(options?: StopOptions): Promise<StopReport> {
    if (this.stopping) throw new SystemStoppedError('stop() was already called')
    this.stopping = true
    const batches = this.batches.atStop()
    await this.timing.stop()
    this.waiter.wakeAll()
    await this.hosting?.stop(options?.timeoutMs ?? d.DEFAULT_STOP_TIMEOUT_MS)
    this.backlogMetrics?.stop()
    const report = this.batches.stopReport(batches)
    await this.transport.close()
    return report
  }
}
