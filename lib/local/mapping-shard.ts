// What the local event source mapping knows of one shard: where its reader is (iterator, last
// record read), the sequence numbers read and not yet behind its checkpoint, and its lanes.
import { newLane, type Lane } from './mapping-lane.js'

export interface ShardState {
  id: string
  parent: string | undefined
  iterator: string | undefined
  /** The last record read (for a fresh iterator after expiry). */
  lastRead: string | undefined
  nextIndex: number
  /** Sequence numbers read and not yet behind the checkpoint, from index `base`. */
  seqs: string[]
  base: number
  /** GetRecords said the shard is closed and everything is read. */
  closed: boolean
  started: boolean
  lanes: Lane[]
  /** The idle mark of the latest read that found nothing new. */
  emptyReadMark: number
  /** `batchesEnded` when that read started. */
  emptyReadAfter: number
  wake: (() => void) | undefined
  loop: Promise<void> | undefined
  checkpoint: string | undefined
}

/** A shard just listed, not started: `lanes` is the ParallelizationFactor. */
export function newShardState(id: string, parent: string | undefined, lanes: number): ShardState {
  return {
    id,
    parent,
    iterator: undefined,
    lastRead: undefined,
    nextIndex: 0,
    seqs: [],
    base: 0,
    closed: false,
    started: false,
    lanes: Array.from({ length: lanes }, (_, index) => newLane(index)),
    emptyReadMark: -1,
    emptyReadAfter: -1,
    wake: undefined,
    loop: undefined,
    checkpoint: undefined,
  }
}

/** Read to its end, and nothing of it left in its lanes: its children (after a reshard) may start. */
export function finished(shard: ShardState): boolean {
  return shard.closed && shard.lanes.every((l) => l.queue.length === 0 && !l.inFlight)
}
