// An instance's commit (durable-host.ts is the map): the one conditional write per instance per
// batch, of its state, version, watermarks, what it saw of each lane, and its outbox. Built here:
// the state and bookkeeping encoded, an outbox too large for the item spilled to the overflow
// store first (outbox-overflow.ts), the item's expiry, and the size check; then written on the
// condition that the version is still the one the run loaded (a conflict reloads and reruns).
import type { StoredInstance } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import { storedForm } from '../../turn/state-version.js'
import type { DurableContext } from './durable-context.js'
import { decodeMeta, encodeMeta, type InstanceMeta } from './instance-meta.js'
import type { OutboxSegment } from './outbox.js'
import { spilledKeys } from './outbox-overflow.js'

/** Rerun an instance's turns checking the size after each one (rare: only after an oversized commit). */
export class TooLarge extends Error {}

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
  /** Set once a run's commit was too large: the size was checked after each turn instead. */
  checkEach: boolean
}

/** Writes commit `version` of an instance; throws `TooLarge` (nothing written), or the store's error. */
export async function commitInstance(ctx: DurableContext, { type, key, name, state, meta, kept, stored, checkEach }: CommitOf, version: number): Promise<StoredInstance> {
  const { options, overflow } = ctx
  if (kept.length !== 0) meta.outbox = kept
  else delete meta.outbox
  // The state with the version of the code that kept it; one no turn migrated yet goes back as stored.
  const form = storedForm(type, state)
  const stateText = form.state
  let metaText = encodeMeta(meta)
  if (options.maxItemBytes !== undefined && options.overflow !== undefined && Buffer.byteLength(stateText) + Buffer.byteLength(metaText) > options.maxItemBytes) {
    // Too large for the item with its outbox: the outbox waits in the overflow store, written
    // before the commit that refers to it (nothing refers to it if the commit loses).
    meta.outbox = await Promise.all(kept.map((k) => overflow.spill(name, version, k)))
    metaText = encodeMeta(meta)
  }
  const item: StoredInstance = { state: stateText, version, updatedAt: ctx.clock.now(), meta: metaText }
  if (form.stateVersion !== undefined) item.stateVersion = form.stateVersion
  // A deleted instance keeps its watermarks for a while, to recognise redelivered messages, and so
  // does a state kept only to recognise what comes after its end (a joined fork), even with the
  // outbox of its last turn in it: a send gives up long before that (docs/guarantees.md).
  // A paused one (its item holds the pause, and maybe held messages) never expires.
  const ended = state === undefined ? meta.outbox === undefined : type.ended?.(state) === true
  if (ended && !meta.paused && meta.held === undefined && meta.parked === undefined) item.expiresAt = item.updatedAt + ctx.tombstoneTtlMs
  else if (type.stateTtlMs !== undefined && meta.outbox === undefined) item.expiresAt = item.updatedAt + type.stateTtlMs
  const spilledNow = newSpills(stored?.meta, meta)
  if (options.maxItemBytes !== undefined && !checkEach && Buffer.byteLength(item.state) + Buffer.byteLength(item.meta!) > options.maxItemBytes) {
    await Promise.all(spilledNow.map((spilled) => overflow.drop(spilled)))
    throw new TooLarge()
  }
  try {
    await options.state.put(type.type, key, item, stored?.version)
  } catch (error) {
    // Not written, or written with its answer lost (a retried put then meets its own write as
    // a conflict): what this attempt spilled goes only if the item as it stands does not refer to it.
    if (spilledNow.length !== 0) await dropUnreferenced(ctx, type.type, key, spilledNow)
    throw error
  }
  return item
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
  const before = new Set(spilledKeys(decodeMeta(storedMeta).outbox))
  return spilledKeys(meta.outbox).filter((key) => !before.has(key))
}
