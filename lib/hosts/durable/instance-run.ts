// One run of an instance's group of records (durable-host.ts is the map), in phases: the stored
// outbox sent again, placed or kept (stored-outbox.ts); the pass over its parked, held and new
// messages, each recognised as a copy or run as a turn (`runPass`); the one conditional write
// and the send of what it made, after it (`commit`); a direct run's flush record (`flushDirect`).
// A conflict throws out of `commit`: the caller reloads the instance and runs it again from the
// start, in a new InstanceRun (group-runner.ts); this run's outbox was never sent.
import type { Envelope } from '../../core/envelope.js'
import type { TroupeEvent } from '../../core/inspection.js'
import { earliest, positionOf } from '../../core/position.js'
import type { StoredInstance } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import { isNewer, loadedState, newerStateError, shownState } from '../../turn/state-version.js'
import { DIRECT, INVOKE_SHARD, type BatchResult, type Group, type Source } from './durable-batch.js'
import { message, type DurableContext } from './durable-context.js'
import { commitInstance, keptEnd } from './instance-commit.js'
import { damagedItemError, decodeMeta, metaProblem, reached, remember, type InstanceMeta, type MemberPosition } from './instance-meta.js'
import { throttleCommit } from './instance-throttle.js'
import { forgetSilent } from './lane-memory.js'
import { messageCount, PENDING, placeMessages, type OutboxEntry, type OutboxSegment } from './outbox.js'
import { spilledKeys } from './outbox-overflow.js'
import { keepPending, putFlushRecord } from './pending-outbox.js'
import { inconsistency, noRoom, noteInconsistent, noteRanLate, noteRead, noteRefused, verdict } from './record-reads.js'
import { parkedRetryAt, retryAtOf, retryDue, retryReason, RETRY_PARK_MS } from './retry-parking.js'
import { parkedReason, RunThrottles, type Wait } from './run-throttles.js'
import type { SentSegments } from './sent-segments.js'
import { placeStored } from './stored-outbox.js'
import { typePauseCheck } from './type-pause-check.js'
import type { TurnOutcomes } from './turn-outcomes.js'
import { itemMeasure, noRoomToWait, overflowingWaits } from './wait-room.js'

/** What a run uses of its host. */
export interface RunParts {
  readonly ctx: DurableContext
  readonly outcomes: TurnOutcomes
  readonly sent: SentSegments
  /** `type#key` → messages parked (by a throttle or for a retry) and due to wake, as this host's last commit of the instance left them. */
  readonly parkedHere: Map<string, ParkedHere>
}

/** An instance's messages parked (by a throttle or for a retry), as this host's last commit of it left them. */
export interface ParkedHere {
  type: string
  count: number
  /** When the first of them was sent (epoch ms): how long the line has been waiting. */
  oldestSentAt: number
  /** When their wake-up is due (epoch ms): past it, a host other than this one may have run them. */
  wakeAt: number
}

/**
 * Notes in `parkedHere` what waits in instance `name`'s item as `meta` says, for a wake-up: a paused
 * instance's parked messages wait for its resume, not for a wake-up, and are not counted.
 */
export function noteParked(parkedHere: Map<string, ParkedHere>, name: string, type: string, meta: InstanceMeta): void {
  if (meta.parked !== undefined && meta.wake !== undefined) parkedHere.set(name, { type, count: meta.parked.length, oldestSentAt: meta.parked.reduce((at, e) => Math.min(at, e.sentAt), Infinity), wakeAt: meta.wake.dueAt })
  else parkedHere.delete(name)
}

export class InstanceRun {
  private readonly ctx: DurableContext
  private readonly type: ActorType
  private readonly key: string
  private readonly stored: StoredInstance | undefined
  private readonly meta: InstanceMeta
  private readonly name: string
  private readonly shard: string
  /**
   * The instance's records in the batch that it had not read before. A record it read before (a
   * redelivery) may already be behind a fence its lane's copies carried, so it never gets new
   * messages; with none, this run only recognises copies and sends again what a redelivery must
   * (late work waits). What this run sends sits at the last of them that it reads (`commit`).
   */
  private readonly fresh: Group['records']
  private readonly lateWork: boolean
  /** Group records this run read: those before the one it stopped at, if it stopped. */
  private readCount: number
  private changed = false
  /** A direct run's spilled entries are kept until deleted: once a commit no longer refers to them, they go. */
  private readonly pendingSpills: string[]
  /** The stored outbox: what this run must send again, place, or keep. */
  private readonly kept: OutboxSegment[] = []
  private readonly placed: OutboxEntry[] = []
  private state: unknown
  private readonly entries: OutboxEntry[] = []
  private readonly events: TroupeEvent[] = []
  private failedAt: string | undefined
  private appliedHere = 0
  private duplicates = 0
  private readonly paused: boolean
  /** The item held or parked messages as loaded: a type resume's scan, whenever it came, saw them. */
  private readonly waitedBefore: boolean
  private throttles: RunThrottles | undefined

  constructor(
    private readonly parts: RunParts,
    private readonly group: Group,
    private readonly source: Source,
    private readonly deadline: number,
    private readonly result: BatchResult,
    private readonly checkEach: boolean,
  ) {
    const { type, key, stored } = group
    this.ctx = parts.ctx
    this.type = type
    this.key = key
    this.stored = stored
    const meta = (this.meta = decodeMeta(stored?.meta))
    this.name = `${type.type}#${key}`
    const problem = metaProblem(meta)
    if (problem !== undefined) throw damagedItemError(this.name, problem)
    const stream = source.stream
    this.shard = source.kind === 'shard' ? source.shard : INVOKE_SHARD
    this.fresh = source.kind === 'shard' ? group.records.filter((r) => !reached(meta, source.shard, r.sequenceNumber!, r.member?.index)) : []
    this.lateWork = source.kind === 'direct' || this.fresh.length !== 0
    this.readCount = group.records.length
    // Lanes silent for their horizon before this batch began are forgotten (a direct run forgets nothing).
    if (source.kind === 'shard' && source.firstArrival !== undefined) forgetSilent(meta.seen, stream, source.firstArrival, this.ctx.horizons)
    this.pendingSpills = spilledKeys(meta.outbox, PENDING)
    // A stateless message that failed in its shard's run comes to its waiting item to wait for its retry (group-runner.ts).
    if (group.failing !== undefined && meta.failing === undefined && stored === undefined) meta.failing = group.failing
    this.paused = meta.paused === true || group.typePaused === true
    this.waitedBefore = meta.held !== undefined || meta.parked !== undefined
  }

  /** Runs the group once; returns the earliest record left unfinished, if any. */
  async run(): Promise<string | undefined> {
    // A state of an older version is migrated by the first turn that runs on it (state-version.ts).
    // One stored by a newer version is neither run nor written here: thrown, the group runner logs
    // it and leaves the instance's records for redelivery, for a host that runs that version.
    this.state = this.stored === undefined ? undefined : loadedState(this.type, this.stored)
    if (isNewer(this.type, this.state)) throw newerStateError(this.type, this.key, this.state)
    const stored = await placeStored(this.ctx, this.parts.sent, this.group, this.source, this.name, this.meta.outbox ?? [], this.lateWork)
    this.kept.push(...stored.kept)
    this.placed.push(...stored.placed)
    if (stored.changed) this.changed = true
    await this.runPass()
    if (this.changed) await this.commit()
    else {
      // Nothing to write: the item stands as loaded, and says what waits in it (a wake-up another
      // host ran first, or one that found its messages run already, leaves none here).
      noteParked(this.parts.parkedHere, this.name, this.type.type, this.meta)
      this.ctx.committed(this.type, this.events)
    }
    await this.flushDirect()
    const { type, result, duplicates } = this
    result.applied += this.appliedHere
    result.duplicates += duplicates
    this.ctx.counts.get(type.type)!.duplicates += duplicates
    // Done for the batch's fence when its records can get no new message later: committed, or none was new here.
    this.group.done = this.failedAt === undefined && (this.changed || this.fresh.length === 0)
    return this.failedAt
  }

  /** The pass: parked messages, then held ones, then the group's records, each a copy or a turn. */
  private async runPass(): Promise<void> {
    const { type, meta, source, group, paused, entries, events, kept, placed, ctx } = this
    const { outcomes } = this.parts
    const { clock } = ctx
    // After a resume, what was held runs first, in the order it came, before this batch's records.
    const heldFirst = this.lateWork && !paused && meta.held !== undefined ? meta.held.map((envelope) => ({ sequenceNumber: undefined, envelope, held: true, parked: false, member: undefined, arrivedAt: undefined })) : []
    // Parked messages (for a token, a slot or a retry) came before any held one: a message is held only while paused,
    // and parked only while not. They run first, as far as the key's tokens allow.
    const parkedFirst = this.lateWork && !paused && meta.parked !== undefined ? meta.parked.map((envelope) => ({ sequenceNumber: undefined, envelope, held: false, parked: true, member: undefined, arrivedAt: undefined })) : []
    const throttles = (this.throttles = RunThrottles.of(type, meta, group.grant, clock.now()))
    // Tokens dealt to this run are the key's place in line: the commit keeps those it does not use.
    if (group.grant !== undefined && group.grant.times.length !== 0) this.changed = true
    // A message found no token, or waits for its retry: everything after it waits behind it, parked in order.
    let waiting = false
    /** Why the first of them waits: those after it are parked for the same. */
    let lineWait: Wait | undefined
    if (meta.wake !== undefined && meta.wake.dueAt <= clock.now()) {
      // The wake-up is due (its timer fired, or is about to): the commit puts a new one if messages stay parked.
      delete meta.wake
      if (meta.parked !== undefined) this.changed = true
    }
    const firstRecord = group.records[0]?.sequenceNumber ?? DIRECT
    // Held and parked messages that ran here: a copy of one later in this pass is known by its id.
    const ranHeld = new Set<string>()
    const pass = [...parkedFirst, ...heldFirst, ...group.records.map((r) => ({ ...r, held: false, parked: false }))]
    for (const [n, { sequenceNumber, envelope, held, parked, member, arrivedAt }] of pass.entries()) {
      if (envelope.control !== undefined) {
        // A flush record: nothing to apply; it only made this run, which ran what waits above.
        if (source.kind === 'shard') remember(meta, source.shard, sequenceNumber, envelope.id, 0, member)
        continue
      }
      if (!held && !parked) {
        const seen = ranHeld.has(envelope.id) || meta.held?.some((h) => h.id === envelope.id) || meta.parked?.some((p) => p.id === envelope.id) ? 'copy' : verdict(meta, source, sequenceNumber, envelope, member)
        if (seen === 'no room' || seen === 'refused') {
          // Not applied, and its lane not remembered: the memory of lanes has no room for it. The
          // letter keeps it; the instance's last refusals recognise a copy of it (record-reads.ts).
          noteRefused(meta, source, sequenceNumber, envelope, member)
          if (seen === 'refused') this.duplicates++
          else this.dead(envelope, noRoom(type, envelope, meta, ctx.horizons))
          continue
        }
        if (seen !== 'new') {
          if (seen === 'inconsistent') noteInconsistent(ctx, meta, source, sequenceNumber, envelope, member, arrivedAt)
          else noteRead(ctx, meta, source, sequenceNumber, envelope, member, arrivedAt)
          if (seen === 'copy') {
            this.duplicates++
            continue
          }
          // At or below the watermark, yet never applied here: kept as a dead letter, never skipped in silence.
          entries.push(...outcomes.dead(type, envelope, inconsistency(ctx, type, envelope, this.shard, sequenceNumber!, member, meta), []).entries)
          this.changed = true
          continue
        }
      }
      if (!held && !parked && meta.held !== undefined && !paused) {
        // A held message before it could not finish: this one waits for the redelivery.
        this.failedAt = earliest(this.failedAt, sequenceNumber ?? DIRECT)
        this.stopAt(n, parkedFirst.length + heldFirst.length)
        break
      }
      if (paused) {
        // Held in the item: the shard moves on, other keys flow, nothing is retried or lost.
        ;(meta.held ??= []).push(envelope)
        noteRead(ctx, meta, source, sequenceNumber, envelope, member, arrivedAt)
        if (envelope.receipt !== undefined) entries.push(outcomes.receiptEntry(envelope, 'paused', undefined, {}))
        this.changed = true
        continue
      }
      if (clock.now() >= this.deadline) {
        this.failedAt = held || parked ? firstRecord : (sequenceNumber ?? DIRECT)
        this.stopAt(n, parkedFirst.length + heldFirst.length)
        break
      }
      // A failed message whose retry is not due, or one without a token: it and all after it are parked.
      const retry = waiting || meta.failing === undefined ? undefined : await this.untilRetry(envelope, parked)
      if (retry === 'later') {
        this.failedAt = held ? firstRecord : (sequenceNumber ?? DIRECT)
        this.stopAt(n, parkedFirst.length + heldFirst.length)
        break
      }
      const wait = retry ?? throttles?.wait(clock.now())
      if (waiting || wait !== undefined) {
        waiting = true
        if (!parked) this.park(sequenceNumber, member, arrivedAt, envelope, held, wait ?? lineWait ?? { ms: 1, scope: 'key' })
        lineWait ??= wait
        // Still parked: nothing to write, unless the parked ones lack a wake-up.
        if (!parked || meta.wake === undefined) this.changed = true
        continue
      }
      throttles?.take()
      const prior = meta.failing?.id === envelope.id ? [...meta.failing.attempts] : []
      const ran = await outcomes.runMessage(type, envelope, this.state, prior, this.deadline, group.grant?.slot, RETRY_PARK_MS)
      if (ran.end === 'later') {
        meta.failing = { id: envelope.id, attempts: ran.failures, retryAt: ran.retryAt }
        this.changed = true
        if (parked || ran.retryAt - clock.now() > RETRY_PARK_MS) {
          // A long wait: parked at the head of its key's line, woken at its retry time (retry-parking.ts).
          waiting = true
          lineWait = { ms: ran.retryAt - clock.now(), scope: 'key', retry: true }
          if (!parked) this.park(sequenceNumber, member, arrivedAt, envelope, held, lineWait)
          else this.retrying(envelope)
          continue
        }
        // A short one: the record's next delivery runs it, once its retry is due (`untilRetry`).
        this.failedAt = held || parked ? firstRecord : (sequenceNumber ?? DIRECT)
        this.stopAt(n, parkedFirst.length + heldFirst.length)
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
      if (held || parked) noteRanLate(ctx, meta, envelope)
      let end = await outcomes.offloaded(type, envelope, prior, ran)
      if (this.checkEach) end = await keptEnd(ctx, outcomes, { type, envelope, prior, end, meta, kept, sent: [...placed, ...entries] })
      delete meta.failing
      if (end.end === 'done') this.state = end.state
      entries.push(...end.entries)
      events.push(...end.events)
      if (!held && !parked) noteRead(ctx, meta, source, sequenceNumber, envelope, member, arrivedAt)
      this.changed = true
      this.appliedHere++
    }
  }

  /**
   * Whether `envelope` must still wait for its retry (it is the failed message, its retry not
   * due): a parked message, or one with a long wait, stays or goes parked (how long); a short wait
   * is waited out here as far as the deadline allows (undefined once over), and what the deadline
   * cuts short is left for the record's next delivery (`later`), whose deadline is further.
   */
  private async untilRetry(envelope: Envelope, parked: boolean): Promise<Wait | 'later' | undefined> {
    const { clock } = this.ctx
    const retryAt = retryAtOf(this.meta, envelope.id)
    const ms = retryAt === undefined ? 0 : retryAt - clock.now()
    if (ms <= 0) return undefined
    if (parked || ms > RETRY_PARK_MS) return { ms, scope: 'key', retry: true }
    return (await retryDue(clock, retryAt!, this.deadline)) ? undefined : 'later'
  }

  /** The pass stops at its n-th message: at one from the item (held or parked), it reads none of the records. */
  private stopAt(n: number, fromItem: number): void {
    this.readCount = Math.max(0, n - fromItem)
  }

  /** The one conditional write, and the send of what this run made, after it. */
  private async commit(): Promise<void> {
    const measure = itemMeasure(this.type, this.state, this.meta, this.ctx)
    if (measure !== undefined) this.fitWaiting(measure)
    const { type, key, name, meta, source, group, kept, placed, entries, events, ctx } = this
    // Where what this run sends sits in its lane: the last record it read of those it had not read
    // before. Its commit passes the watermark over that record, so no later run places anything
    // there; a record the run stopped at stays unread, and the run that reads it places its own.
    const readNow = new Set(group.records.slice(0, this.readCount))
    const last = this.fresh.filter((r) => readNow.has(r)).at(-1)
    const at = last === undefined ? undefined : positionOf(last.sequenceNumber!, last.member?.index)
    const version = (this.stored?.version ?? 0) + 1
    // Parked messages wake when the throttles let them run, and not before the retry of a failed one at their head.
    const now = ctx.clock.now()
    const retryAt = parkedRetryAt(meta)
    if (this.throttles !== undefined) this.throttles.commit(type, key, meta, this.paused, version, entries, now, retryAt)
    else throttleCommit(type, key, meta, this.paused, version, entries, retryAt ?? now)
    const pauseCheck = typePauseCheck(type.type, key, meta, group.typePaused === true && !this.waitedBefore, version, now)
    if (pauseCheck !== undefined) entries.push(pauseCheck)
    // Again, with what the throttles keep (the tokens dealt to this run): rarely more goes.
    if (measure !== undefined) this.fitWaiting(measure)
    const made = [...placed, ...entries]
    let segment: OutboxSegment | undefined
    // Without a record of its own to sit at, what a run made waits as PENDING (pending-outbox.ts).
    let pendingNow: OutboxEntry[] | undefined
    let answered: string | undefined
    if (made.length !== 0) {
      if (source.kind === 'shard' && at !== undefined) {
        placeMessages(made, source.lane, at, 0, source.progress.fence())
        segment = { lane: source.lane, pos: at, entries: made }
        kept.push(segment)
      } else ({ pendingNow, answered } = await keepPending(ctx, group, source, kept, made))
    }
    const item = await commitInstance(ctx, { type, key, name, state: this.state, meta, kept, stored: this.stored, remembered: group.remembered === true, checkEach: this.checkEach }, version)
    if (answered !== undefined && meta.outbox?.some((s) => s.lane === PENDING && s.spilled !== undefined)) {
      // Too large for the item, the entries went to the overflow store, where no reader of a
      // receipt looks: its receipts are written now, as any direct run's were before.
      pendingNow = kept.find((s) => s.lane === PENDING)!.entries.filter((e) => e.kind !== 'message')
    }
    group.stored = item
    noteParked(this.parts.parkedHere, name, type.type, meta)
    ctx.options.onCommit?.(type.type, key, shownState(type, key, this.state), item.updatedAt, group.records.at(-1)?.envelope.id)
    ctx.committed(type, events)
    await ctx.overflow.dropUnreferenced(this.pendingSpills, meta.outbox)
    try {
      if (segment !== undefined) {
        await ctx.outbox.send(segment.entries, source.kind === 'shard' ? source.progress.fence() : undefined)
        this.parts.sent.rememberSent(name, segment)
      } else if (pendingNow !== undefined) {
        await ctx.outbox.send(pendingNow)
      }
    } catch (error) {
      // Committed: the next delivery of its position sends it (a direct run's: the shard's next turn of the instance).
      ctx.logger.warn('outbox not sent after commit; it goes out on redelivery', { actor: type.type, key: key || undefined, error: message(error) })
      this.failedAt = earliest(this.failedAt, group.records[0]?.sequenceNumber ?? DIRECT)
    }
  }

  /** The messages waiting in the item that it has no room for: dead letters instead (wait-room.ts), their records read already. */
  private fitWaiting(measure: () => number): void {
    for (const { envelope, list } of overflowingWaits(this.meta, this.ctx.options.maxItemBytes!, measure)) this.dead(envelope, noRoomToWait(this.type.type, envelope, list))
  }

  /** `envelope`, not applied, is a dead letter with `error`; one failing before (its attempts kept) ends here, and its letter keeps them. */
  private dead(envelope: Envelope, error: Error): void {
    const { meta } = this
    const prior = meta.failing?.id === envelope.id ? meta.failing.attempts : []
    if (prior.length !== 0) delete meta.failing
    this.entries.push(...this.parts.outcomes.dead(this.type, envelope, error, prior).entries)
    this.changed = true
  }

  /** The `retrying` receipt of the failed message, parked until its retry. */
  private retrying(envelope: Envelope): void {
    const failing = this.meta.failing
    if (envelope.receipt === undefined || failing?.id !== envelope.id || failing.retryAt === undefined) return
    this.entries.push(this.parts.outcomes.receiptEntry(envelope, 'retrying', retryReason(failing.attempts, failing.retryAt, this.ctx.clock.now()), {}))
  }

  /** A direct run whose messages wait in the item for the instance's shard puts a flush record there. */
  private async flushDirect(): Promise<void> {
    const { source, type, key } = this
    const pending = this.meta.outbox?.find((s) => s.lane === PENDING)
    // Counted whether spilled or not: a spilled segment's messages wait as well.
    if (source.kind === 'direct' && this.failedAt === undefined && pending !== undefined && messageCount(pending) !== 0) {
      // Messages wait in the item for the instance's shard: a flush record there makes the turn
      // that reads it place and send them.
      try {
        await putFlushRecord(this.ctx, source.envelope)
      } catch (error) {
        this.ctx.logger.warn("could not put a direct run's flush record on its stream; its messages go out with the instance's next record", { actor: type.type, key: key || undefined, error: message(error) })
        this.failedAt = DIRECT
      }
    }
  }

  /**
   * Parks a message that found no token, waits for its retry, or came behind one of those: kept in
   * the item in order, its record marked read so the shard moves on; a throttled one's receipt
   * says it is throttled.
   */
  private park(sequenceNumber: string | undefined, member: MemberPosition | undefined, arrivedAt: number | undefined, envelope: Envelope, held: boolean, wait: Wait): void {
    const { type, key, meta, source, entries, events } = this
    if (held) {
      meta.held!.shift()
      if (meta.held!.length === 0) delete meta.held
    } else {
      noteRead(this.ctx, meta, source, sequenceNumber, envelope, member, arrivedAt)
    }
    ;(meta.parked ??= []).push(envelope)
    // Those behind a message waiting for its retry are only queued.
    if (wait.retry) return this.retrying(envelope)
    const said = parkedReason(type, key, wait, meta.parked.length, envelope.key)
    if (envelope.receipt !== undefined) entries.push(this.parts.outcomes.receiptEntry(envelope, 'throttled', said.reason, {}))
    events.push({ type: '@troupe.throttled', at: this.ctx.clock.now(), actor: type.type, key: said.key, waitMs: wait.ms, scope: said.scope })
  }
}
