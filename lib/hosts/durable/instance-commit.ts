// An instance's commit (durable-host.ts is the map): the one conditional write per instance per
// batch, of its state, version, watermarks, what it saw of each lane, and its outbox. Built here:
// the state and bookkeeping encoded, an outbox too large for the item spilled to the overflow
// store first (outbox-overflow.ts), the item's expiry, and the size check; then written on the
// condition that the version is still the one the run loaded (a conflict reloads and reruns).
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { Envelope } from '../../core/envelope.js'
import { encode } from '../../core/serialization.js'
import type { StoredInstance, TimerOrder } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import { storedForm } from '../../turn/state-version.js'
import type { DurableContext } from './durable-context.js'
import { decodeMeta, encodeMeta, type InstanceMeta } from './instance-meta.js'
import { PENDING, type OutboxEntry, type OutboxSegment } from './outbox.js'
import { spilledKeys } from './outbox-overflow.js'
import type { Ended, TurnOutcomes } from './turn-outcomes.js'

/**
 * Rerun an instance's turns checking after each one that its item can keep what the turn left
 * (`keptEnd`). Rare: only after a commit too large for the item, or holding what superjson
 * refuses to write.
 */
export class CheckEachTurn extends Error {}

/** What a run commits of its instance `name` (`type#key`). */
export interface CommitOf {
  type: ActorType
  key: string
  name: string
  state: unknown
  /** The bookkeeping; its outbox is set here. */
  meta: InstanceMeta
  /** The outbox as this commit keeps it. */
  kept: OutboxSegment[]
  /** The item the run loaded (the write's condition). */
  stored: StoredInstance | undefined
  /** `stored` is remembered, not read now: the condition asks for its `updatedAt` too (durable-batch.ts `Group.remembered`). */
  remembered: boolean
  /** Set once a run's commit could not be written: each turn was checked instead (`keptEnd`). */
  checkEach: boolean
}

/** Writes commit `version` of an instance; throws `CheckEachTurn` (nothing written), or the store's error. */
export async function commitInstance(ctx: DurableContext, { type, key, name, state, meta, kept, stored, remembered, checkEach }: CommitOf, version: number): Promise<StoredInstance> {
  const { options, overflow } = ctx
  const at = ctx.clock.now()
  orderTimers(type, key, meta, kept, version, at)
  if (kept.length !== 0) meta.outbox = kept
  else delete meta.outbox
  // The state with the version of the code that kept it; one no turn migrated yet goes back as stored.
  let form: ReturnType<typeof storedForm>
  let metaText: string
  try {
    form = storedForm(type, state)
    metaText = encodeMeta(meta)
  } catch (error) {
    // A turn left what superjson refuses to write: rerun, checking each turn, so that the one
    // that left it is a dead letter instead of the whole instance failing on every delivery.
    if (!checkEach) throw new CheckEachTurn('not writable', { cause: error })
    throw error
  }
  const stateText = form.state
  if (options.maxItemBytes !== undefined && options.overflow !== undefined && Buffer.byteLength(stateText) + Buffer.byteLength(metaText) > options.maxItemBytes) {
    // Too large for the item with its outbox: the outbox waits in the overflow store, written
    // before the commit that refers to it (nothing refers to it if the commit loses).
    meta.outbox = await Promise.all(kept.map((k) => overflow.spill(name, version, k)))
    metaText = encodeMeta(meta)
    if (Buffer.byteLength(stateText) + Buffer.byteLength(metaText) > options.maxItemBytes) {
      // Still too large (a state near the limit beside small segments): every segment with entries waits there.
      meta.outbox = await Promise.all(meta.outbox.map((s) => overflow.spill(name, version, s, 0)))
      metaText = encodeMeta(meta)
    }
  }
  const item: StoredInstance = { state: stateText, version, updatedAt: at, meta: metaText }
  if (form.stateVersion !== undefined) item.stateVersion = form.stateVersion
  // A deleted instance keeps its watermarks for a while, to recognise redelivered messages, and so
  // does a state kept only to recognise what comes after its end (a joined fork), even with the
  // outbox of its last turn in it: a send gives up long before that (docs/guarantees.md).
  // A paused one (its item holds the pause, and maybe held messages) never expires, nor does one
  // that keeps the note of a replay on its way (replay-notes.ts): the note is all that tells its
  // copies from a message to apply.
  const ended = state === undefined ? meta.outbox === undefined : type.ended?.(state) === true
  if (meta.replays !== undefined) delete item.expiresAt
  else if (ended && !meta.paused && meta.held === undefined && meta.parked === undefined) item.expiresAt = item.updatedAt + ctx.tombstoneTtlMs
  else if (type.stateTtlMs !== undefined && meta.outbox === undefined) item.expiresAt = item.updatedAt + type.stateTtlMs
  const spilledNow = newSpills(stored?.meta, meta)
  if (options.maxItemBytes !== undefined && !checkEach && Buffer.byteLength(item.state) + Buffer.byteLength(item.meta!) > options.maxItemBytes) {
    await Promise.all(spilledNow.map((spilled) => overflow.drop(spilled)))
    throw new CheckEachTurn('too large')
  }
  try {
    await ctx.commits.run(() => options.state.put(type.type, key, item, stored?.version, remembered ? stored?.updatedAt : undefined))
  } catch (error) {
    // Not written, or written with its answer lost (a retried put then meets its own write as
    // a conflict): what this attempt spilled goes only if the item as it stands does not refer to it.
    if (spilledNow.length !== 0) await dropUnreferenced(ctx, type.type, key, spilledNow)
    throw error
  }
  return item
}

/**
 * Gives the timers this commit's turns named (those of `kept` without an order yet) their order:
 * the instance, the life of its item, `version` and their place. Only an instance with an item of
 * its own has versions that order them: not a stateless type's (its turns run anywhere, and one
 * waiting for its rate runs in an item of its own, `wait:<id>`). Timers not named by a turn (a
 * fork's deadline, a throttle's wake-up, one with an id of its own) have one write each and are
 * not ordered, nor are troupe's own actors' (`troupe.*`), which take a late firing as a no-op:
 * their cancels stay plain deletes, which leave nothing in the table.
 */
function orderTimers(type: ActorType, key: string, meta: InstanceMeta, kept: readonly OutboxSegment[], version: number, at: number): void {
  if (type.kind === 'stateless' || type.type.startsWith('troupe.')) return
  // No closure for the count: this runs on every commit, and most name no timer.
  let n = 0
  for (const segment of kept) {
    for (const e of segment.entries) {
      if (e.kind === 'schedule' && e.named && e.timer.order === undefined) e.timer = { ...e.timer, order: timerOrder(type, key, meta, version, at, n++) }
      else if (e.kind === 'cancel' && e.named && e.order === undefined) e.order = timerOrder(type, key, meta, version, at, n++)
    }
  }
}

/** The order of a commit's `n`-th named timer write. */
function timerOrder(type: ActorType, key: string, meta: InstanceMeta, version: number, at: number, n: number): TimerOrder {
  return { owner: `${type.type}#${key}`, life: (meta.life ??= at), v: version, n }
}

/** One turn's end and what its instance's item holds beside it, for `keptEnd`. */
export interface TurnLeft {
  type: ActorType
  envelope: Envelope
  /** The message's failed attempts before this one. */
  prior: AttemptRecord[]
  end: Ended
  meta: InstanceMeta
  kept: OutboxSegment[]
  /** What this run sends before the turn's own messages. */
  sent: OutboxEntry[]
}

/**
 * The end of a turn as its instance's item can keep it, for a run that checks each turn
 * (`CheckEachTurn`): a dead letter instead where what the turn left cannot be encoded, or where
 * its state would not fit the item beside the rest.
 */
export async function keptEnd(ctx: DurableContext, outcomes: TurnOutcomes, { type, envelope, prior, end, meta, kept, sent }: TurnLeft): Promise<Ended> {
  const { options } = ctx
  const outbox: OutboxSegment[] = [...kept, { lane: PENDING, pos: '0', entries: [...sent, ...end.entries] }]
  // A turn that did not end done keeps the state it began on, written before: only what it sends is new.
  let bytes = 0
  try {
    // The whole outbox is encoded even when an overflow store would keep it out of the item.
    const metaText = encodeMeta({ ...meta, outbox })
    if (end.end === 'done') bytes = Buffer.byteLength(encode(end.state)) + Buffer.byteLength(options.overflow ? encodeMeta({ ...meta, outbox: kept }) : metaText)
  } catch (error) {
    return outcomes.unwritable(type, envelope, prior, end, error)
  }
  if (end.end !== 'done' || options.maxItemBytes === undefined || bytes <= options.maxItemBytes) return end
  return outcomes.tooLarge(type, envelope, prior, bytes, options.overflow || kept.length !== 0 ? 'state' : 'outbox')
}

/** Deletes those of `spilled` that the instance's item, read now, does not refer to (left alone if it cannot be read). */
async function dropUnreferenced(ctx: DurableContext, type: string, key: string, spilled: readonly string[]): Promise<void> {
  let current: StoredInstance | undefined
  try {
    current = await ctx.options.state.get(type, key)
  } catch {
    return
  }
  await ctx.overflow.dropUnreferenced(spilled, decodeMeta(current?.meta).outbox)
}

/** The keys a commit's outbox spilled that the stored item did not refer to already. */
function newSpills(storedMeta: string | undefined, meta: InstanceMeta): string[] {
  const spilled = spilledKeys(meta.outbox)
  // Most commits spill nothing: the stored meta is not parsed again for them.
  if (spilled.length === 0) return spilled
  const before = new Set(spilledKeys(decodeMeta(storedMeta).outbox))
  return spilled.filter((key) => !before.has(key))
}
