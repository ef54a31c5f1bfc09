// What the durable host is given and reports (durable-host.ts is the map): a batch of one shard's
// records and its result; and what one run of an instance (or of a stateless message) is given:
// its group of records, and where they come from (a shard's lane, or one message invoked directly).
import type { AttemptRecord } from '../../core/dead-letter.js'
import type { Envelope } from '../../core/envelope.js'
import { positionOf } from '../../core/position.js'
import type { StoredInstance } from '../../store/index.js'
import type { ActorType } from '../../turn/actor-type.js'
import type { BatchProgress } from './batch-progress.js'
import type { MemberPosition } from './instance-meta.js'
import type { StateSlice } from './state-slices.js'
import type { TypeLease } from './type-lease.js'

/** One record of a batch: its place in the shard and its data (bytes, or base64 from a Lambda event). */
export interface DurableRecord {
  sequenceNumber: string
  data: Uint8Array | string
  /** When Kinesis took the record (its approximate arrival time), epoch ms: lets a receiver forget lanes long silent. */
  arrivedAt?: number
}

export interface DurableBatch {
  stream: string
  shardId: string
  records: readonly DurableRecord[]
  /** Epoch milliseconds by which the batch must be done (a Lambda's remaining time); turns not started by then are left for redelivery. */
  deadline?: number
}

export interface BatchResult {
  /** The earliest record not finished; everything before it is done. Undefined when all are. */
  failedFrom?: string
  /** Messages applied by this run (not counting duplicates); an aggregate record counts each of its messages. */
  applied: number
  /** Messages skipped because they were applied before (redelivery, re-sent outbox). */
  duplicates: number
  /** Conditional writes lost to another host, each followed by a reload and a rerun. */
  conflicts: number
}

/** One instance's records in this batch, in stream order (for a stateless actor: one message and its copies). */
export interface Group {
  type: ActorType
  key: string
  /**
   * `sequenceNumber` is undefined for a message invoked directly rather than read from a shard;
   * `member` is set for a message that came in an aggregate record (its members share the number).
   */
  records: { sequenceNumber: string | undefined; envelope: Envelope; member?: MemberPosition; arrivedAt?: number }[]
  stored?: StoredInstance
  /**
   * `stored` is the item as this host left it, not as read now (recent-items.ts): its commit
   * also asks that the item's `updatedAt` is still that one's.
   */
  remembered?: boolean
  /** A batch's group whose state is read with a later slice of the batch (state-slices.ts): set on `stored` once that is ready. */
  slice?: StateSlice
  /** The whole type is paused (its pause item was found with the state). */
  typePaused?: boolean
  /** A stateless message found to be a copy of one this lane's host ran before. */
  copy?: boolean
  /**
   * A stateless message's waiting item, which read it before (batch-intake.ts, `parkedBefore`):
   * it is a copy, and the item's run sends again what its commit made (its wake-up among them),
   * as a keyed instance's run does on a redelivery.
   */
  waitingItem?: StoredInstance
  /** The record this group left unfinished. */
  failed?: string
  /**
   * A stateless message's failed attempts: those of earlier deliveries of its record, as the
   * shard's memory kept them, and after its run, those it leaves for the next delivery.
   */
  attempts?: AttemptRecord[]
  /** With `attempts`: when the next may run (epoch ms). */
  retryAt?: number
  /**
   * A stateless message whose retry waits long, on its way to its waiting item (group-runner.ts):
   * the item starts with it failing, so the message is parked until its retry.
   */
  failing?: { id: string; attempts: AttemptRecord[]; retryAt: number }
  /** Finished in this batch: none of its positions can be given a new message later (batch-progress.ts). */
  done?: boolean
  /** Tokens of its type's rate dealt to it for this run (type-rates.ts); kept across reruns. */
  grant?: TypeGrant
}

/** Where a run's messages come from: a batch of a shard (a lane), or one message invoked directly. */
export type Source = ShardSource | DirectSource
/** A run no batch brought: a message invoked directly, or a flush record of what waits in an item. */
export interface DirectSource {
  kind: 'direct'
  stream: string
  envelope: Envelope
  /** The asker points readers of the receipt at the item: the answer's final entry may wait there (pending-receipts.ts). */
  keepsAnswer?: boolean
}
export interface ShardSource {
  kind: 'shard'
  stream: string
  /** `stream/shardId`: the key of the instances' watermarks. */
  shard: string
  /** The shard's lane: the origin of what its turns send. */
  lane: string
  /** The batch's first position: everything of the lane before it is done. */
  first: string
  /** The one wait of a batch whose keyed stateless messages found no slot, before they go back to the stream (group-runner.ts). */
  slotWait?: Promise<void>
  /**
   * Says in the shard's memory of stateless messages that this batch parks one, before the first
   * is parked when the batch did not know it would at its start (a retry that waits long).
   */
  markParking?: () => Promise<void>
  /** Which groups of the batch are done: the fence what this batch sends carries. */
  progress: BatchProgress
  /**
   * When the batch's first record arrived: a lane silent for its horizon before it is forgotten.
   * Judged by the first record, so nothing a redelivery of this batch reads again is forgotten.
   */
  firstArrival: number | undefined
}

/** A group's first position in its shard's lane (a batch's groups). */
export function groupStart(g: Group): string {
  return positionOf(g.records[0]!.sequenceNumber!, g.records[0]!.member?.index)
}

/** What a direct invocation reports as its unfinished record: it has no sequence number. */
export const DIRECT = ''
/** The watermark key of direct invocations: never used, since they have no sequence numbers. */
export const INVOKE_SHARD = 'invoke'

/** The state store's items that mark a whole actor type paused: key = the type. */
export const PAUSE_TYPE = 'troupe.paused'

export function pauseRef(type: string): { type: string; key: string } {
  return { type: PAUSE_TYPE, key: type }
}

/** Tokens of its type's bucket dealt to a group for this run, and the lease on its type's slots. */
export interface TypeGrant {
  /** When each token is earned, earliest first. */
  times: number[]
  /** When the bucket will have a token again for those who got none (the clock after the claim, one period on). */
  nextAt: number
  /** The lease on its type's concurrency slots this run holds (type-slots.ts); with none free (`count` 0), its messages wait. */
  slot?: TypeLease
}
