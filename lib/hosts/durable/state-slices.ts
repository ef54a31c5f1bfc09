// A batch's states read in slices (durable-host.ts is the map): the intake reads the first slice
// with the types' pause items before anything runs (batch-intake.ts), and the states of the
// groups after it are read here, a slice of SLICE_KEYS at a time, while the batch's workers run
// the groups before them. So a batch of many keys starts its first turns after one read instead
// of one per hundred keys, and its reads overlap its turns and commits instead of coming first.
//
// What a group sees is what one read before the batch would have shown it, or newer: its state is
// read before its run, never after, and a stale one loses its conditional write as ever. A slice
// whose read fails leaves its groups unfinished (their records come again, as any group's that did
// not commit); the groups of other slices run as they would.
import type { Logger } from '../../core/logger.js'
import type { StateStore, StoredInstance } from '../../store/index.js'
import type { Group } from './durable-batch.js'
import { message } from './durable-context.js'

/** Keys of one read: one BatchGetItem. */
export const SLICE_KEYS = 100
/** Slices read ahead of the one the workers are in: a read takes far less than a slice's runs. */
const AHEAD = 1

/** Reads many instances' items, in the order asked (the state store's `getMany`, or its `get` each). */
export type ReadItems = (refs: readonly { type: string; key: string }[]) => Promise<(StoredInstance | undefined)[]>

/** Many items of `state` in the order asked: its `getMany`, or its `get` each at once. */
export async function readItems(state: StateStore, refs: readonly { type: string; key: string }[]): Promise<(StoredInstance | undefined)[]> {
  return state.getMany ? await state.getMany(refs) : await Promise.all(refs.map((r) => state.get(r.type, r.key)))
}

/**
 * Reads the states of `groups` (a batch's groups after its first slice) a slice at a time, as the
 * workers come near them: each group's `slice` says when its state is there.
 */
export function readInSlices(groups: readonly Group[], read: ReadItems, logger: Logger, shard: string): void {
  new StateSlices(groups, read, logger, shard)
}

/** One slice of a batch's groups: what a group of it awaits before it runs. */
export class StateSlice {
  /** The read of this slice's states: true once they are set on its groups, false when it failed. */
  loaded: Promise<boolean> | undefined = undefined

  constructor(
    private readonly slices: StateSlices,
    readonly index: number,
    readonly groups: readonly Group[],
  ) {}

  /** Resolves once the slice's states are on its groups (true), or could not be read (false); starts the reads of the slices after it. */
  ready(): Promise<boolean> {
    return this.slices.reach(this.index)
  }
}

/** The slices of a batch after its first, each read when the workers come within AHEAD of it (made by `readInSlices`). */
export class StateSlices {
  private readonly slices: StateSlice[] = []
  /** Slices whose read has started: every one before this index. */
  private started = 0

  constructor(
    groups: readonly Group[],
    private readonly read: ReadItems,
    private readonly logger: Logger,
    private readonly shard: string,
  ) {
    for (let at = 0; at < groups.length; at += SLICE_KEYS) {
      const slice = new StateSlice(this, this.slices.length, groups.slice(at, at + SLICE_KEYS))
      for (const g of slice.groups) g.slice = slice
      this.slices.push(slice)
    }
    // The workers are in the first slice (read by the intake): the next ones' reads start now.
    this.startUpTo(AHEAD - 1)
  }

  /** Starts the reads of every slice up to `index` + AHEAD not started yet; resolves with slice `index`'s. */
  reach(index: number): Promise<boolean> {
    this.startUpTo(index + AHEAD)
    return this.slices[index]!.loaded!
  }

  private startUpTo(index: number): void {
    const last = Math.min(index, this.slices.length - 1)
    for (; this.started <= last; this.started++) {
      const slice = this.slices[this.started]!
      slice.loaded = this.load(slice)
    }
  }

  private async load(slice: StateSlice): Promise<boolean> {
    try {
      const loaded = await this.read(slice.groups.map((g) => ({ type: g.type.type, key: g.key })))
      slice.groups.forEach((g, i) => (g.stored = loaded[i]))
      return true
    } catch (error) {
      this.logger.error("could not load state; these instances' records will be delivered again", { shard: this.shard, instances: slice.groups.length, error: message(error) })
      return false
    }
  }
}
