// A batch's intake in the durable host (durable-host.ts is the map): its records decoded (an
// aggregate record into its members) and their bodies restored from the claim check, grouped by
// instance in stream order; records that are no message for this host kept as dead letters; the
// first slice of the instances' states, the types' pause items and the shard's memory of stateless
// messages loaded in one read (the other slices are read as the batch runs: state-slices.ts); and
// which stateless messages are copies decided, before any of the batch runs.
import type { Envelope } from '../../core/envelope.js'
import { UnknownActorError } from '../../core/errors.js'
import { messageLogFields } from '../../core/logger.js'
import { earliest, positionOf } from '../../core/position.js'
import { oldestArrivals } from '../../metrics/backlog.js'
import { PayloadError } from '../../routing/claim-check.js'
import { unreadableRecordLetter } from '../../routing/unreadable-record.js'
import type { StoredInstance } from '../../store/index.js'
import { errorRecord, recordedError, type DeadLetter } from '../../core/dead-letter.js'
import type { ActorType } from '../../turn/actor-type.js'
import { laterDeath } from '../../turn/turn-effects.js'
import type { ActorRegistry } from '../../turn/registry.js'
import { BatchProgress } from './batch-progress.js'
import { groupStart, pauseRef, type DurableBatch, type DurableRecord, type Group, type ShardSource } from './durable-batch.js'
import { message, type DurableContext } from './durable-context.js'
import { decodeMeta, reached } from './instance-meta.js'
import { STATELESS_SEEN, StatelessMemory } from './stateless-memory.js'
import { readInSlices, readItems, SLICE_KEYS } from './state-slices.js'
import { typeRate } from './type-rates.js'
import { keepsItem, waitKey } from './waiting-message.js'

/** A batch taken in: its groups, ready to run. */
export interface Intake {
  /** Every group, stateful and stateless, in the order they first came. */
  all: Group[]
  stateless: Group[]
  source: ShardSource
  /** The shard's memory of stateless messages, as read with the state. */
  memory: StatelessMemory
  /** The first record the intake could not finish (a payload store or the dead letters' journal did not answer). */
  failedFrom: string | undefined
}

export class BatchIntake {
  constructor(
    private readonly ctx: DurableContext,
    private readonly registry: ActorRegistry<ActorType>,
  ) {}

  /** Takes in a batch whose first record is `first`; undefined when the state could not be loaded (the whole batch comes again). */
  async take(batch: DurableBatch, first: DurableRecord): Promise<Intake | undefined> {
    const { ctx } = this
    const shard = `${batch.stream}/${batch.shardId}`
    const groups = new Map<string, Group>()
    const undecodable: { sequenceNumber: string; letter: DeadLetter }[] = []
    let failedAt: string | undefined
    records: for (const record of batch.records) {
      const decoded = ctx.codec.decodeAll(record.data)
      if (!decoded.ok) {
        undecodable.push({ sequenceNumber: record.sequenceNumber, letter: this.undecodable(record, shard, decoded.reason, decoded.messageId, decoded.actor) })
        continue
      }
      // An aggregate record's members share its sequence number; each is known by its place in it.
      const count = decoded.envelopes.length
      for (let index = 0; index < count; index++) {
        let envelope = decoded.envelopes[index]!
        const member = decoded.aggregate ? { index, last: index === count - 1 } : undefined
        if (ctx.claimCheck) {
          try {
            envelope = await ctx.claimCheck.restore(envelope)
          } catch (error) {
            if (!(error instanceof PayloadError)) {
              // The payload store did not answer: this record and what follows come again.
              ctx.logger.error('could not fetch a payload; the batch will be delivered again', { ...messageLogFields(envelope), shard, error: message(error) })
              failedAt ??= record.sequenceNumber
              break records
            }
            undecodable.push({ sequenceNumber: record.sequenceNumber, letter: { envelope, error: errorRecord(error), attempts: [], deadAt: this.deadOnArrival(envelope, record) } })
            continue
          }
        }
        const type = this.registry.byType.get(envelope.type)
        // A flush record is for an instance with an item (stateful, or a message waiting for a
        // token); for anything else there is nothing to run.
        if (envelope.control !== undefined && (type === undefined || !keepsItem(type, envelope.key))) continue
        if (type === undefined) {
          const error = new UnknownActorError(envelope.type, this.registry.names(), `for message ${envelope.id} in this host`)
          undecodable.push({ sequenceNumber: record.sequenceNumber, letter: { envelope, error: errorRecord(error), attempts: [], deadAt: this.deadOnArrival(envelope, record) } })
          continue
        }
        // Unkeyed stateless messages need no order: each is a group of its own, and the copies of
        // one message (the same origin) share a group, so the second is known as a copy.
        const id = !keepsItem(type, envelope.key)
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
        await ctx.options.journal.putDeadLetters(undecodable.map((u) => u.letter))
        for (const u of undecodable) {
          ctx.logger.warn('record dead-lettered', { ...messageLogFields(u.letter.envelope), shard, sequenceNumber: u.sequenceNumber, error: u.letter.error.message })
          // Counted as any dead letter is, in its type's counts and metrics, when this host runs the
          // type: a type a record merely names gets no counts or metric of its own (a producer could
          // name any number of them). A batch delivered again counts its letters again.
          const type = this.registry.byType.get(u.letter.envelope.type)
          if (type !== undefined) ctx.committed(type, [{ type: '@troupe.dead', at: u.letter.deadAt, envelope: u.letter.envelope, error: recordedError(u.letter.error) }])
        }
      } catch (error) {
        ctx.logger.error('could not keep dead letters of bad records; the batch will be delivered again', { shard, error: message(error) })
        failedFrom = earliest(failedFrom, undecodable[0]!.sequenceNumber)
      }
    }

    const all = [...groups.values()]
    // A group's first record is its oldest (stream order): how long each type's records waited in the stream.
    if (ctx.options.onArrivals) ctx.options.onArrivals(oldestArrivals(all.map((g) => ({ type: g.type.type, arrivedAt: g.records[0]?.arrivedAt }))))
    // Everything of this lane before the batch's first record is done: the mapping (or the shard
    // consumer) delivers a record again until a run reports it done, and reports come in order.
    const firstPosition = positionOf(first.sequenceNumber)
    const source: ShardSource = {
      kind: 'shard',
      stream: batch.stream,
      shard,
      lane: `s:${shard}`,
      first: firstPosition,
      progress: new BatchProgress(firstPosition, all.map(groupStart)),
      firstArrival: first.arrivedAt,
    }
    const stateful = all.filter((g) => keepsItem(g.type, g.key))
    const stateless = all.filter((g) => !keepsItem(g.type, g.key))
    let laneItem: StoredInstance | undefined
    if (stateful.length !== 0 || stateless.length !== 0) {
      // The first slice of states comes in the one read before anything runs, with the types'
      // pause items, the lane's memory of stateless messages, and the states of throttled types
      // (their claim asks for tokens by what their items hold); the rest is read in slices as the
      // workers come to it (state-slices.ts).
      const types = [...new Set(stateful.map((g) => g.type.type))]
      const extras = types.length + (stateless.length !== 0 ? 1 : 0)
      const upFront: Group[] = []
      const later: Group[] = []
      for (const g of stateful) (typeRate(g.type) !== undefined || upFront.length < SLICE_KEYS - extras ? upFront : later).push(g)
      try {
        const refs = [...upFront.map((g) => ({ type: g.type.type, key: g.key })), ...types.map((t) => pauseRef(t))]
        if (stateless.length !== 0) refs.push({ type: STATELESS_SEEN, key: shard })
        const loaded = await this.read(refs)
        const paused = new Set(types.filter((_, i) => loaded[upFront.length + i] !== undefined))
        upFront.forEach((g, i) => (g.stored = loaded[i]))
        for (const g of stateful) g.typePaused = paused.has(g.type.type)
        if (stateless.length !== 0) laneItem = loaded[refs.length - 1]
      } catch (error) {
        ctx.logger.error('could not load state; the batch will be delivered again', { shard, error: message(error) })
        return undefined
      }
      if (later.length !== 0) readInSlices(later, (refs) => this.read(refs), ctx.logger, shard)
    }
    // Which stateless messages are copies is decided in stream order, before any runs: a later
    // record's fence speaks only of records before it.
    const memory = new StatelessMemory(ctx.options.state, batch.stream, shard, laneItem, ctx.horizons, () => ctx.clock.now(), first.arrivedAt)
    for (const g of stateless) {
      g.copy = memory.decide(g.records[0]!.envelope)
      const retry = memory.retryOf(g.records[0]!.envelope.id)
      if (retry !== undefined) {
        g.attempts = retry.attempts
        if (retry.retryAt !== undefined) g.retryAt = retry.retryAt
      }
    }
    if (memory.parking && !(await this.parkedBefore(stateless, shard))) return undefined
    return { all, stateless, source, memory, failedFrom }
  }

  /**
   * After a batch that parked stateless messages and did not keep its memory: those of this batch
   * whose waiting item read their record were parked there before (for a token, a slot, or their
   * retry), and are copies. An item that stopped before it (the run's time ran out, a retry not
   * due yet) may exist without it: that message is not a copy. False when the items could not be
   * read (the whole batch comes again).
   */
  private async parkedBefore(stateless: readonly Group[], shard: string): Promise<boolean> {
    const { ctx } = this
    const maybe = stateless.filter((g) => !g.copy && g.type.kind === 'stateless')
    if (maybe.length === 0) return true
    const refs = maybe.map((g) => ({ type: g.type.type, key: waitKey(g.records[0]!.envelope) }))
    try {
      const loaded = await this.read(refs)
      maybe.forEach((g, i) => {
        const r = g.records[0]!
        const item = loaded[i]
        if (item === undefined || !reached(decodeMeta(item.meta), shard, r.sequenceNumber!, r.member?.index)) return
        g.copy = true
        g.waitingItem = item
      })
      return true
    } catch (error) {
      ctx.logger.error('could not read the items of waiting messages; the batch will be delivered again', { shard, error: message(error) })
      return false
    }
  }

  /** Many items in the order asked. */
  private read(refs: readonly { type: string; key: string }[]): Promise<(StoredInstance | undefined)[]> {
    return readItems(this.ctx.options.state, refs)
  }

  /** A record that is no envelope: kept as a dead letter with all of its data (see unreadable-record.ts). */
  private undecodable(record: DurableRecord, shard: string, reason: string, messageId: string | undefined, actor: string | undefined): DeadLetter {
    return unreadableRecordLetter({ data: record.data, shard, sequenceNumber: record.sequenceNumber, reason, messageId, actor, now: this.deadAt(record) })
  }

  /**
   * When a message no host here can run (its type unknown, its payload gone) died: when it was sent,
   * the same on every copy of it (an outbox sent again, a put the transport tried again), so a copy's
   * letter is known as one; a replay of it dies later than its letter. Never after its record
   * arrived: a sender whose clock is ahead (or that writes any `sentAt` it likes) must not date a
   * letter so late that a later death of the message would be taken for a copy of it.
   */
  private deadOnArrival(envelope: Envelope, record: DurableRecord): number {
    return laterDeath(envelope, Math.min(envelope.sentAt, this.deadAt(record)), this.ctx.clock.now())
  }

  /**
   * When a record that is no message died: when it arrived on its stream, the same on every
   * delivery of it, so the letter a delivery again writes is known as a copy; its bytes put back
   * by a replay arrive later, and are a later death. Now, for a record that does not say.
   */
  private deadAt(record: DurableRecord): number {
    return record.arrivedAt ?? this.ctx.clock.now()
  }
}
