// The AWS mode as a System: the same actor classes and the same API as the embedded default,
// with Kinesis carrying the messages and DynamoDB holding state, timers, receipts and dead
// letters. `tell` puts a record and resolves once Kinesis has it; turns run in the durable
// host, fed by the shard consumer in this process (a container, `troupe dev`) or by a Lambda
// (`consume: false` here: this process only sends, asks and reads).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { FORK_RESULT, forkResultActor } from '../../actors/fork-result.js'
import { firingRoute, TIMER, type TimerFiring } from '../../actors/timer.js'
import type { ActorClass, InOf, ReplyOf, StateOf } from '../core/actor.js'
import { systemClock, type Clock } from '../core/clock.js'
import * as d from '../core/defaults.js'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import { compareSequence } from '../core/position.js'
import { AskFailedError, AskTimeoutError, ConfigError, NoDeadLetterError, NotPausableError, ReceiptTimeoutError, SystemStoppedError, TroupeError } from '../core/errors.js'
import type { Filter } from '../core/filter.js'
import type { ForkChildren, Joined, JoinOptions } from '../core/fork.js'
import { derivedId, parseMessageId, RootIds, type CorrelationId, type MessageId } from '../core/ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot, TroupeEvent } from '../core/inspection.js'
import { KeyedSequence } from '../core/keyed-sequence.js'
import { createLogger, type Logger, type LogLevel } from '../core/logger.js'
import { FINAL_STATUSES, type MessageStatus, type Receipt } from '../core/receipt.js'
import { timerRecord, type ScheduleOptions } from '../core/schedule.js'
import { decode, encode } from '../core/serialization.js'
import type { AskOptions, AwaitReceiptOptions, Pause, StopOptions, StopReport, System, TellOptions } from '../core/system.js'
import { assertSerializable, validateBody } from '../core/validate.js'
import { DurableHost } from '../hosts/durable/durable-host.js'
import { THROTTLE_WAKE, wakeTarget } from '../hosts/durable/instance-throttle.js'
import { decodeMeta } from '../hosts/durable/instance-meta.js'
import { flushRecord } from '../hosts/durable/flush-record.js'
import { PENDING } from '../hosts/durable/outbox.js'
import { TimerRunner } from '../hosts/embedded/timer-runner.js'
import type { AskAnswer, AskInvocation, ShardPosition } from '../hosts/lambda/events.js'
import { ClaimCheck, type ClaimCheckOptions } from '../routing/claim-check.js'
import { defaultRecordCodec, type RecordCodec } from '../routing/record-codec.js'
import { recordToPutBack, withNewOrigins } from '../routing/unreadable-record.js'
import { DynamoDBPayloadStore, type PayloadStore } from '../store/payload-store.js'
import { Router, type RouterOptions } from '../routing/router.js'
import { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import { DynamoDBLeaseStore } from '../store/dynamodb-leases.js'
import { DYNAMODB_MAX_ITEM_BYTES, DynamoDBStateStore, DynamoDBTimerStore } from '../store/dynamodb.js'
import type { ReceiptRecord, StoredReceipt, TimerRecord } from '../store/index.js'
import { errorRecord, type DeadLetter, type ErrorRecord } from '../supervisor/dead-letter.js'
import { KinesisTransport, type FailedResult, type SendReport, type SentResult } from '../transport/kinesis.js'
import type { Ordering } from '../transport/partition-queue.js'
import type { HostInvoker } from './lambda-invoker.js'
import { DurablePauses } from './pauses.js'
import { countRequests, RequestCounter } from './request-counter.js'
import { ShardConsumer, type ShardConsumerOptions } from './shard-consumer.js'
import type { ShardBatch, ShardHandlerResult } from './shard-reader.js'

export interface AwsSystemOptions {
  actors: readonly ActorClass[]
  filters?: readonly Filter[]
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  /** The table made by `createTable` (state, timers, receipts, dead letters, leases). */
  tableName: string
  /** The stream every message goes to, unless `router` says otherwise. */
  stream?: string
  /** Streams per actor type and priority; `defaultStream` replaces `stream`. */
  router?: Omit<RouterOptions, 'isKeyed'>
  /**
   * Run the actors' turns in this process, reading every shard (a container, `troupe dev`).
   * False when a Lambda is the host and this process only tells, asks and reads.
   * @default true
   */
  consume?: boolean
  /**
   * How `idle()` waits when this process does not consume (`consume: false`) and the host runs
   * elsewhere, as under `troupe dev`'s local Lambda: resolves once that host has nothing left.
   */
  idleHost?: () => Promise<void>
  /** Wait between reads of a shard that had nothing new, in ms. Lambda's event source mapping polls once a second. @default 1000 */
  pollMs?: number
  /**
   * Fire due timers from this process, on its own clock. False in a Lambda, which fires them
   * when a scheduled tick invokes it (`fireDueTimers`). @default the value of `consume`
   */
  timers?: boolean
  /**
   * How often this process looks for due timers that another process set, in ms (its own turns'
   * timers wake it at once). Each look is one Query per timer shard. @default 10_000
   */
  timerTickMs?: number
  /** Settings of the shard consumer: batch size, lease length, how often checkpoints are written. */
  consumer?: Pick<ShardConsumerOptions, 'batchSize' | 'leaseMs' | 'checkpointEveryMs' | 'startingPosition' | 'owner'>
  /** How long a `tell` waits for others to share its PutRecords call, in ms. @default 10 */
  lingerMs?: number
  /**
   * Per-key order of what this system puts on the stream. `strict` keeps FIFO per instance even
   * when PutRecords fails some records of a call, at one record per key per call; a key's waiting
   * run goes as one aggregate record (see `aggregate`), so a hot key still pays one entry per run.
   * `batched` lets a key's records share a call: a fraction of the calls, but a record that
   * Kinesis fails and that is resent may arrive after a later one of its key.
   * @default 'strict'
   */
  ordering?: Ordering
  /**
   * Send a key's waiting messages as one aggregate record (`strict` ordering). Turn it off while
   * hosts of a version that cannot read aggregate records still consume the stream.
   * @default true
   */
  aggregate?: boolean
  codec?: RecordCodec
  /** @default 24 h */
  receiptTtlMs?: number
  /** Keep receipts for every message, not only those asked for. Each costs a DynamoDB write. @default false */
  receiptsForAll?: boolean
  /** Instances run at once within a batch. @default 32 */
  concurrency?: number
  clock?: Clock
  random?: () => number
  /** @default true unless NODE_ENV is "production" */
  checkSerializable?: boolean
  logLevel?: LogLevel
  logger?: Logger
  /**
   * Counts every request the system's clients send (attached to both as SDK middleware); the
   * counts appear in `inspect().cost`. Pass your own to read it elsewhere too.
   * @default a new counter
   */
  requests?: RequestCounter
  /**
   * `ask` invokes the host function directly (Lambda `Invoke`, RequestResponse) with the
   * message, instead of putting it on the stream and waiting for the receipt: the host runs the
   * turn under the same conditional commit as the stream path and answers with the reply.
   * Make it with `lambdaInvoker(lambdaClient, functionName)`; locally, point the client at
   * `startLocalInvokeServer`. An answer of `unfinished` (the turn
   * could not finish in that invocation) puts the message on the stream, where the host finishes
   * it (a copy of one applied is not applied again), and the ask waits for its receipt for the rest
   * of its time. A function error rejects (`TROUPE_INVOKE_FAILED`), naming the function and the
   * message. No answer in the ask's time (`AskTimeoutError`), or a request that broke off
   * (`TROUPE_INVOKE_UNANSWERED`), puts the message on the stream too: it applies once, whether
   * or not the function ran it, and its receipt says how it ended. A `tell` this
   * system made to the same instance before the `ask` is applied first: the invocation names
   * where the tell went in its shard, and the host waits for the instance to pass it (or answers
   * `unfinished`, and the ask follows the tell on the stream).
   */
  invoke?: HostInvoker
  /**
   * The claim check: bodies larger than `aboveBytes` (default 256 KiB) go to a payload store and
   * travel as a reference, fetched back before their turn (README, "Large messages"). `store`
   * defaults to DynamoDB chunks in this system's table. Every process of the app (tellers and
   * hosts) must have the same setting: a host without it dead-letters the references it gets.
   */
  payloads?: Partial<ClaimCheckOptions>
}

/** Polling a receipt starts this often and slows down to once a second. */
const FIRST_POLL_MS = 25
const MAX_POLL_MS = 1_000
/** A fork's joined replies larger than this wait in the overflow store; its receipt holds where (`KEPT_RESULT`). */
const KEPT_RESULT_BYTES = 256 * 1024
const KEPT_RESULT = '@troupe.kept'
/** How long a kept fork result stays: as long as the receipt that refers to it. */
const FORK_RESULT_TTL_MS = 24 * 60 * 60_000
/** A `system.fork` waits this much longer than its join's timeout before giving up on it. */
const FORK_GRACE_MS = 30_000
/** Instances remembered for `instances()`, per type. */
const REMEMBERED_INSTANCES = 1_000
/** Instances whose last tell is remembered for an `ask` by invocation. */
const REMEMBERED_TELLS = 10_000
/** How often idle() looks again while throttled messages wait for their wake-ups in this process. */
const IDLE_POLL_MS = 10

const instanceName = (envelope: Envelope) => `${envelope.type}#${envelope.key}`
/** The instance and the stream a message to it goes to: an instance's records of one stream are in order. */
const toldKey = (envelope: Envelope, router: Router) => `${instanceName(envelope)}|${router.route(envelope).stream}`

/** A batch the shard consumer handed this process's host, from the handoff until the host is done with it. */
interface HeldBatch {
  readonly records: readonly { sequenceNumber: string; data: Uint8Array | string }[]
  /** Ids of its messages that reached a final status here (done, filtered, dead). */
  readonly ended: Set<string>
  /** Ids of its messages waiting for a retry's backoff → when the backoff ends (the clock's ms). */
  readonly backoff: Map<string, number>
  /** Its messages, read from the records the first time someone asks. */
  messages?: HeldMessage[]
  /** Set once the host is done: the earliest record it left unfinished, or null when it finished all. */
  failedFrom?: string | null
  /** Its messages not yet ended when `stop()` was called, which the report accounts for. */
  atStop?: HeldMessage[]
}

/** A message of a held batch; `record` is its record's place in the batch. */
interface HeldMessage {
  id: string
  type: string
  /** The instance it runs in: `type#key`, or the message id for a stateless type (each its own turn). */
  instance: string
  record: number
}

export class AwsSystem implements System {
  readonly clock: Clock
  readonly logger: Logger
  readonly host: DurableHost
  readonly transport: KinesisTransport
  readonly consumer: ShardConsumer | undefined
  readonly router: Router
  private readonly states: DynamoDBStateStore
  private readonly claimCheck: ClaimCheck | undefined
  /** Where what is too large for an item waits: outboxes, a large fork's replies, a large fork result. */
  private readonly overflow: PayloadStore
  private readonly timerStore: DynamoDBTimerStore
  private readonly journal: DynamoDBJournalStore
  private readonly pausing: DurablePauses
  private readonly ids = new RootIds()
  private readonly checkSerializable: boolean
  private readonly receiptsForAll: boolean
  private readonly timerRunner: TimerRunner
  /** This process fires due timers (a throttle's wake-ups among them) on its own clock. */
  private readonly firesTimers: boolean
  private readonly tick: NodeJS.Timeout | undefined
  /** Message ids someone in this process waits on → wake-ups. */
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly seen = new Map<string, Map<string, InstanceSnapshot>>()
  private listeners: Listener[] = []
  private stopping = false
  private started: Promise<void> = Promise.resolve()
  readonly requests: RequestCounter
  /** Where `ask` invokes the host directly, and the codec its envelope travels in. */
  private readonly invoke: { invoker: HostInvoker; codec: RecordCodec } | undefined
  /** With `invoke`: where this system's last tell to each instance went, for the ask that follows it. */
  private readonly lastTold = new Map<string, Promise<ShardPosition | undefined>>()
  /** Per instance, tells entering the transport in the order they were told (an offload takes a while). */
  private readonly entering = new KeyedSequence()
  private readonly idleHost: (() => Promise<void>) | undefined
  /** Batches the consumer handed this process's host, while it runs them (see `inFlight`). */
  private readonly held = new Set<HeldBatch>()
  private readonly codec: RecordCodec

  constructor(options: AwsSystemOptions) {
    this.codec = options.codec ?? defaultRecordCodec
    this.invoke = options.invoke && { invoker: options.invoke, codec: options.codec ?? defaultRecordCodec }
    this.idleHost = options.idleHost
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? createLogger(options.logLevel ?? 'info')
    this.checkSerializable = options.checkSerializable ?? process.env.NODE_ENV !== 'production'
    this.receiptsForAll = options.receiptsForAll ?? false
    this.requests = options.requests ?? new RequestCounter()
    countRequests(options.kinesis, this.requests)
    countRequests(options.dynamodb, this.requests)
    const table = { client: options.dynamodb, tableName: options.tableName }
    this.states = new DynamoDBStateStore(table)
    this.timerStore = new DynamoDBTimerStore(table)
    this.journal = new DynamoDBJournalStore(table)
    const stream = options.router?.defaultStream ?? options.stream ?? 'troupe'
    // Filled in below; the router asks only once messages flow.
    let host: DurableHost | undefined
    this.router = new Router({ ...options.router, defaultStream: stream, isKeyed: (type) => host?.types.get(type)?.kind !== 'stateless', routeAs: firingRoute })
    this.transport = new KinesisTransport({ client: options.kinesis, router: this.router, ...(options.codec ? { codec: options.codec } : {}), lingerMs: options.lingerMs ?? 10, ordering: options.ordering ?? 'strict', aggregate: options.aggregate ?? true })
    this.claimCheck = options.payloads && new ClaimCheck({ store: new DynamoDBPayloadStore(table), ...options.payloads })
    // Outboxes too large for an instance's item (a fork of thousands of children) wait here.
    const overflow = (this.overflow = this.claimCheck?.store ?? new DynamoDBPayloadStore(table))
    host = this.host = new DurableHost({
      actors: options.actors,
      builtins: [
        (h) =>
          forkResultActor(async (forkId, joined, ctx) => {
            // The joined replies go with the fork's receipt, one item: larger ones wait in the overflow store.
            let reply = encode(joined)
            if (Buffer.byteLength(reply) > KEPT_RESULT_BYTES) {
              const key = `fork/${forkId}`
              await overflow.put(key, Buffer.from(reply, 'utf8'), this.clock.now() + FORK_RESULT_TTL_MS)
              reply = encode({ [KEPT_RESULT]: key })
            }
            h.addEntry(ctx, { kind: 'receipt', record: h.receiptRecord({ id: forkId as MessageId, type: FORK_RESULT, key: '', attempt: 1 }, 'done', undefined, { reply }) })
          }),
      ],
      state: this.states,
      timers: this.timerStore,
      journal: this.journal,
      messages: { send: (envelopes) => this.sendTracked(envelopes) },
      ...(options.codec ? { codec: options.codec } : {}),
      ...(this.claimCheck ? { claimCheck: this.claimCheck } : {}),
      ...(options.filters ? { filters: options.filters } : {}),
      clock: this.clock,
      random: options.random ?? Math.random,
      logger: this.logger,
      checkSerializable: this.checkSerializable,
      receiptsForAll: this.receiptsForAll,
      ...(options.receiptTtlMs !== undefined ? { receiptTtlMs: options.receiptTtlMs } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      // The state item also carries keys and version: leave them room.
      maxItemBytes: DYNAMODB_MAX_ITEM_BYTES - 4 * 1024,
      overflow,
      onTimer: (dueAt) => this.timerRunner.notify(dueAt),
      onReceipts: (records) => this.wake(records),
      onEvent: (event) => this.emit(event),
      onCommit: (type, key, state, updatedAt, lastMessageId) => this.remember(type, key, state, updatedAt, lastMessageId),
    })
    this.timerRunner = new TimerRunner(this.clock, this.timerStore, (t) => this.fireTimer(t), this.logger)
    this.pausing = new DurablePauses(
      this.states,
      async (envelope) => {
        const result = await this.transport.enqueue(await this.offload(envelope))
        if (result.status === 'failed') throw result.error
      },
      () => this.clock.now(),
    )
    this.firesTimers = options.timers ?? options.consume ?? true
    if (this.firesTimers) {
      this.timerRunner.start()
      this.tick = setInterval(() => this.timerRunner.poke(), options.timerTickMs ?? 10_000)
      this.tick.unref()
    }
    if (process.env.TROUPE_LAMBDA_BUNDLE === 'true') {
      // A Lambda bundle defines this at build time, so the consumer, its reader and its leases
      // are dead code there and left out: in Lambda the event source mapping reads the streams.
      if (options.consume ?? true) throw new ConfigError('an AwsSystem in a Lambda bundle does not read streams itself (consume: false); the event source mapping feeds the handler')
    } else if (options.consume ?? true) {
      this.consumer = new ShardConsumer({
        kinesis: options.kinesis,
        leases: new DynamoDBLeaseStore(table),
        streams: this.router.streams,
        logger: this.logger,
        pollMs: options.pollMs ?? 1_000,
        ...options.consumer,
        handler: (batch) => this.handleBatch(batch),
      })
      this.started = this.consumer.start().catch((error: unknown) => {
        this.logger.error('the shard consumer could not start; no turns run in this process', { error: (error as Error).message })
        throw error
      })
      this.started.catch(() => {}) // reported above, and again by idle()
    }
  }

  // ── sending ──────────────────────────────────────────────────────────────

  tell<C extends ActorClass>(actor: C, body: InOf<C>, options?: TellOptions): Promise<MessageId>
  tell(type: string, body: unknown, options?: TellOptions): Promise<MessageId>
  async tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    const envelope = await this.envelope(target, body, options)
    if (options?.receipt || this.receiptsForAll) envelope.receipt = 'status'
    await this.put(envelope)
    return envelope.id
  }

  ask<C extends ActorClass>(actor: C, body: InOf<C>, options?: AskOptions): Promise<ReplyOf<C>>
  ask(type: string, body: unknown, options?: AskOptions): Promise<unknown>
  async ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    const envelope = await this.envelope(target, body, options)
    envelope.receipt = 'reply'
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    const started = this.clock.now()
    let receipt: Pick<StoredReceipt, 'status' | 'reply' | 'error'> | undefined
    if (this.invoke) receipt = await this.askByInvoke(envelope, timeoutMs)
    else await this.put(envelope)
    if (receipt === undefined) {
      receipt = await this.waitFor(envelope.id, FINAL_STATUSES, Math.max(0, started + timeoutMs - this.clock.now()))
      if (receipt === undefined || !FINAL_STATUSES.has(receipt.status)) {
        if (this.stopping) throw new SystemStoppedError('the system stopped before the reply came')
        throw new AskTimeoutError(envelope.type, envelope.key, envelope.id, receipt?.status ?? 'unknown', timeoutMs)
      }
    }
    if (receipt.status === 'done') {
      if (receipt.reply === undefined && receipt.error !== undefined) throw new TroupeError('TROUPE_REPLY_TOO_LARGE', receipt.error.message)
      return (receipt.reply === undefined ? undefined : decode(receipt.reply)) as never
    }
    throw new AskFailedError(envelope.type, envelope.id, receipt.status as 'dead' | 'filtered', asError(receipt.error))
  }

  /**
   * `ask` through a direct invocation of the host function (the `invoke` option): the message's
   * final receipt, or undefined when the host left it unfinished and it was put on the stream.
   */
  private async askByInvoke(envelope: Envelope, timeoutMs: number): Promise<Pick<StoredReceipt, 'status' | 'reply' | 'error'> | undefined> {
    // Its place in this process's lane is settled once no copy of it can be put any more: when
    // the function answers, or once it is on the stream (`putAgain`).
    const pos = this.host.lane.stamp(envelope)
    // The host raises this lane's fence for the instance to the ask's: true only once the instance
    // has read everything this process sent it on that stream before, which `after` (the last of
    // them) makes the host wait for. Without a last one kept (never told here, or forgotten), the
    // ask vouches for nothing.
    if (!this.lastTold.has(toldKey(envelope, this.router))) envelope.origin!.fence = '0'
    const putAgain: Promise<unknown>[] = []
    try {
      return await this.invokeHost(envelope, timeoutMs, putAgain)
    } finally {
      void Promise.allSettled(putAgain).then(() => this.host.lane.settle(pos))
    }
  }

  private async invokeHost(envelope: Envelope, timeoutMs: number, putAgain: Promise<unknown>[]): Promise<Pick<StoredReceipt, 'status' | 'reply' | 'error'> | undefined> {
    const { invoker, codec } = this.invoke!
    const functionName = invoker.functionName
    const what = `ask to ${envelope.type} (message ${envelope.id})`
    // Offloaded once: the copy put on the stream after an invocation with no answer is this one.
    const travelling = await this.offload(envelope)
    const data = codec.encode(travelling).toString('base64')
    // The accepted entry is written while the invocation runs, not before it: the function's
    // commit and its final entry do not depend on it (the entries' keys order the history
    // whichever lands first), and waiting for it cost the ask a DynamoDB round trip. It starts
    // once the invocation's request is on its way, which must not wait behind this one's CPU.
    // It goes without the message's trace link: the function writes that with the entry it
    // commits (and an unfinished ask's stream turn with its own), so writing it here too would
    // pay for the same item twice.
    const { trace: _linkedByTheFunction, ...acceptedEntry } = this.host.receiptRecord(envelope, 'accepted', undefined)
    const accepted = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.journal.putReceipts([acceptedEntry]))
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      )
    this.host.counts.get(envelope.type)!.accepted++
    this.emit({ type: '@troupe.accepted', at: this.clock.now(), envelope })
    const abort = new AbortController()
    const timer = this.clock.setTimeout(() => abort.abort(), timeoutMs)
    // stop() wakes the waiters of every message: it ends this wait too.
    let waiters = this.waiters.get(envelope.id)
    if (!waiters) this.waiters.set(envelope.id, (waiters = new Set()))
    const onStop = () => {
      if (this.stopping) abort.abort()
    }
    waiters.add(onStop)
    let text: string
    let functionError: string | undefined
    try {
      // Everything this process sent the instance before the ask's fence was taken is at or before `after` in its shard.
      const after = await this.lastTold.get(toldKey(envelope, this.router))
      const invocation: AskInvocation = { troupe: 'ask', envelope: data, stream: this.router.route(envelope).stream, ...(after ? { after } : {}) }
      const out = await invoker.invoke(JSON.stringify(invocation), abort.signal)
      text = out.payload
      functionError = out.functionError
    } catch (error) {
      await accepted
      // No answer: the function may still run the turn, or never have got it.
      putAgain.push(this.putAfterUnknownInvoke(travelling))
      if (abort.signal.aborted) {
        if (this.stopping) throw new SystemStoppedError('the system stopped before the reply came')
        // The invocation runs on; its receipt will say how it ended.
        throw new AskTimeoutError(envelope.type, envelope.key, envelope.id, 'accepted', timeoutMs)
      }
      throw new TroupeError('TROUPE_INVOKE_UNANSWERED', `${what}: invoking ${functionName} got no answer: ${(error as Error).message}; the message was put on its stream (it applies once, whether or not the function ran it), and its receipt will say how it ended`, { cause: error })
    } finally {
      this.clock.clearTimeout(timer)
      waiters.delete(onStop)
      if (waiters.size === 0 && this.waiters.get(envelope.id) === waiters) this.waiters.delete(envelope.id)
    }
    const notAccepted = await accepted
    if (functionError !== undefined) {
      this.flushAfterFailedInvoke(envelope)
      let detail = text
      try {
        const e = JSON.parse(text) as { errorType?: string; errorMessage?: string }
        detail = `${e.errorType}: ${e.errorMessage}`
      } catch {
        // not JSON: quote it as it is
      }
      throw new TroupeError('TROUPE_INVOKE_FAILED', `${what}: the function ${functionName} failed (${functionError}): ${detail.slice(0, 1_000)}`)
    }
    let answer: AskAnswer | undefined
    try {
      answer = JSON.parse(text) as AskAnswer
    } catch {
      // reported below
    }
    if (answer?.troupe !== 'answer') throw new TroupeError('TROUPE_INVOKE_FAILED', `${what}: the function ${functionName} did not answer an ask: ${text.slice(0, 200)}`)
    if (answer.status === 'unfinished') {
      // The host finishes it from the stream, where its receipt must begin as any ask's does.
      if (notAccepted) throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `${what}: the function left it unfinished, and its accepted receipt could not be written, so it was not put on the stream: ${notAccepted.message}`, { cause: notAccepted })
      this.logger.warn('an ask did not finish in its invocation; it goes on the stream', { actor: envelope.type, messageId: envelope.id, reason: answer.reason })
      const result = await this.enqueueTracked(await this.offload(envelope))
      if (result.status === 'failed') throw result.error
      return undefined
    }
    // The message ran and its final entry is kept: only the start of its history is missing.
    if (notAccepted) this.logger.warn("an ask's accepted receipt entry could not be written; its final entry was", { actor: envelope.type, messageId: envelope.id, error: notAccepted.message })
    return { status: answer.status, ...(answer.status === 'done' && answer.reply !== undefined ? { reply: answer.reply } : {}), ...(answer.error ? { error: answer.error } : {}) }
  }

  /**
   * After an invocation that ended in a function error: the function may have committed the turn
   * and died before putting the flush record that makes the instance's shard send what the turn
   * sent. A flush record here does it (it applies nothing, so putting one twice is harmless).
   */
  private flushAfterFailedInvoke(envelope: Envelope): void {
    if (!this.host.typeOf(envelope.type).stateful) return
    const flush = flushRecord(envelope.type, envelope.key, derivedId(envelope.id, 'flush'), envelope.correlationId, this.clock.now())
    const notPut = (error: Error) => this.logger.warn("could not put the flush record of a failed ask; what its turn sent waits for the instance's next message", { actor: envelope.type, messageId: envelope.id, error: error.message })
    this.transport.enqueue(flush).then(
      (r) => r.status === 'failed' && notPut(r.error),
      (error: unknown) => notPut(error as Error),
    )
  }

  /**
   * After an invocation with no answer (timed out, or its request broke off): the function may be
   * running the turn still, or may never run it. The message itself goes on its stream, with its
   * origin: a copy if the function applied it (and the flush the turn's messages need), the run if
   * not; a function still running after that finds a copy. Only once it is put may the ask's
   * position be settled: a fence past it would make the function's late run a copy of nothing.
   */
  private async putAfterUnknownInvoke(envelope: Envelope): Promise<void> {
    try {
      // Into the transport at once, before the caller hears of the failure and tells anything after it.
      const result = await this.enqueueTracked(envelope)
      if (result.status === 'failed') throw result.error
    } catch (error) {
      this.logger.error('an ask without an answer could not be put on its stream; it applies only if the function finished it', { actor: envelope.type, messageId: envelope.id, error: (error as Error).message })
    }
  }

  /** A validated envelope for a message from outside a turn. */
  private async envelope(target: ActorClass | string, body: unknown, options: TellOptions | undefined): Promise<Envelope> {
    if (this.stopping) throw new SystemStoppedError()
    const type = this.host.typeOf(target)
    const valid = await validateBody(type.type, type.schema, body)
    if (this.checkSerializable) assertSerializable(type.type, 'message', valid)
    const id = this.ids.id(this.ids.next())
    const correlationId = (options?.correlationId === undefined ? id : parseMessageId(options.correlationId, 'correlationId')) as string as CorrelationId
    return makeEnvelope({ id, type: type.type, key: type.keyOf(valid), body: valid, correlationId, sentAt: this.clock.now() })
  }

  /**
   * Puts one message on its stream (with an `accepted` receipt first when one is kept), at a new
   * position of this process's lane; rejects when Kinesis did not take it.
   */
  private async put(envelope: Envelope): Promise<void> {
    if (envelope.receipt !== undefined) await this.journal.putReceipts([this.host.receiptRecord(envelope, 'accepted', undefined)])
    const pos = this.host.lane.stamp(envelope)
    let result: SentResult | FailedResult
    try {
      const sending = this.inOrder(envelope).then((e) => this.transport.enqueue(e))
      if (this.invoke) this.rememberTold(envelope, sending)
      result = await sending
    } finally {
      this.host.lane.settle(pos)
    }
    if (result.status === 'failed') throw result.error
    this.host.counts.get(envelope.type)!.accepted++
    this.emit({ type: '@troupe.accepted', at: this.clock.now(), envelope })
  }

  /** One envelope through the transport, kept as the instance's last tell when this process made it. */
  private enqueueTracked(envelope: Envelope): Promise<SentResult | FailedResult> {
    const sending = this.transport.enqueue(envelope)
    if (this.invoke && envelope.origin?.lane === this.host.lane.lane) this.rememberTold(envelope, sending)
    return sending
  }

  /**
   * What the host sends: through the transport, and the messages of this process's lane (sent
   * outside any turn) kept as their instance's last tell, so a later ask by invocation waits for them.
   */
  private async sendTracked(envelopes: readonly Envelope[]): Promise<SendReport> {
    const sending = this.transport.send(envelopes)
    if (this.invoke) {
      envelopes.forEach((envelope, i) => {
        if (envelope.origin?.lane === this.host.lane.lane) this.rememberTold(envelope, sending.then((report) => report.results[i]!))
      })
    }
    return sending
  }

  /**
   * Keeps the furthest a tell went in its shard: a failed one leaves what held, and one retried
   * may land after a later one (the furthest of them is what an ask must wait for).
   */
  private rememberTold(envelope: Envelope, sending: Promise<SentResult | FailedResult>): void {
    const name = toldKey(envelope, this.router)
    const previous = this.lastTold.get(name)
    const position = Promise.all([previous, sending.catch(() => undefined)]).then(([before, r]) => {
      if (r?.status !== 'sent') return before
      const now: ShardPosition = { stream: r.stream, shardId: r.shardId, sequenceNumber: r.sequenceNumber, ...(r.member !== undefined ? { member: r.member } : {}) }
      if (before === undefined || before.shardId !== now.shardId || before.stream !== now.stream) return now
      const order = compareSequence(before.sequenceNumber, now.sequenceNumber) || (before.member ?? 0) - (now.member ?? 0)
      return order > 0 ? before : now
    })
    this.lastTold.delete(name)
    this.lastTold.set(name, position)
    // Oldest first: an ask to an instance forgotten here vouches for nothing (see askByInvoke).
    if (this.lastTold.size > REMEMBERED_TELLS) this.lastTold.delete(this.lastTold.keys().next().value!)
  }

  /**
   * The envelope to send, once every earlier tell to its instance has entered the transport: an
   * offload to the payload store takes a while, and a later small message must not overtake it.
   */
  private inOrder(envelope: Envelope): Promise<Envelope> {
    const offloaded = Promise.resolve(this.offload(envelope))
    if (!this.claimCheck) return offloaded
    return this.entering.run(instanceName(envelope), () => offloaded)
  }


  /** The envelope to send: with its body in the payload store when the claim check wants it there. */
  private offload(envelope: Envelope): Promise<Envelope> | Envelope {
    return this.claimCheck ? this.claimCheck.offload(envelope) : envelope
  }

  // ── receipts ─────────────────────────────────────────────────────────────

  async receipt(id: string): Promise<Receipt | undefined> {
    const stored = await this.journal.receipt(id, this.clock.now())
    return stored && toReceipt(stored)
  }

  async awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt> {
    const wanted = new Set<MessageStatus>(options?.status ?? FINAL_STATUSES)
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    const stored = await this.waitFor(id, wanted, timeoutMs)
    if (stored === undefined || !stored.history.some((e) => wanted.has(e.status))) {
      throw new ReceiptTimeoutError(id, [...wanted], stored?.status ?? 'no receipt', timeoutMs)
    }
    return toReceipt(stored)
  }

  /**
   * Reads a receipt until one of its entries has a wanted status, the time is up or the
   * system stops; returns the last read. Reads again at once when this process's host
   * wrote an entry for the message, else polls, slowing down.
   */
  private async waitFor(id: string, wanted: ReadonlySet<MessageStatus>, timeoutMs: number): Promise<StoredReceipt | undefined> {
    const deadline = this.clock.now() + timeoutMs
    let last: StoredReceipt | undefined
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      last = await this.journal.receipt(id, this.clock.now())
      if (last?.history.some((e) => wanted.has(e.status))) return last
      const left = deadline - this.clock.now()
      if (left <= 0 || this.stopping) return last
      await new Promise<void>((resolve) => {
        let set = this.waiters.get(id)
        if (!set) this.waiters.set(id, (set = new Set()))
        const done = () => {
          this.clock.clearTimeout(timer)
          set!.delete(done)
          if (set!.size === 0) this.waiters.delete(id)
          resolve()
        }
        const timer = this.clock.setTimeout(done, Math.min(delay, left))
        set.add(done)
      })
    }
  }

  private wake(records: readonly ReceiptRecord[]): void {
    if (this.waiters.size === 0) return
    for (const r of records) for (const done of [...(this.waiters.get(r.id) ?? [])]) done()
  }

  // ── fork/join and timers ─────────────────────────────────────────────────

  async fork<const T extends readonly ActorClass[], Value = undefined>(children: ForkChildren<T>, options: JoinOptions<Value>): Promise<Joined<T, Value>> {
    if (this.stopping) throw new SystemStoppedError()
    const forkId = this.ids.id(this.ids.next())
    const checked = (children as readonly (readonly [ActorClass, unknown])[]).map(([actor, body]) => [actor, this.host.checkOutgoing(actor, body)] as const)
    const cause = { id: forkId, correlationId: forkId as string as CorrelationId }
    const effects = this.host.planFork({
      forkId,
      childId: (i) => derivedId(forkId, i),
      children: checked,
      join: this.host.typeOf(FORK_RESULT).cls,
      options: options as JoinOptions<unknown>,
      cause,
      forward: undefined,
    })
    await this.host.sendEntries(this.host.entries(effects, cause))
    const timeoutMs = options.timeoutMs + FORK_GRACE_MS
    const receipt = await this.waitFor(forkId, new Set(['done']), timeoutMs)
    if (receipt?.reply === undefined) {
      if (this.stopping) throw new SystemStoppedError('the system stopped before the fork joined')
      throw new AskTimeoutError(FORK_RESULT, '', forkId, 'unknown', timeoutMs)
    }
    const result = decode(receipt.reply) as Joined<T, Value> | Record<typeof KEPT_RESULT, string>
    if (!(KEPT_RESULT in result)) return result
    const data = await this.overflow.get(result[KEPT_RESULT])
    if (data === undefined) throw new TroupeError('TROUPE_OVERFLOW_MISSING', `the joined replies of fork ${forkId} are not in the overflow store under ${result[KEPT_RESULT]}`)
    return decode(Buffer.from(data).toString('utf8')) as Joined<T, Value>
  }

  async schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    if (this.stopping) throw new SystemStoppedError()
    const type = this.host.typeOf(actor)
    const checked = this.host.checkOutgoing(actor, body)
    const id = options.name ?? this.ids.id(this.ids.next())
    const timer = timerRecord(`system.schedule(${type.type})`, type.type, checked, options, this.clock.now(), { id, correlationId: id })
    await this.timerStore.put(timer)
    this.timerRunner.notify(timer.dueAt)
    return id
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

  async cancelSchedule(id: string): Promise<void> {
    await this.timerStore.delete(id)
  }

  timers(): Promise<TimerRecord[]> {
    return this.timerStore.list()
  }

  /**
   * A timer came due. Its firing goes on the stream to the timer's own instance (actors/timer.ts),
   * which sends the timer's message once per firing, however many processes fire it. A
   * throttle's wake-up runs the instance's parked messages here, as a direct run of a flush
   * record (what they send goes out through the instance's shard); it also flushes what a direct
   * turn left waiting. Resolves once done; only then does the runner move the timer on.
   */
  private async fireTimer(timer: TimerRecord): Promise<void> {
    if (timer.target === THROTTLE_WAKE) {
      const { type, key } = wakeTarget(timer)
      const meta = decodeMeta((await this.states.get(type, key))?.meta)
      if (meta.parked === undefined && !meta.outbox?.some((s) => s.lane === PENDING)) return // ran already: nothing waits
      const stream = this.router.route({ id: timer.id as MessageId, type, key } as Envelope).stream
      if (!(await this.host.runWaiting(type, key, derivedId(timer.id as MessageId, 'flush'), stream))) {
        throw new TroupeError('TROUPE_WAKE_UNFINISHED', `the parked messages of ${type}#${key} did not all run; the wake-up ${timer.id} fires again`)
      }
      return
    }
    const causationId = timer.causationId as MessageId | undefined
    const fields = {
      id: derivedId(timer.id as MessageId, `${timer.dueAt}.fired`),
      correlationId: timer.correlationId as CorrelationId,
      parentId: causationId,
      causationId,
      sentAt: this.clock.now(),
    }
    let firing: TimerFiring
    // Kept encoded until it decodes: a body that cannot be read is kept as it was stored, never lost.
    let body: unknown = timer.body
    try {
      body = decode(timer.body)
      const key = this.host.typeOf(timer.target).keyOf(body)
      firing = { timerId: timer.id, dueAt: timer.dueAt, fired: timer.fired, target: timer.target, key, body, correlationId: timer.correlationId, ...(causationId ? { causationId } : {}) }
    } catch (error) {
      // The letter keeps the error that stopped the firing and the body the timer would have told.
      const envelope = makeEnvelope({ ...fields, id: derivedId(timer.id as MessageId, timer.dueAt), type: timer.target, key: '', body })
      const letter: DeadLetter = { envelope, error: errorRecord(error), attempts: [], deadAt: this.clock.now() }
      await this.journal.putDeadLetters([letter])
      this.logger.error('timer could not fire; dead-lettered', { timerId: timer.id, error: letter.error.message })
      return
    }
    // A target that recognises a second firing itself gets the message straight, in due-time
    // order with what else comes to it; any other firing goes through the timer's instance.
    const envelope = timer.direct
      ? makeEnvelope({ ...fields, id: derivedId(timer.id as MessageId, timer.dueAt), type: timer.target, key: firing.key, body: firing.body })
      : makeEnvelope({ ...fields, type: TIMER, key: timer.id, body: firing })
    if (timer.direct && this.receiptsForAll) envelope.receipt = 'status'
    const pos = this.host.lane.stamp(envelope)
    try {
      const result = await this.enqueueTracked(await this.offload(envelope))
      if (result.status === 'failed') throw result.error
    } finally {
      this.host.lane.settle(pos)
    }
  }

  /** Fires every timer due now and resolves when they are sent (a scheduled tick in a Lambda). */
  fireDueTimers(): Promise<void> {
    return this.timerRunner.fireDue()
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
    const type = this.host.typeOf(actor)
    const byKey = this.seen.get(type.type)
    if (!byKey?.has(key) || this.inFlight().perInstance.has(`${type.type}#${key}`)) return false
    byKey.delete(key)
    return true
  }

  // ── reading ──────────────────────────────────────────────────────────────

  state<C extends ActorClass>(actor: C, key?: string): Promise<StateOf<C> | undefined>
  async state(actor: ActorClass, key = ''): Promise<never> {
    const type = this.host.typeOf(actor)
    const stored = await this.states.get(type.type, key)
    return (stored === undefined ? undefined : decode(stored.state)) as never
  }

  /**
   * The instances whose turns ran in this process lately (the table holds all of them), with
   * what `inspect()` counts of each: its turn under way, and its messages waiting here.
   */
  instances<C extends ActorClass>(actor: C): InstanceSnapshot<StateOf<C>>[]
  instances(actor: string): InstanceSnapshot[]
  instances(actor: ActorClass | string): InstanceSnapshot<never>[] {
    const type = this.host.typeOf(actor)
    const { perInstance } = this.inFlight()
    return [...(this.seen.get(type.type)?.values() ?? [])].map((i) => {
      const busy = perInstance.get(`${i.type}#${i.key}`)
      return { ...i, queued: busy?.queued ?? 0, running: busy?.running ?? false }
    }) as InstanceSnapshot<never>[]
  }

  private remember(type: string, key: string, state: unknown, updatedAt: number, lastMessageId: string | undefined): void {
    let byKey = this.seen.get(type)
    if (!byKey) this.seen.set(type, (byKey = new Map()))
    byKey.delete(key)
    if (state === undefined) return
    byKey.set(key, { type, key, state, queued: 0, running: false, lastMessageId, updatedAt })
    if (byKey.size > REMEMBERED_INSTANCES) byKey.delete(byKey.keys().next().value!)
  }

  deadLetters(filter?: { type?: string }): Promise<DeadLetter[]> {
    return Promise.resolve(this.journal.deadLetters(filter?.type))
  }

  async replay(id: string): Promise<MessageId> {
    if (this.stopping) throw new SystemStoppedError()
    const letter = await this.journal.takeDeadLetter(id)
    if (!letter) throw new NoDeadLetterError(id)
    // A replay is a new run of the message: a new place in this process's lane, so receivers that
    // saw the message end (dead) do not take the replay for a copy of it.
    const { origin: _old, ...rest } = letter.envelope
    const envelope: Envelope = { ...rest, attempt: 0 }
    const pos = this.host.lane.stamp(envelope)
    try {
      // A record no host could read is no message: its bytes go back on their stream as they were.
      const record = recordToPutBack(letter, this.router.streams)
      if (record) {
        const data = withNewOrigins(record.data, this.codec, (i) => this.host.lane.origin(pos, i))
        await this.transport.putData({ ...record, data }, { actor: envelope.type, messageId: envelope.id })
      } else {
        // The replay is a new run of the message: its receipt starts again.
        if (envelope.receipt !== undefined) {
          await this.journal.deleteReceipt(envelope.id)
          await this.journal.putReceipts([this.host.receiptRecord(envelope, 'accepted', undefined)])
        }
        const result = await this.enqueueTracked(await this.offload(envelope))
        if (result.status === 'failed') throw result.error
      }
    } catch (error) {
      await this.journal.putDeadLetters([letter]) // not sent: it stays a dead letter
      throw error
    } finally {
      this.host.lane.settle(pos)
    }
    this.emit({ type: '@troupe.replayed', at: this.clock.now(), envelope })
    return envelope.id
  }

  /**
   * Counts of this process. On AWS a message waits in the stream, not here: `queued` and
   * `running` count only the messages of batches this process's host is running now (none when
   * a Lambda is the host). The host runs a batch's instances at once, one turn at a time each:
   * `running` is the instances of the type with a turn under way (loading, running or
   * committing), `queued` the messages waiting behind those turns, or for a retry's backoff (an
   * instance waiting for one is not running). Messages a pause or a throttle set aside wait in
   * their instance's item, and are not counted. `instances` is what `instances()` lists.
   */
  inspect(): SystemSnapshot {
    let dead = 0
    const { perType } = this.inFlight()
    const actors = [...this.host.types.values()].map((type) => {
      const { duplicates: _d, conflicts: _c, ...counts } = this.host.counts.get(type.type)!
      dead += counts.dead
      const busy = perType.get(type.type)
      return {
        type: type.type,
        kind: type.kind,
        instances: this.seen.get(type.type)?.size ?? 0,
        queued: busy?.queued ?? 0,
        running: busy?.running ?? 0,
        counts,
        lastActivityAt: undefined,
      }
    })
    const requests = this.requests.snapshot()
    let messages = 0
    for (const c of this.host.counts.values()) messages += c.done + c.filtered + c.dead
    return { at: this.clock.now(), actors, deadLetters: dead, cost: { messages, requests: requests.total.requests, byApi: requests.byApi } }
  }

  on(listener: Listener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  private emit(event: TroupeEvent): void {
    if (this.held.size !== 0) {
      if (event.type === '@troupe.done' || event.type === '@troupe.filtered' || event.type === '@troupe.dead') {
        for (const batch of this.held) batch.ended.add(event.envelope.id)
      } else if (event.type === '@troupe.retried') {
        // The host waits for the backoff inside the batch: until then the message waits, and no turn of its instance is under way.
        for (const batch of this.held) batch.backoff.set(event.envelope.id, event.at + event.delayMs)
      }
    }
    for (const l of this.listeners) {
      try {
        l(event)
      } catch (error) {
        this.logger.error('inspection listener threw', { event: event.type, error: (error as Error).message })
      }
    }
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
    if (!this.consumer) {
      if (this.idleHost) return this.idleHost()
      throw new ConfigError('idle() needs a system that consumes its streams (consume: true), or an idleHost that knows where they are consumed')
    }
    await this.started
    for (;;) {
      if (this.firesTimers) await this.timerRunner.fireDue()
      await this.transport.flush()
      const before = this.transport.stats.recordsSent
      await this.consumer.idle()
      await this.transport.flush()
      if (this.transport.stats.recordsSent !== before) continue
      if (this.host.parkedMessages === 0 || !this.firesTimers) return
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS))
    }
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
    const batches = [...this.held]
    for (const b of batches) b.atStop = this.pendingOf(b)
    clearInterval(this.tick)
    await this.timerRunner.stop()
    for (const set of this.waiters.values()) for (const done of [...set]) done()
    await this.started.catch(() => {})
    // Past the timeout the consumer goes on stopping on its own, once its batches end.
    const consumerStopped = this.consumer?.stop().catch((error: unknown) => this.logger.error('the shard consumer did not stop cleanly', { error: (error as Error).message }))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([consumerStopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, options?.timeoutMs ?? d.DEFAULT_STOP_TIMEOUT_MS)))])
    clearTimeout(timer)
    const report = this.stopReport(batches)
    await this.transport.close()
    return report
  }

  /** Where each message the batches held at `stop()` stands now, counted once (a copy in the same batch shares its id). */
  private stopReport(batches: readonly HeldBatch[]): StopReport {
    const where = new Map<string, keyof StopReport | undefined>()
    for (const b of batches) {
      // What the host left unfinished is read again from the checkpoint. What it passed over
      // unfinished before that point is neither the stream's any more nor this process's: a
      // message held by a pause or parked by a throttle waits in its instance's item, and a copy
      // of one applied already has nothing left to run.
      const from = b.failedFrom === undefined ? undefined : b.failedFrom === null ? b.records.length : b.records.findIndex((r) => r.sequenceNumber === b.failedFrom)
      for (const m of b.atStop ?? []) {
        if (where.get(m.id) === 'drained') continue
        if (b.ended.has(m.id)) where.set(m.id, 'drained')
        else if (from === undefined) where.set(m.id, 'stillRunning')
        else where.set(m.id, m.record >= from ? 'leftInStream' : undefined)
      }
    }
    const report: StopReport = { drained: 0, deadLettered: 0, stillRunning: 0, leftInStream: 0 }
    for (const field of where.values()) if (field !== undefined) report[field]++
    return report
  }

  /** Hands a batch the consumer read to the host, keeping it in `held` while the host runs it. */
  private async handleBatch(batch: ShardBatch): Promise<ShardHandlerResult> {
    // Stopping, this process takes no new messages, and the consumer reads on until each reader is
    // told to stop: what it reads meanwhile stays in the stream for whoever reads the shard next.
    const first = batch.records[0]?.sequenceNumber
    if (this.stopping && first !== undefined) return { failedFrom: first }
    const held: HeldBatch = { records: batch.records, ended: new Set(), backoff: new Map() }
    this.held.add(held)
    try {
      const records = batch.records.map((r) => ({ sequenceNumber: r.sequenceNumber, data: r.data, arrivedAt: r.approximateArrivalTimestamp }))
      const result = await this.host.handle({ stream: batch.stream, shardId: batch.shardId, records })
      held.failedFrom = result.failedFrom ?? null
      return result.failedFrom === undefined ? {} : { failedFrom: result.failedFrom }
    } finally {
      held.failedFrom ??= batch.records[0]?.sequenceNumber ?? null
      this.held.delete(held)
    }
  }

  /**
   * The messages of a held batch (read once). A record that is no message counts for none, nor
   * does a flush record: it carries no message, only wakes what waits in its instance's item.
   */
  private messagesOf(batch: HeldBatch): HeldMessage[] {
    if (batch.messages === undefined) {
      batch.messages = []
      batch.records.forEach((r, record) => {
        const decoded = this.codec.decodeAll(r.data)
        if (!decoded.ok) return
        for (const e of decoded.envelopes) {
          if (e.control !== undefined) continue
          const stateless = this.host.types.get(e.type)?.kind === 'stateless'
          batch.messages!.push({ id: e.id, type: e.type, instance: stateless ? e.id : `${e.type}#${e.key}`, record })
        }
      })
    }
    return batch.messages
  }

  /** The messages of a held batch not yet ended. */
  private pendingOf(batch: HeldBatch): HeldMessage[] {
    return this.messagesOf(batch).filter((m) => !batch.ended.has(m.id))
  }

  /**
   * The messages of held batches not yet ended, per instance and per type. An instance has a
   * turn under way unless one of its messages waits for a retry's backoff (the host runs an
   * instance's messages one at a time, and waits for the backoff before the next); the others
   * wait behind it.
   */
  private inFlight(): {
    perInstance: Map<string, { queued: number; running: boolean }>
    perType: Map<string, { queued: number; running: number }>
  } {
    const now = this.clock.now()
    const messages = new Map<string, { type: string; messages: number; backingOff: boolean }>()
    for (const batch of this.held) {
      for (const m of this.messagesOf(batch)) {
        if (batch.ended.has(m.id)) continue
        let i = messages.get(m.instance)
        if (!i) messages.set(m.instance, (i = { type: m.type, messages: 0, backingOff: false }))
        i.messages++
        if ((batch.backoff.get(m.id) ?? 0) > now) i.backingOff = true
      }
    }
    const perInstance = new Map<string, { queued: number; running: boolean }>()
    const perType = new Map<string, { queued: number; running: number }>()
    for (const [instance, i] of messages) {
      const running = !i.backingOff
      const queued = running ? i.messages - 1 : i.messages
      perInstance.set(instance, { queued, running })
      const t = perType.get(i.type) ?? { queued: 0, running: 0 }
      t.queued += queued
      if (running) t.running++
      perType.set(i.type, t)
    }
    return { perInstance, perType }
  }
}

function toReceipt(stored: StoredReceipt): Receipt {
  return { id: stored.id as MessageId, actor: stored.actor, key: stored.key, status: stored.status, attempts: stored.attempts, history: stored.history }
}

function asError(record: ErrorRecord | undefined): Error | undefined {
  if (record === undefined) return undefined
  const error = new Error(record.message)
  error.name = record.name
  return error
}
