// The store port: what troupe keeps between turns, so the same runtime runs on memory
// (the embedded default) and on DynamoDB. Methods may answer synchronously (the memory
// store does, so the embedded hot path waits on nothing) or with a promise.

import type { ReceiptEntry, MessageStatus } from '../core/receipt.js'
import type { DeadLetter, ErrorRecord, HeldDeadLetter, ReplayClaim } from '../core/dead-letter.js'
import type { TimerOrder, TimerRecord } from '../core/schedule.js'
import type { Origin } from '../core/envelope.js'

export type { TimerOrder, TimerRecord }

export type MaybePromise<T> = T | Promise<T>

/** One actor instance as it is kept while not in memory. */
export interface StoredInstance {
  /** The state, serialised with superjson. */
  state: string
  /** Bumped on every save; the DynamoDB store makes it the optimistic-concurrency version. */
  version: number
  /** Epoch milliseconds. */
  updatedAt: number
  /**
   * The version of the actor's code (`static version`) whose shape `state` has; absent means 1,
   * so items written before versions existed read as version 1. Stores keep it as it is given.
   */
  stateVersion?: number
  /**
   * Set by a store that read a state version that is not a positive whole number (an item another
   * tool wrote: `sv` as a string, 0, negative, a fraction): what the item holds there. A host
   * neither runs nor overwrites such an instance (state-version.ts); `stateVersion` is then absent.
   */
  unreadableVersion?: string
  /**
   * The host's own bookkeeping, kept in the same write as the state (the durable host keeps
   * watermarks, recent message ids and the outbox here). Opaque to stores.
   */
  meta?: string
  /**
   * Epoch milliseconds after which the store may delete the item (a DynamoDB TTL): set on a
   * deleted instance, whose item stays only to recognise redelivered messages for a while.
   */
  expiresAt?: number
}

export interface StateStore {
  get(type: string, key: string): MaybePromise<StoredInstance | undefined>
  /**
   * Writes `value` only if the stored version is still `expectedVersion` (undefined: only
   * if nothing is stored) and, when both are given, its `updatedAt` still `expectedUpdatedAt`:
   * an item deleted and made again can reach the same version, not the same time (a host that
   * writes on an item it remembers rather than one it just read asks for both). Otherwise
   * throws `StoreConflictError`: another host moved first; reload and run again.
   * `value.version` is normally `expectedVersion + 1`.
   */
  put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined, expectedUpdatedAt?: number): MaybePromise<void>
  delete(type: string, key: string): MaybePromise<void>
  /** Reads many instances in as few requests as the store allows (a batch's state in one go); results in the order asked. */
  getMany?(refs: readonly { type: string; key: string }[]): MaybePromise<(StoredInstance | undefined)[]>
}

export interface TimerStore {
  /**
   * Puts `timer`, replacing one with its id. A timer with an `order` is put only where it
   * supersedes the order of what stands (a timer, or a cancel's record): else it is a write of an
   * earlier commit landing late, and is left out.
   */
  put(timer: TimerRecord): MaybePromise<void>
  /**
   * Deletes timer `id`. With `order` (a durable turn's cancel), only where it supersedes what
   * stands, and a record of the cancel stays in its place, so a put of an earlier commit landing
   * after it is left out; the store may drop the record after CANCEL_KEPT_MS.
   */
  delete(id: string, order?: TimerOrder): MaybePromise<void>
  get(id: string): MaybePromise<TimerRecord | undefined>
  /** Timers due at or before `now`, earliest first, at most `limit`. */
  due(now: number, limit: number): MaybePromise<TimerRecord[]>
  /** The earliest `dueAt`, or undefined when there are none. */
  next(): MaybePromise<number | undefined>
  list(): MaybePromise<TimerRecord[]>
  /**
   * Moves a timer on after it fired: to `next` (a recurring timer's next firing), or out of the
   * store, only while the store still holds the firing that fired (`sameFiring`). A timer put
   * again meanwhile (a turn the firing ran scheduled the same name again) or cancelled stays as
   * that left it: a fire-then-delete would lose the new timer, a fire-then-put bring back a
   * cancelled one. A one-shot timer with an order leaves the record a cancel of that order would,
   * so that the commit that set it, sent again, does not set it again. Resolves whether it moved.
   * A store without it is moved on by a `get` and a `put` or `delete` after it, which a write
   * landing between the two can still undo where it has no order.
   */
  advance?(fired: TimerRecord, next: TimerRecord | undefined): MaybePromise<boolean>
}

/**
 * Whether `stored` is still the firing `fired` of its timer: the same due time, target, body,
 * schedule, cause and correlation. A timer scheduled again by name in a turn has its own cause (the
 * message whose turn set it); outside a turn, it differs in what was changed. The count of firings
 * is left out: a recurring timer scheduled again just as it was (a process starting) counts from
 * 0, and is moved on with the firing's count rather than left due to fire once more.
 */
export function sameFiring(stored: TimerRecord, fired: TimerRecord): boolean {
  return (
    stored.dueAt === fired.dueAt &&
    stored.target === fired.target &&
    stored.body === fired.body &&
    stored.every === fired.every &&
    stored.causationId === fired.causationId &&
    stored.set === fired.set &&
    stored.correlationId === fired.correlationId
  )
}

/**
 * The buckets of actor types' rates (`policy.throttle`) where no one item sees every turn of the
 * type (keyed and stateless actors on AWS): one number per type, the bucket's clock in epoch ms,
 * changed only by atomic conditional updates, in an item of its own so no instance's commit ever
 * meets it. lib/hosts/durable/type-bucket.ts has the math and what the clock means.
 */
export interface TypeBucketStore {
  /**
   * Moves the type's clock `byMs` on if it stands at or after `floorMs` (a type without one starts
   * at `floorMs`); resolves to where it stood before, or undefined (nothing changed) when it stands
   * before `floorMs`. `rate` is kept beside it for inspection.
   */
  advance(type: string, byMs: number, floorMs: number, rate: BucketRate): MaybePromise<number | undefined>
  /** Sets the type's clock to `toMs` if it stands before `floorMs`; false (nothing changed) when it does not, or the type has none. */
  restart(type: string, toMs: number, floorMs: number, rate: BucketRate): MaybePromise<boolean>
  /** The type's clock and rate as stored, or undefined when the type has none. */
  read(type: string): MaybePromise<({ clockMs: number } & BucketRate) | undefined>
}

/**
 * A side effect of `ctx.once` as recorded for its message: claimed before an at-most-once call
 * runs, or done with its result. lib/hosts/durable/side-effects.ts has what the host does with it.
 */
export interface SideEffectRecord {
  messageId: string
  /** The name the turn gave `ctx.once`. */
  name: string
  /** The actor type whose turn ran it; a run of another type's turn is not answered by it. */
  actor: string
  /**
   * The key of the instance whose turn ran it (`''` for an unkeyed actor); a run of another
   * instance's turn is not answered by it. Absent on records written before it was kept.
   */
  key?: string
  /** `started`: an at-most-once call was claimed and may or may not have finished; `done`: `result` is recorded. */
  status: 'started' | 'done'
  /** The result, serialised with superjson; on `done`, unless it is kept elsewhere (`kept`). */
  result?: string
  /** Where a result too large for the record is kept: its key in the host's overflow store. */
  kept?: string
  /**
   * On `done` without a result: `fn` ran, and its result could not be kept (why, as its error
   * said: not serialisable, too large); a later run is told so instead of running `fn` again.
   */
  unrecorded?: string
  /** Epoch milliseconds of the write. */
  at: number
  /** Epoch milliseconds after which the record is gone (a TTL; reads filter what TTL has not yet deleted). */
  expiresAt: number
  /** Kept for good while a dead letter of its message waits: that letter's `deadAt` (`SideEffectStore.pin`). */
  pinnedBy?: number
}

/** A record's `expiresAt` while a dead letter of its message waits: never. */
export const PINNED_UNTIL = Number.MAX_SAFE_INTEGER

/**
 * The records of `ctx.once` side effects, keyed by message and name, so a turn that runs again
 * on any host finds what an earlier run of it did. One write per call at most.
 */
export interface SideEffectStore {
  /** The live record of a message's side effect, read strongly consistently; undefined when none. */
  get(messageId: string, name: string, now: number): MaybePromise<SideEffectRecord | undefined>
  /** Records a result (a repeat overwrites: a result recorded twice is the at-least-once window). */
  put(record: SideEffectRecord): MaybePromise<void>
  /**
   * Writes `record` only if no live record is there; resolves to undefined when it was written,
   * else to the record that was there (another run claimed or finished it first).
   */
  claim(record: SideEffectRecord, now: number): MaybePromise<SideEffectRecord | undefined>
  /**
   * Keeps every record of the message for good: it died, and its dead letter (of `deadAt`) waits
   * for a replay as long as it takes, which must find what its side effects did. A record a later
   * death pinned stays pinned by it (a copy of an older letter's write comes late).
   */
  pin(messageId: string, deadAt: number): MaybePromise<void>
  /**
   * The letter of `deadAt` was replayed: the message's records it pinned expire at `expiresAt`
   * again. Those a later death pinned stay pinned.
   */
  unpin(messageId: string, deadAt: number, expiresAt: number): MaybePromise<void>
}

/** A rate as a bucket item keeps it, for those who read the table. */
export interface BucketRate {
  ratePerSecond: number
  burst: number
}

/**
 * The slots of actor types' concurrency (`policy.concurrency`) across every host: per type, the
 * leases taken on its slots, each a holder (one batch's claim), how many slots it holds and until
 * when. Changed only by atomic conditional updates, in an item of its own per type, so no
 * instance's commit ever meets it. lib/hosts/durable/type-slots.ts has what the host does with it.
 */
export interface TypeSlotStore {
  /**
   * Takes `lease.count` slots for `lease.holder` (a holder new to the type) if, once the leases of
   * `reclaim` are dropped, at most `limit` slots are held; each lease of `reclaim` is dropped only
   * if it is still there exactly as given (an expired lease its holder did not renew), else nothing
   * changes. One atomic change. `taken` says whether it happened; `slots` is the type's slots after
   * it (taken) or as they stood (not taken), when the store learnt them without another request.
   */
  take(type: string, lease: SlotLease, limit: number, reclaim: readonly SlotLease[]): MaybePromise<{ taken: boolean; slots?: TypeSlots }>
  /** Moves the expiry of `holder`'s lease to `expiresAt`; false (nothing changed) when it holds none (released, or reclaimed once expired). */
  renew(type: string, holder: string, expiresAt: number): MaybePromise<boolean>
  /** Gives back the `count` slots `holder` holds; resolves to the type's slots after it, or undefined when it held none (nothing changed). */
  release(type: string, holder: string, count: number): MaybePromise<TypeSlots | undefined>
  /** The type's slots as stored, or undefined when it has no item. */
  read(type: string): MaybePromise<TypeSlots | undefined>
}

/** One holder's lease on slots of a type. */
export interface SlotLease {
  holder: string
  count: number
  /** Epoch milliseconds after which the lease may be reclaimed by another holder. */
  expiresAt: number
}

/** A type's slots as stored: the leases (live or expired, until reclaimed) and the limit the last claim had. */
export interface TypeSlots {
  limit: number
  /** The slots the leases hold, expired ones included (the sum of their counts). */
  used: number
  leases: SlotLease[]
}

/** Everything a system keeps. Pass the same stores to a new system to carry on where another stopped. */
export interface Stores {
  state: StateStore
  timers: TimerStore
}

/** One status of one message, as the durable host writes it (ask replies ride on the final one). */
export interface ReceiptRecord {
  id: string
  actor: string
  key: string
  entry: ReceiptEntry
  /** The reply to an `ask`, serialised with superjson; on a `done` entry. */
  reply?: string
  /** Why an `ask` failed; on a `dead` or `filtered` entry. */
  error?: ErrorRecord
  /** Epoch milliseconds after which the entry is gone (a TTL; reads filter what TTL has not yet deleted). */
  expiresAt: number
  /** Where the message sits in its request, for traces: kept once per message beside its receipt. */
  trace?: { correlationId: string; parentId?: string; sentAt: number }
  /**
   * On the `accepted` entry a replay starts with: the history of the runs before it. The new run's
   * entries have the same keys as the old run's (attempts count from 1 again), so the old ones are
   * deleted and kept here, to be read before the new ones.
   */
  earlier?: ReceiptEntry[]
}

/** One message of a request, as the journal keeps it for `trace` (its status is in its receipt). */
export interface TraceLink {
  id: string
  actor: string
  key: string
  correlationId: string
  parentId?: string
  sentAt: number
}

/** A receipt read back: its entries in order, and the reply or error of an `ask`. */
export interface StoredReceipt {
  id: string
  actor: string
  key: string
  status: MessageStatus
  attempts: number
  history: ReceiptEntry[]
  reply?: string
  error?: ErrorRecord
  /** Where the message sits in its request, when its entries carried it. */
  trace?: { correlationId: string; parentId?: string; sentAt: number }
  /** The history of the runs before a replay, read before `history` (the run now). */
  earlier?: ReceiptEntry[]
}

/**
 * What a durable system keeps about messages rather than instances: receipts (with the
 * replies of `ask`) and dead letters. Writes are idempotent, so a redelivered batch that
 * writes them again changes nothing.
 */
export interface JournalStore {
  /** Writes receipt entries; an entry is keyed by message, attempt and status, so a repeat overwrites itself. */
  putReceipts(records: readonly ReceiptRecord[]): MaybePromise<void>
  /** The receipt of a message, without entries past their `expiresAt`; undefined when none is left. */
  receipt(id: string, now: number): MaybePromise<StoredReceipt | undefined>
  /**
   * Removes every entry of a message's receipt but, when given, the one `except` is kept as (a
   * replayed dead letter's run starts again: its first entry, written before, holds the old
   * entries as `earlier`).
   */
  deleteReceipt(id: string, except?: ReceiptRecord): MaybePromise<void>
  /**
   * Keeps dead letters, keyed by message id: a later death of a message (`deadAt`) replaces its
   * letter; the same death written again (an outbox sent again after a crash) or an older one
   * changes nothing, and neither brings back a letter taken or replayed (the store remembers its
   * death for as long as such a copy may come).
   */
  putDeadLetters(letters: readonly DeadLetter[]): MaybePromise<void>
  /** Dead letters, oldest first, of one actor type or all. */
  deadLetters(type?: string): MaybePromise<DeadLetter[]>
  /** Removes a dead letter and returns it (for replay), remembering its death as a replay does; undefined when there is none. */
  takeDeadLetter(id: string): MaybePromise<DeadLetter | undefined>
  /**
   * Holds letter `id` for a replay (`claim`) unless another replay holds it at `now` (then a
   * ReplayUnderWayError); returns it with where a replay may have sent it. Undefined when there
   * is no letter.
   */
  claimDeadLetter(id: string, claim: ReplayClaim, now: number): MaybePromise<HeldDeadLetter | undefined>
  /**
   * Keeps with letter `id` that replay `claimId` may send it as `origin` from now on (`kept`, also
   * when kept already), unless that replay holds it no more: `taken over` by another (or ended by
   * one that sent it under another origin, or taken), or `gone` (ended under this origin, or no
   * trace of it is left).
   */
  markDeadLetterSent(id: string, claimId: string, origin: Origin): MaybePromise<'kept' | 'taken over' | 'gone'>
  /** Ends replay `claimId`'s hold on letter `id` (the letter stays), if it still holds it; false when it holds it no more. */
  releaseDeadLetter(id: string, claimId: string): MaybePromise<boolean>
  /** Removes letter `id` once replay `claimId` sent its message, unless that replay holds it no more (a newer letter replaced it). */
  dropClaimedDeadLetter(id: string, claimId: string): MaybePromise<void>
  /** The messages of one request whose receipts carried a `trace`, in no order. */
  trace?(correlationId: string, now: number): MaybePromise<TraceLink[]>
}
