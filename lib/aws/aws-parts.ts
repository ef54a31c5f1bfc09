// The parts of an AwsSystem, built from its options (aws-system.ts answers the System API with
// them): the stores over the table, the router and transport, the durable host, and around them
// the outbox, receipts, timers, pauses, what the process shows, and, with `consume`, the hosting
// of its streams. Built here in one place because they refer to one another: the host sends
// through the outbox, and tells the timers, the receipt waiter and the view what it did; those
// are made after it, so the host's callbacks reach them only once messages flow.
import { FORK_RESULT, ForkResult, serveForkResult } from '../../actors/fork-result.js'
import { firingRoute } from '../../actors/timer.js'
import { systemClock, type Clock } from '../core/clock.js'
import { ConfigError } from '../core/errors.js'
import { RootIds } from '../core/ids.js'
import type { TroupeEvent } from '../core/inspection.js'
import { createLogger, type Logger } from '../core/logger.js'
import { DurableHost } from '../hosts/durable/durable-host.js'
import { ClaimCheck } from '../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../routing/record-codec.js'
import { Router } from '../routing/router.js'
import { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import { DynamoDBLeaseStore } from '../store/dynamodb-leases.js'
import { DynamoDBSideEffects } from '../store/dynamodb-side-effects.js'
import { DynamoDBTypeBuckets } from '../store/dynamodb-type-buckets.js'
import { DynamoDBTypeSlots } from '../store/dynamodb-type-slots.js'
import { DYNAMODB_MAX_ITEM_BYTES, DynamoDBStateStore, DynamoDBTimerStore } from '../store/dynamodb.js'
import { DynamoDBPayloadStore, type PayloadStore } from '../store/payload-store.js'
import { KinesisTransport } from '../transport/kinesis.js'
import { keepForkResult } from './aws-fork.js'
import type { AwsSystemOptions } from './aws-options.js'
import { AwsOutbox } from './aws-outbox.js'
import { AwsTimers } from './aws-timers.js'
import { BacklogGauges } from './backlog-gauges.js'
import { BacklogMetrics } from './backlog-metrics.js'
import type { ReplayParts } from './dead-letter-replay.js'
import { HeldBatches } from './held-batches.js'
import { InvokeAsk } from './invoke-ask.js'
import { DurablePauses } from './pauses.js'
import { ProcessView } from './process-view.js'
import { ReceiptWaiter } from './receipt-waiter.js'
import { countRequests, RequestCounter } from './request-counter.js'
import { boundIdleRequests } from '../store/request-idle-timeout.js'
import { RunningSlots } from './running-slots.js'
import { keepSlotsMs, StreamHosting } from './stream-hosting.js'

export interface AwsParts {
  clock: Clock
  logger: Logger
  codec: RecordCodec
  checkSerializable: boolean
  receiptsForAll: boolean
  requests: RequestCounter
  /** Each actor type's backlog as this process's host saw it, for the metrics a host writes. */
  backlog: BacklogGauges
  ids: RootIds
  states: DynamoDBStateStore
  journal: DynamoDBJournalStore
  /** Where what is too large for an item waits: outboxes, a large fork's replies, a large fork result. */
  overflow: PayloadStore
  router: Router
  transport: KinesisTransport
  host: DurableHost
  outbox: AwsOutbox
  /** With `invoke`: how `ask` reaches the host function directly. */
  invokeAsk: InvokeAsk | undefined
  waiter: ReceiptWaiter
  timing: AwsTimers
  pausing: DurablePauses
  /** Batches the consumer handed this process's host, while it runs them. */
  batches: HeldBatches
  view: ProcessView
  /** With `consume`: the shard consumer feeding the host. */
  hosting: StreamHosting | undefined
  /** With `consume` and `metrics`: the backlog gauges written every interval (a Lambda host writes its own per invocation). */
  backlogMetrics: BacklogMetrics | undefined
  /** What replaying a dead letter uses. */
  replaying: ReplayParts
}

/** Builds an AwsSystem's parts; `stopping` says whether the system is stopping. */
export function awsParts(options: AwsSystemOptions, stopping: () => boolean): AwsParts {
  const codec = options.codec ?? defaultRecordCodec
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info')
  const checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
  const receiptsForAll = options.receiptsForAll ?? false
  const ids = new RootIds()
  const rate = options.traceSampleRate
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new ConfigError(`AwsSystem: traceSampleRate must be a number from 0 to 1, got ${String(rate)}`)
  const requests = options.requests ?? new RequestCounter()
  countRequests(options.kinesis, requests)
  countRequests(options.dynamodb, requests)
  // A request that waits in silence fails instead of holding its batch (request-idle-timeout.ts).
  boundIdleRequests(options.kinesis)
  boundIdleRequests(options.dynamodb)
  const table = { client: options.dynamodb, tableName: options.tableName }
  const states = new DynamoDBStateStore(table)
  const timerStore = new DynamoDBTimerStore(table)
  const journal = new DynamoDBJournalStore(table)
  const waiter = new ReceiptWaiter(journal, clock, stopping, (type, key) => states.get(type, key))
  const stream = options.router?.defaultStream ?? options.stream ?? 'troupe'
  const consumes = (options.consume ?? true) && process.env.TROUPE_LAMBDA_BUNDLE !== 'true'
  // Filled in below; the router asks only once messages flow.
  let host: DurableHost | undefined
  const router = new Router({ ...options.router, defaultStream: stream, isKeyed: (type) => host?.types.get(type)?.kind !== 'stateless', routeAs: firingRoute })
  let hosting: StreamHosting | undefined
  const transport = new KinesisTransport({
    client: options.kinesis,
    router,
    ...(options.codec ? { codec: options.codec } : {}),
    lingerMs: options.lingerMs ?? 10,
    ordering: options.ordering ?? 'strict',
    aggregate: options.aggregate ?? true,
    // What this process puts on a shard it reads is read at once, not at the next poll.
    onPut: (stream, shardId) => hosting?.consumer.nudge(stream, shardId),
  })
  const claimCheck = options.payloads && new ClaimCheck({ store: new DynamoDBPayloadStore(table), ...options.payloads })
  // Outboxes too large for an instance's item (a fork of thousands of children) wait here.
  const overflow = claimCheck?.store ?? new DynamoDBPayloadStore(table)
  // Types' concurrency slots too; the view of them `inspect()` shows as `running`.
  const sideEffects = new DynamoDBSideEffects(table)
  const backlog = new BacklogGauges(clock, (wokenBefore) => host!.parkedByType(wokenBefore))
  const slots = new RunningSlots(new DynamoDBTypeSlots(table), clock, logger, (type, live) => backlog.slotsSeen(type, live))
  host = new DurableHost({
    actors: options.actors,
    builtins: [() => ForkResult],
    state: states,
    timers: timerStore,
    journal,
    messages: { send: (envelopes) => outbox.sendTracked(envelopes) },
    // Types' rates are shared by every process and environment of the app: their buckets live in the table.
    typeBuckets: new DynamoDBTypeBuckets(table),
    typeSlots: slots,
    // A consuming process keeps a lease for its next batch (it can give it back when idle); a Lambda environment cannot.
    ...(consumes ? { keepSlotsMs: keepSlotsMs(options.pollMs ?? 1_000) } : {}),
    // So are `ctx.once` records: a turn run again in another environment finds them.
    sideEffects,
    ...(options.codec ? { codec: options.codec } : {}),
    ...(claimCheck ? { claimCheck } : {}),
    ...(options.filters ? { filters: options.filters } : {}),
    clock,
    random: options.random ?? Math.random,
    logger,
    checkSerializable,
    receiptsForAll,
    ...(options.traceSampleRate !== undefined ? { traceSampleRate: options.traceSampleRate } : {}),
    ...(options.receiptTtlMs !== undefined ? { receiptTtlMs: options.receiptTtlMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    // The state item also carries keys and version: leave them room.
    maxItemBytes: DYNAMODB_MAX_ITEM_BYTES - 4 * 1024,
    overflow,
    onTimer: (dueAt) => timing.notify(dueAt),
    onReceipts: (records) => waiter.wake(records),
    onEvent: (event) => view.emit(event),
    onCommit: (type, key, state, updatedAt, lastMessageId) => view.remember(type, key, state, updatedAt, lastMessageId),
    onArrivals: (oldest) => {
      backlog.arrivals(oldest)
      view.arrivals(oldest)
    },
  })
  serveForkResult(host.typeOf(FORK_RESULT).actor, keepForkResult(host, overflow, clock))
  const batches = new HeldBatches(host, codec, clock)
  const view = new ProcessView(host, batches, requests, clock, logger, () => hosting?.consumer.stats() ?? [], (type) => slots.running(type), consumes)
  const emit = (event: TroupeEvent) => view.emit(event)
  const now = () => clock.now()
  const outbox = new AwsOutbox({ transport, router, host, journal, claimCheck, trackTells: options.invoke !== undefined, now, emit })
  // What the ask by invocation and the timers both take.
  const shared = { host, outbox, router, journal, clock, logger }
  const invokeAsk = options.invoke ? new InvokeAsk({ ...shared, invoker: options.invoke, codec, transport, waiter, emit, stopping }) : undefined
  const timing = new AwsTimers({
    ...shared,
    store: timerStore,
    states,
    receiptsForAll,
    newId: () => ids.id(ids.next()),
    fires: options.timers ?? options.consume ?? true,
    tickMs: options.timerTickMs ?? 10_000,
  })
  const pausing = new DurablePauses(
    states,
    async (envelope) => {
      const result = await transport.enqueue(await outbox.offload(envelope))
      if (result.status === 'failed') throw result.error
    },
    now,
  )
  let backlogMetrics: BacklogMetrics | undefined
  if (process.env.TROUPE_LAMBDA_BUNDLE === 'true') {
    // A Lambda bundle defines this at build time, so the consumer, its reader and its leases
    // are dead code there and left out: in Lambda the event source mapping reads the streams.
    if (options.consume ?? true) throw new ConfigError('an AwsSystem in a Lambda bundle does not read streams itself (consume: false); the event source mapping feeds the handler')
  } else if (options.consume ?? true) {
    hosting = new StreamHosting({
      consumer: {
        kinesis: options.kinesis,
        leases: new DynamoDBLeaseStore(table),
        streams: router.streams,
        logger,
        pollMs: options.pollMs ?? 1_000,
        ...options.consumer,
        handler: (batch) => batches.run(batch, stopping()),
      },
      host,
      transport,
      timers: timing,
      logger,
    })
    if (options.metrics) backlogMetrics = new BacklogMetrics(backlog, clock, options.tableName, options.metrics)
  }
  const replaying: ReplayParts = {
    journal,
    state: states,
    lane: host.lane,
    codec,
    sender: () => ({ streams: router.streams, putData: (record, about) => transport.putData(record, about), send: (envelope) => outbox.sendOffloaded(envelope) }),
    accepted: (envelope) => host!.receiptRecord(envelope, 'accepted', undefined),
    keepsState: (type) => host!.types.get(type)?.stateful,
    now: () => clock.now(),
    sideEffects,
  }
  return { clock, logger, codec, checkSerializable, receiptsForAll, requests, backlog, ids, states, journal, overflow, router, transport, host, outbox, invokeAsk, waiter, timing, pausing, batches, view, hosting, backlogMetrics, replaying }
}
