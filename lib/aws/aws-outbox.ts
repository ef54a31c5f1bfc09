// What an AwsSystem puts on its streams (aws-system.ts is the facade): the messages it tells, and
// what its host sends. Two things are kept here. An instance's tells enter the transport in the
// order they were told, though a large body's offload to the payload store takes a while. And
// with `invoke`, where this process's last tell to each instance went in its shard is kept: an
// ask by invocation names it, and the host waits for the instance to pass it (invoke-ask.ts).
import type { Envelope } from '../core/envelope.js'
import type { TroupeEvent } from '../core/inspection.js'
import { KeyedSequence } from '../core/keyed-sequence.js'
import { compareSequence } from '../core/position.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { ShardPosition } from '../platform/lambda-events.js'
import type { ClaimCheck } from '../routing/claim-check.js'
import type { Router } from '../routing/router.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { FailedResult, KinesisTransport, SendReport, SentResult } from '../transport/kinesis.js'

/** Instances whose last tell is remembered for an `ask` by invocation. */
const REMEMBERED_TELLS = 10_000

const instanceName = (envelope: Envelope) => `${envelope.type}#${envelope.key}`

export interface AwsOutboxOptions {
  transport: KinesisTransport
  router: Router
  host: DurableHost
  journal: DynamoDBJournalStore
  claimCheck: ClaimCheck | undefined
  /** Keep where each tell went: `ask` invokes the host, and must not overtake them. */
  trackTells: boolean
  now: () => number
  emit: (event: TroupeEvent) => void
}

export class AwsOutbox {
  private readonly transport: KinesisTransport
  private readonly router: Router
  private readonly host: DurableHost
  private readonly journal: DynamoDBJournalStore
  private readonly claimCheck: ClaimCheck | undefined
  private readonly trackTells: boolean
  private readonly now: () => number
  private readonly emit: (event: TroupeEvent) => void
  /** With `trackTells`: where this system's last tell to each instance went, for the ask that follows it. */
  private readonly lastTold = new Map<string, Promise<ShardPosition | undefined>>()
  /** Per instance, tells entering the transport in the order they were told (an offload takes a while). */
  private readonly entering = new KeyedSequence()

  constructor(options: AwsOutboxOptions) {
    this.transport = options.transport
    this.router = options.router
    this.host = options.host
    this.journal = options.journal
    this.claimCheck = options.claimCheck
    this.trackTells = options.trackTells
    this.now = options.now
    this.emit = options.emit
  }

  /**
   * Puts one message on its stream (with an `accepted` receipt first when one is kept), at a new
   * position of this process's lane; rejects when Kinesis did not take it.
   */
  async put(envelope: Envelope): Promise<void> {
    if (envelope.receipt !== undefined) await this.journal.putReceipts([this.host.receiptRecord(envelope, 'accepted', undefined)])
    const pos = this.host.lane.stamp(envelope)
    let result: SentResult | FailedResult
    try {
      const sending = this.inOrder(envelope).then((e) => this.transport.enqueue(e))
      if (this.trackTells) this.rememberTold(envelope, sending)
      result = await sending
    } finally {
      this.host.lane.settle(pos)
    }
    if (result.status === 'failed') throw result.error
    this.host.counts.get(envelope.type)!.accepted++
    this.emit({ type: '@troupe.accepted', at: this.now(), envelope })
  }

  /** One envelope through the transport, kept as the instance's last tell when this process made it. */
  enqueueTracked(envelope: Envelope): Promise<SentResult | FailedResult> {
    const sending = this.transport.enqueue(envelope)
    if (this.trackTells && envelope.origin?.lane === this.host.lane.lane) this.rememberTold(envelope, sending)
    return sending
  }

  /** One envelope offloaded and through the transport (`enqueueTracked`); rejects when Kinesis did not take it. */
  async sendOffloaded(envelope: Envelope): Promise<void> {
    const result = await this.enqueueTracked(await this.offload(envelope))
    if (result.status === 'failed') throw result.error
  }

  /**
   * What the host sends: through the transport, and the messages of this process's lane (sent
   * outside any turn) kept as their instance's last tell, so a later ask by invocation waits for them.
   */
  async sendTracked(envelopes: readonly Envelope[]): Promise<SendReport> {
    const sending = this.transport.send(envelopes)
    if (this.trackTells) {
      envelopes.forEach((envelope, i) => {
        if (envelope.origin?.lane === this.host.lane.lane) this.rememberTold(envelope, sending.then((report) => report.results[i]!))
      })
    }
    return sending
  }

  /** True when this process's last tell to the envelope's instance (on its stream) is kept. */
  hasTold(envelope: Envelope): boolean {
    return this.lastTold.has(this.toldKey(envelope))
  }

  /** The furthest this process's tells to the envelope's instance went in its shard, when kept. */
  toldAt(envelope: Envelope): Promise<ShardPosition | undefined> | undefined {
    return this.lastTold.get(this.toldKey(envelope))
  }

  /** The envelope to send: with its body in the payload store when the claim check wants it there. */
  offload(envelope: Envelope): Promise<Envelope> | Envelope {
    return this.claimCheck ? this.claimCheck.offload(envelope) : envelope
  }

  /** The instance and the stream a message to it goes to: an instance's records of one stream are in order. */
  private toldKey(envelope: Envelope): string {
    return `${instanceName(envelope)}|${this.router.route(envelope).stream}`
  }

  /**
   * Keeps the furthest a tell went in its shard: a failed one leaves what held, and one retried
   * may land after a later one (the furthest of them is what an ask must wait for).
   */
  private rememberTold(envelope: Envelope, sending: Promise<SentResult | FailedResult>): void {
    const name = this.toldKey(envelope)
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
    // Oldest first: an ask to an instance forgotten here vouches for nothing (see invoke-ask.ts).
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
}
