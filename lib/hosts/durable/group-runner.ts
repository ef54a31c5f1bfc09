// How a group of records runs in the durable host (durable-host.ts is the map): an instance's
// group in rounds of InstanceRun (instance-run.ts) until it commits, one run of an instance at a
// time in this host, a lost conditional write reloading it for the next round; a stateless
// message's turn at once, its messages sent with its record's origin (it has nothing to commit).
import { StoreConflictError } from '../../core/errors.js'
import { KeyedSequence } from '../../core/keyed-sequence.js'
import { messageLogFields } from '../../core/logger.js'
import { positionOf } from '../../core/position.js'
import type { StoredInstance } from '../../store/index.js'
import { DIRECT, pauseRef, type BatchResult, type Group, type ShardSource, type Source } from './durable-batch.js'
import { message, type DurableContext } from './durable-context.js'
import { CheckEachTurn } from './instance-commit.js'
import { InstanceRun, type ParkedHere, type RunParts } from './instance-run.js'
import { placeMessages } from './outbox.js'
import { RecentItems } from './recent-items.js'
import { SentSegments } from './sent-segments.js'
import type { TurnOutcomes } from './turn-outcomes.js'
import { parksAtOnce } from './type-slots.js'
import { readItems } from './state-slices.js'
import { RETRY_PARK_MS, retryDue } from './retry-parking.js'
import { keepsItem, waitKey } from './waiting-message.js'

/** Reruns of one instance after lost conditional writes, before its records are left for redelivery. */
const MAX_CONFLICT_ROUNDS = 5

export class GroupRunner implements RunParts {
  readonly sent = new SentSegments()
  /** Runs of each instance (`type#key`) in this host, one at a time. */
  private readonly runningHere = new KeyedSequence()
  /** `type#key` → messages parked (by a throttle or for a retry) and due to wake (RunParts). */
  readonly parkedHere = new Map<string, ParkedHere>()
  /** The items direct runs left, so that the next one on the same key need not read it (recent-items.ts). */
  readonly recent = new RecentItems()

  constructor(
    readonly ctx: DurableContext,
    readonly outcomes: TurnOutcomes,
  ) {}

  /**
   * Runs a group until it commits; returns the earliest record left unfinished, if any. An
   * instance runs one group at a time in this host: two runs for the same key would otherwise
   * both run turns (and their side effects) before one of them lost its commit.
   */
  async runGroup(group: Group, source: Source, deadline: number, result: BatchResult): Promise<string | undefined> {
    try {
      if (!keepsItem(group.type, group.key)) return await this.runStateless(group, source as ShardSource, deadline, result)
      // Its state is read with a later slice of its batch: unread, its records come again.
      if (group.slice !== undefined && !(await group.slice.ready())) return group.records[0]?.sequenceNumber ?? DIRECT
      return await this.runningHere.run(`${group.type.type}#${group.key}`, () => this.runGroupRounds(group, source, deadline, result))
    } finally {
      // Its slot of its type's concurrency is free again; the type's last group gives the lease back.
      await group.grant?.slot?.done(group)
    }
  }

  private async runGroupRounds(group: Group, source: Source, deadline: number, result: BatchResult): Promise<string | undefined> {
    const first = group.records[0]?.sequenceNumber ?? DIRECT
    let checkEach = false
    for (let round = 0; ; round++) {
      try {
        if (round !== 0) {
          await this.reload(group)
          if (this.outcomes.directAnswers.size !== 0) this.outcomes.forgetAnswers(group.records.map((r) => r.envelope.id))
        }
        const failed = await new InstanceRun(this, group, source, deadline, result, checkEach).run()
        // A direct ask's run keeps what it left itself (direct-runs.ts); any other may leave what this host remembers old.
        this.recent.drop(group.type.type, group.key)
        return failed
      } catch (error) {
        if (error instanceof StoreConflictError && round + 1 < MAX_CONFLICT_ROUNDS) {
          result.conflicts++
          this.ctx.counts.get(group.type.type)!.conflicts++
          continue
        }
        if (error instanceof CheckEachTurn && !checkEach) {
          const why = error.cause === undefined ? error.message : `${error.message}: ${message(error.cause)}`
          this.ctx.logger.warn('instance commit not written; its turns run again, each checked', { actor: group.type.type, key: group.key || undefined, why })
          checkEach = true
          continue
        }
        this.ctx.logger.error('instance left for redelivery', { actor: group.type.type, key: group.key || undefined, error: message(error) })
        return first
      }
    }
  }

  /** Reads instance `type#key`'s item with its type's pause item, as a stream batch reads them. */
  async load(type: string, key: string): Promise<{ stored: StoredInstance | undefined; typePaused: boolean }> {
    const sentAt = this.recent.now()
    const [stored, pause] = await readItems(this.ctx.options.state, [{ type, key }, pauseRef(type)])
    this.recent.readPause(type, pause !== undefined, sentAt)
    return { stored, typePaused: pause !== undefined }
  }

  /** The group's item and its type's pause read again, after a lost commit. */
  private async reload(group: Group): Promise<void> {
    const { stored, typePaused } = await this.load(group.type.type, group.key)
    group.stored = stored
    delete group.remembered
    group.typePaused = typePaused
  }

  /**
   * A stateless message's turn: its messages go out at once (it has nothing to commit), with the
   * origin of its record, so a rerun sends the same messages with the same origin. Copies of the
   * message were found before the batch ran (`Group.copy`).
   */
  private async runStateless(group: Group, source: ShardSource, deadline: number, result: BatchResult): Promise<string | undefined> {
    const { type } = group
    const { ctx, outcomes } = this
    const record = group.records[0]!
    if (group.copy && group.waitingItem !== undefined) {
      // Parked before: its item's run recognises the copy, and sends again what the commit that
      // parked it made, which the crash that left `parking` in the shard's memory may have lost.
      result.duplicates += group.records.length - 1
      ctx.counts.get(type.type)!.duplicates += group.records.length - 1
      return this.runWaiting(group, record, source, deadline, result)
    }
    if (group.copy) {
      result.duplicates += group.records.length
      ctx.counts.get(type.type)!.duplicates += group.records.length
      group.done = true
      return undefined
    }
    // Later copies of the same message in this batch are copies of this one.
    const copies = group.records.length - 1
    result.duplicates += copies
    ctx.counts.get(type.type)!.duplicates += copies
    if (ctx.clock.now() >= deadline) return record.sequenceNumber
    // A slot of its type's concurrency lost mid-batch (the shard's memory does not say it parks), or
    // none for a keyed actor without state (no item to wait in): it stays in the stream, for later.
    const slot = group.grant?.slot
    if (slot !== undefined && !slot.held(ctx.clock.now()) && !parksAtOnce(group, ctx.clock.now())) return this.notYet(source, record.sequenceNumber, slot.retryMs(), deadline)
    // Its type's rate dealt it a token not earned yet, or its type got no slot: it waits in an item
    // of its own, with the attempts it failed before and its retry's time, if any.
    if (parksAtOnce(group, ctx.clock.now())) return this.runWaiting(group, record, source, deadline, result, failingOf(group))
    // Its attempts go on from those of earlier deliveries: a retry that waits past every batch's
    // deadline still ends, as its policy says, instead of starting over each time; and it runs no
    // sooner than its retry asks. A long wait parks it; a short one, or one with no item to wait
    // in (a keyed actor without state), is waited out here as far as the deadline allows.
    const parksAfterMs = type.kind === 'stateless' ? RETRY_PARK_MS : Infinity
    const retryAt = group.retryAt ?? 0
    if (retryAt > ctx.clock.now()) {
      if (retryAt - ctx.clock.now() > parksAfterMs) return this.parkRetry(group, record, source, deadline, result)
      if (!(await retryDue(ctx.clock, retryAt, deadline))) return record.sequenceNumber
    }
    const ran = await outcomes.runMessage(type, record.envelope, undefined, [...(group.attempts ?? [])], deadline, group.grant?.slot, parksAfterMs)
    if (ran.end === 'later') {
      group.attempts = ran.failures
      group.retryAt = ran.retryAt
      // A long wait: the message waits in an item of its own, woken at its retry time (retry-parking.ts).
      if (ran.retryAt - ctx.clock.now() > parksAfterMs) return this.parkRetry(group, record, source, deadline, result)
      return record.sequenceNumber
    }
    const { entries, events } = await outcomes.offloaded(type, record.envelope, [], ran)
    placeMessages(entries, source.lane, positionOf(record.sequenceNumber!, record.member?.index), 0, source.progress.fence())
    try {
      await ctx.outbox.send(entries, source.progress.fence())
      ctx.committed(type, events)
    } catch (error) {
      ctx.logger.warn('outbox of a stateless turn not sent; it runs again on redelivery', { ...messageLogFields(record.envelope), error: message(error) })
      return record.sequenceNumber
    }
    result.applied++
    group.done = true
    return undefined
  }

  /**
   * Leaves a message that found no slot in the stream, after a jittered wait (the one a parked
   * message waits) within the batch's deadline: the stream delivers it again at once (a Lambda's
   * event source mapping does not wait), so without it a full cap would spin, a batch and a claim
   * after another. Its record and those after it come again in order; nothing is lost. The batch
   * waits once, whatever number of its messages found no slot: they all come again together.
   */
  private async notYet(source: ShardSource, sequenceNumber: string | undefined, waitMs: number, deadline: number): Promise<string | undefined> {
    if (source.slotWait === undefined) {
      const { clock } = this.ctx
      source.slotWait = clock.now() + waitMs < deadline ? new Promise<void>((resolve) => clock.setTimeout(resolve, waitMs)) : Promise.resolve()
    }
    await source.slotWait
    return sequenceNumber
  }

  /**
   * Parks a stateless message whose retry waits long in its waiting item, failing: the shard's
   * memory says `parking` first, as for a throttled one (stateless-memory.ts). Its attempts stay
   * in the memory until the item has them: a memory that cannot say so leaves the record for its
   * next delivery, which goes on from them.
   */
  private async parkRetry(group: Group, record: Group['records'][number], source: ShardSource, deadline: number, result: BatchResult): Promise<string | undefined> {
    try {
      await source.markParking!()
    } catch (error) {
      this.ctx.logger.warn("could not note in the shard's memory that a stateless message waits for its retry; its record is delivered again", { ...messageLogFields(record.envelope), error: message(error) })
      return record.sequenceNumber
    }
    return this.runWaiting(group, record, source, deadline, result, failingOf(group))
  }

  /** Parks a stateless message in its waiting item (waiting-message.ts), with the token dealt to it, or failing. */
  private async runWaiting(group: Group, record: Group['records'][number], source: ShardSource, deadline: number, result: BatchResult, failing?: Group['failing']): Promise<string | undefined> {
    const waiting: Group = { type: group.type, key: waitKey(record.envelope), records: [record], ...(group.grant ? { grant: group.grant } : {}), ...(failing ? { failing } : {}), ...(group.waitingItem ? { stored: group.waitingItem } : {}) }
    // Loaded only when found by `parkedBefore`: else it is new unless this is a redelivery, and then the write meets it as a conflict and reloads it.
    const failed = await this.runningHere.run(`${waiting.type.type}#${waiting.key}`, () => this.runGroupRounds(waiting, source, deadline, result))
    if (failed === undefined && waiting.done) group.done = true
    return failed
  }
}

/** A stateless message's failed attempts and its retry's time, as its waiting item starts with them: none when it never failed. */
function failingOf(group: Group): Group['failing'] {
  const attempts = group.attempts
  if (attempts === undefined || attempts.length === 0) return undefined
  return { id: group.records[0]!.envelope.id, attempts, retryAt: group.retryAt ?? 0 }
}
