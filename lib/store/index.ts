// The store port: what troupe keeps between turns, so the same runtime runs on memory
// (the embedded default) and on DynamoDB. Methods may answer synchronously (the memory
// store does, so the embedded hot path waits on nothing) or with a promise.

export type MaybePromise<T> = T | Promise<T>

/** One actor instance as it is kept while not in memory. */
export interface StoredInstance {
  /** The state, serialised with superjson. */
  state: string
  /** Bumped on every save; the DynamoDB store makes it the optimistic-concurrency version. */
  version: number
  /** Epoch milliseconds. */
  updatedAt: number
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

/** Everything a system keeps. Pass the same stores to a new system to carry on where another stopped. */
export interface Stores {
  state: StateStore
  timers: TimerStore
}
