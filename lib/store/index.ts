// The store port: what troupe keeps between turns, so the same runtime runs on memory
// (the embedded default) and on DynamoDB. Methods may answer synchronously (the memory
// store does, so the embedded hot path waits on nothing) or with a promise.

import type { TraceContext } from '../core/envelope.js'
import type { ReceiptEntry, MessageStatus } from '../core/receipt.js'
import type { DeadLetter, ErrorRecord } from '../supervisor/dead-letter.js'

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
   * if nothing is stored). Otherwise throws `StoreConflictError`: another host moved first;
   * reload and run again. `value.version` is normally `expectedVersion + 1`.
   */
  put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined): MaybePromise<void>
  delete(type: string, key: string): MaybePromise<void>
  /** Reads many instances in as few requests as the store allows (a batch's state in one go); results in the order asked. */
  getMany?(refs: readonly { type: string; key: string }[]): MaybePromise<(StoredInstance | undefined)[]>
}

/** A durable timer: a message told to `target` when `dueAt` comes, once or on a recurring schedule. */
export interface TimerRecord {
  /** Unique; the same id replaces the timer. */
  id: string
  /** Actor type that receives the message. */
  target: string
  /** The body, serialised with superjson. */
  body: string
  /** Epoch milliseconds of the next firing. */
  dueAt: number
  /** `rate(5 minutes)`, `cron(0 12 * * ? *)` or a 5-field cron; absent for a one-shot timer. */
  every?: string
  correlationId: string
  /** The message whose turn set the timer, if any. */
  causationId?: string
  /** Firings so far. */
  fired: number
  /** The target recognises a second firing itself: fire straight at it (`ScheduleOptions.idempotent`). */
  direct?: true
  /** The trace context of the span that set it; each firing's message carries it. */
  trace?: TraceContext
}

export interface TimerStore {
  put(timer: TimerRecord): MaybePromise<void>
  delete(id: string): MaybePromise<void>
  get(id: string): MaybePromise<TimerRecord | undefined>
  /** Timers due at or before `now`, earliest first, at most `limit`. */
  due(now: number, limit: number): MaybePromise<TimerRecord[]>
  /** The earliest `dueAt`, or undefined when there are none. */
  next(): MaybePromise<number | undefined>
  list(): MaybePromise<TimerRecord[]>
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

/** A rate as a bucket item keeps it, for those who read the table. */
export interface BucketRate {
  ratePerSecond: number
  burst: number
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
  /** Removes every entry of a message's receipt (a replayed dead letter starts a new one). */
  deleteReceipt(id: string): MaybePromise<void>
  /** Keeps dead letters, keyed by message id (a repeat replaces). */
  putDeadLetters(letters: readonly DeadLetter[]): MaybePromise<void>
  /** Dead letters, oldest first, of one actor type or all. */
  deadLetters(type?: string): MaybePromise<DeadLetter[]>
  /** Removes a dead letter and returns it (for replay); undefined when there is none. */
  takeDeadLetter(id: string): MaybePromise<DeadLetter | undefined>
  /** The messages of one request whose receipts carried a `trace`, in no order. */
  trace?(correlationId: string, now: number): MaybePromise<TraceLink[]>
}
