// The batches the shard consumer hands this process's host, while the host runs them
// (aws-system.ts is the facade). On AWS a message waits in the stream, not in the process: what
// `inspect()` and `instances()` count as queued and running, what `evict` must not drop, and
// what `stop()` reports are the messages of these batches, followed by the host's events.
import type { Clock } from '../core/clock.js'
import type { TroupeEvent } from '../core/inspection.js'
import type { StopReport } from '../core/system.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { ShardBatch, ShardHandlerResult } from './shard-reader.js'

/** A batch the shard consumer handed this process's host, from the handoff until the host is done with it. */
export interface HeldBatch {
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
export interface HeldMessage {
  id: string
  type: string
  /** The instance it runs in: `type#key`, or the message id for a stateless type (each its own turn). */
  instance: string
  record: number
}

/** What held batches have not ended yet: per instance, and per type. */
export interface InFlight {
  perInstance: Map<string, { queued: number; running: boolean }>
  perType: Map<string, { queued: number; running: number }>
}

export class HeldBatches {
  private readonly held = new Set<HeldBatch>()

  constructor(
    private readonly host: DurableHost,
    private readonly codec: RecordCodec,
    private readonly clock: Clock,
  ) {}

  /**
   * Hands a batch the consumer read to the host, keeping it held while the host runs it.
   * Stopping, this process takes no new messages, and the consumer reads on until each reader is
   * told to stop: what it reads meanwhile stays in the stream for whoever reads the shard next.
   */
  async run(batch: ShardBatch, stopping: boolean): Promise<ShardHandlerResult> {
    const first = batch.records[0]?.sequenceNumber
    if (stopping && first !== undefined) return { failedFrom: first }
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

  /** Follows the host's events: a message ended, or waits for a retry's backoff. */
  note(event: TroupeEvent): void {
    if (this.held.size === 0) return
    if (event.type === '@troupe.done' || event.type === '@troupe.filtered' || event.type === '@troupe.dead') {
      for (const batch of this.held) batch.ended.add(event.envelope.id)
    } else if (event.type === '@troupe.retried') {
      // The host waits for the backoff inside the batch: until then the message waits, and no turn of its instance is under way.
      for (const batch of this.held) batch.backoff.set(event.envelope.id, event.at + event.delayMs)
    }
  }

  /** The batches held when `stop()` was called, each with its messages not yet ended then. */
  atStop(): readonly HeldBatch[] {
    const batches = [...this.held]
    for (const b of batches) b.atStop = this.pendingOf(b)
    return batches
  }

  /** Where each message the batches held at `stop()` stands now, counted once (a copy in the same batch shares its id). */
  stopReport(batches: readonly HeldBatch[]): StopReport {
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

  /**
   * The messages of held batches not yet ended, per instance and per type. An instance has a
   * turn under way unless one of its messages waits for a retry's backoff (the host runs an
   * instance's messages one at a time, and waits for the backoff before the next); the others
   * wait behind it.
   */
  inFlight(): InFlight {
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
}
