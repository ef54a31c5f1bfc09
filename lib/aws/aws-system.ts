// The AWS mode as a System: the same actor classes and the same API as the embedded default,
// with Kinesis carrying the messages and DynamoDB holding state, timers, receipts and dead
// letters. `tell` puts a record and resolves once Kinesis has it; turns run in the durable
// host, fed by the shard consumer in this process (a container, `troupe dev`) or by a Lambda
// (`consume: false` here: this process only sends, asks and reads).
//
// This file is the facade: it answers the System API with the parts aws-parts.ts builds. The parts,
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
//   dead-letter-replay.ts  sending a dead letter again (TableInspector's replay too)
//   aws-parts.ts           building all of these from the options, wired to one another
import type { ActorClass, InOf, ReplyOf, StateOf } from '../core/actor.js'
import type { Clock } from '../core/clock.js'
import * as d from '../core/defaults.js'
import { makeEnvelope, type Envelope } from '../core/envelope.js'
import { ConfigError, NotPausableError, SystemStoppedError } from '../core/errors.js'
import type { ForkChildren, Joined, JoinOptions } from '../core/fork.js'
import { parseMessageId, type CorrelationId, type MessageId } from '../core/ids.js'
import type { InstanceSnapshot, Listener, SystemSnapshot } from '../core/inspection.js'
import type { Logger } from '../core/logger.js'
import type { Receipt } from '../core/receipt.js'
import { checkTimerName, type ScheduleOptions } from '../core/schedule.js'
import type { AskOptions, AwaitReceiptOptions, Pause, StopOptions, StopReport, System, TellOptions } from '../core/system.js'
import { assertSerializable, validateBody } from '../core/validate.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { Router } from '../routing/router.js'
import type { TimerRecord } from '../store/index.js'
import type { DeadLetter } from '../core/dead-letter.js'
import type { KinesisTransport } from '../transport/kinesis.js'
import { currentState, loadedState } from '../turn/state-version.js'
import { outsideTrace } from '../turn/turn-trace.js'
import { forkAndJoin } from './aws-fork.js'
import type { AwsSystemOptions } from './aws-options.js'
import { awsParts, type AwsParts } from './aws-parts.js'
import type { BacklogGauges } from './backlog-gauges.js'
import { replayDeadLetter } from './dead-letter-replay.js'
import { answerOf, type AskOutcome } from './receipt-waiter.js'
import type { RequestCounter } from './request-counter.js'
import type { ShardConsumer } from './shard-consumer.js'

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
  private readonly parts: AwsParts
  private readonly idleHost: (() => Promise<void>) | undefined
  private stopping = false

  constructor(options: AwsSystemOptions) {
    const parts = (this.parts = awsParts(options, () => this.stopping))
    this.idleHost = options.idleHost
    this.clock = parts.clock
    this.logger = parts.logger
    this.host = parts.host
    this.transport = parts.transport
    this.consumer = parts.hosting?.consumer
    this.router = parts.router
    this.requests = parts.requests
    this.backlog = parts.backlog
  }

  // ── sending ──────────────────────────────────────────────────────────────

  tell(type: string, body: unknown, options?: TellOptions): Promise<MessageId>
  tell<C extends ActorClass>(actor: C, body: InOf<C>, options?: TellOptions): Promise<MessageId>
  async tell(target: ActorClass | string, body: unknown, options?: TellOptions): Promise<MessageId> {
    const envelope = await this.envelope(target, body, options)
    if (options?.receipt || this.parts.receiptsForAll) envelope.receipt = 'status'
    await this.parts.outbox.put(envelope)
    return envelope.id
  }

  ask(type: string, body: unknown, options?: AskOptions): Promise<unknown>
  ask<C extends ActorClass>(actor: C, body: InOf<C>, options?: AskOptions): Promise<ReplyOf<C>>
  async ask(target: ActorClass | string, body: unknown, options?: AskOptions): Promise<never> {
    const envelope = await this.envelope(target, body, options)
    envelope.receipt = 'reply'
    const timeoutMs = options?.timeoutMs ?? d.DEFAULT_ASK_TIMEOUT_MS
    const started = this.clock.now()
    let receipt: AskOutcome | undefined
    if (this.parts.invokeAsk) receipt = await this.parts.invokeAsk.ask(envelope, timeoutMs)
    else await this.parts.outbox.put(envelope)
    receipt ??= await this.parts.waiter.finalOf(envelope, Math.max(0, started + timeoutMs - this.clock.now()), timeoutMs)
    return answerOf(envelope, receipt) as never
  }

  /** A validated envelope for a message from outside a turn, carrying the caller's span. */
  private async envelope(target: ActorClass | string, body: unknown, options: TellOptions | undefined): Promise<Envelope> {
    const trace = outsideTrace()
    if (this.stopping) throw new SystemStoppedError()
    const type = this.host.typeOf(target)
    const valid = await validateBody(type.type, type.schema, body)
    if (this.parts.checkSerializable) assertSerializable(type.type, 'message', valid)
    const id = this.parts.ids.id(this.parts.ids.next())
    const correlationId = (options?.correlationId === undefined ? id : parseMessageId(options.correlationId, 'correlationId')) as string as CorrelationId
    const envelope = makeEnvelope({ id, type: type.type, key: type.keyOf(valid), body: valid, correlationId, sentAt: this.clock.now() })
    if (trace !== undefined) envelope.trace = trace
    return envelope
  }

  // ── receipts ─────────────────────────────────────────────────────────────

  receipt(id: string): Promise<Receipt | undefined> {
    return this.parts.waiter.receipt(id)
  }

  awaitReceipt(id: string, options?: AwaitReceiptOptions): Promise<Receipt> {
    return this.parts.waiter.awaitReceipt(id, options)
  }

  // ── fork/join and timers ─────────────────────────────────────────────────

  async fork<const T extends readonly ActorClass[], Value = undefined>(children: ForkChildren<T>, options: JoinOptions<Value>): Promise<Joined<T, Value>> {
    if (this.stopping) throw new SystemStoppedError()
    const forkId = this.parts.ids.id(this.parts.ids.next())
    return forkAndJoin({ host: this.host, waiter: this.parts.waiter, overflow: this.parts.overflow, stopping: () => this.stopping }, forkId, children, options)
  }

  async schedule(actor: ActorClass, body: unknown, options: ScheduleOptions): Promise<string> {
    if (this.stopping) throw new SystemStoppedError()
    return this.parts.timing.schedule(actor, body, options)
  }

  async cancelSchedule(id: string): Promise<void> {
    checkTimerName('system.cancelSchedule', id)
    await this.parts.timing.cancel(id)
  }

  timers(): Promise<TimerRecord[]> {
    return this.parts.timing.list()
  }

  /** Fires every timer due now and resolves when they are sent (a scheduled tick in a Lambda, whose time ends at `deadline`). */
  fireDueTimers(deadline?: number): Promise<void> {
    return this.parts.timing.fireDue(deadline)
  }

  // ── pausing ──────────────────────────────────────────────────────────────

  async pause(actor: ActorClass | string, key?: string): Promise<void> {
    await this.parts.pausing.pause(this.pausable(actor), key)
  }

  async resume(actor: ActorClass | string, key?: string): Promise<void> {
    await this.parts.pausing.resume(this.pausable(actor), key)
  }

  pauses(): Promise<Pause[]> {
    return this.parts.pausing.list()
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
    return this.parts.view.evict(this.host.typeOf(actor).type, key)
  }

  // ── reading ──────────────────────────────────────────────────────────────

  state<C extends ActorClass>(actor: C, key?: string): Promise<StateOf<C> | undefined>
  async state(actor: ActorClass, key = ''): Promise<never> {
    const type = this.host.typeOf(actor)
    const stored = await this.parts.states.get(type.type, key)
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
    return this.parts.view.instances(this.host.typeOf(actor).type) as InstanceSnapshot<never>[]
  }

  deadLetters(filter?: { type?: string }): Promise<DeadLetter[]> {
    return Promise.resolve(this.parts.journal.deadLetters(filter?.type))
  }

  async replay(id: string): Promise<MessageId> {
    if (this.stopping) throw new SystemStoppedError()
    const envelope = await replayDeadLetter(this.parts.replaying, id)
    this.parts.view.emit({ type: '@troupe.replayed', at: this.clock.now(), envelope })
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
   * parked (for a token, a slot, or a retry that waits long) and that still wait, `oldestParkedAt` says since when (`troupe inspect
   * actors` counts them all, from the table). `iteratorAgeMs` is how far behind the newest
   * record this process reads its streams. `instances` is what `instances()` lists.
   */
  inspect(): SystemSnapshot {
    return this.parts.view.snapshot()
  }

  on(listener: Listener): () => void {
    return this.parts.view.on(listener)
  }

  // ── idle and stop ────────────────────────────────────────────────────────

  /**
   * Resolves once everything sent so far, and everything it caused, has reached its final
   * outcome: the transport is empty and every shard is read to its end with no batch running
   * (a batch retries its messages inside it), no timer is due now (this process fires those
   * due), and no message this process parked still waits (for a throttle, or a retry that waits
   * long, which may take minutes; their wake-ups fire here). Timers due later are not waited for, nor messages held by a pause (they wait in
   * their instance's item, not in the stream). Needs `consume` (this process must be the host),
   * or an `idleHost` that knows when the host elsewhere is done; rejects with `TROUPE_CONFIG`
   * otherwise.
   */
  async idle(): Promise<void> {
    if (this.parts.hosting) return this.parts.hosting.idle()
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
    const batches = this.parts.batches.atStop()
    await this.parts.timing.stop()
    this.parts.waiter.wakeAll()
    await this.parts.hosting?.stop(options?.timeoutMs ?? d.DEFAULT_STOP_TIMEOUT_MS)
    this.parts.backlogMetrics?.stop()
    const report = this.parts.batches.stopReport(batches)
    await this.transport.close()
    return report
  }
}
