// The order keeper of one stream: records waiting to go out, in one FIFO per partition key, and
// the rule that decides which of them may join the next PutRecords call.
//
// Kinesis keeps the order of records with one partition key only as far as they arrive in that
// order. PutRecords can fail some records of a call and accept the rest (inside an HTTP 200), so a
// sender that resends failures naively lets later records of the same key overtake them. Here:
// - a key with records in flight takes no part in the next call: its later records wait for the
//   call's outcome instead of racing it (at most one call in flight per key, across all calls);
// - a failed record goes back to the *head* of its key's FIFO, with every record of that key that
//   failed after it in the same call, in their order, ahead of anything queued later; the key then
//   backs off as a whole, so the retry carries them again first;
// - `strict` ordering (the default) puts at most one record per key in a call, so a call can never
//   accept a later record of a key while failing an earlier one: no record is ever overtaken.
//   `batched` lets a run of one key's records share a call (far fewer calls for a hot key); then
//   Kinesis itself may accept a later record of the run and fail an earlier one, and that later
//   record, already written, has overtaken it. The queue reports such records as `overtook`.
// - packing (`strict` only, when the transport asks for it): a key's waiting run leaves as one
//   entry, which the transport sends as one aggregate record. Kinesis accepts or fails a record
//   whole, so the run keeps strict order at one entry per run instead of one call per message.
// Nothing here talks to AWS; the transport owns the calls, the clock and the backoff.

/** How strictly one partition key's records keep their order. */
export type Ordering = 'strict' | 'batched'

/** What the queue needs of a record. */
export interface QueuedRecord {
  readonly partitionKey: string
  /** Data plus partition key, as Kinesis counts it. */
  readonly bytes: number
}

interface KeyState<R> {
  /** Waiting records, oldest first, from `head` on (an index, so taking is O(1)). */
  queue: R[]
  head: number
  /** Records of this key in the call in flight (0 when none). */
  inFlight: number
  /** The key may go again from this time on (epoch ms). */
  readyAt: number
}

/** The outcome of one call for one key. */
export interface KeySettlement<R> {
  partitionKey: string
  /** Put back at the head of the key's FIFO, in order, for the next call. */
  retry: R[]
  /** Accepted by Kinesis after an earlier record of the same key in that call failed (batched only). */
  overtook: R[]
}

/** How a key's waiting run may be packed into one entry of a call (one aggregate record). */
export interface Packing<R> {
  /** The largest entry, in bytes as Kinesis counts them (the stream's record limit). */
  maxBytes: number
  /** Bytes a run adds per member beyond the member's own `bytes` (a separator). */
  memberOverheadBytes: number
  /** Bytes a run adds once (its wrapper). */
  runOverheadBytes: number
  /** Whether `next` may follow `previous` in one entry (the same actor instance). */
  joins: (previous: R, next: R) => boolean
}

export class PartitionQueue<R extends QueuedRecord> {
  private readonly keys = new Map<string, KeyState<R>>()
  private waiting = 0

  constructor(readonly ordering: Ordering = 'strict') {}

  /** Records waiting, in flight ones excluded. */
  get size(): number {
    return this.waiting
  }

  /** Queues a record behind every earlier one of its key. */
  add(record: R): void {
    let state = this.keys.get(record.partitionKey)
    if (!state) this.keys.set(record.partitionKey, (state = { queue: [], head: 0, inFlight: 0, readyAt: 0 }))
    state.queue.push(record)
    this.waiting++
  }

  /**
   * The records for the next call, at most `maxRecords` and `maxBytes` (a single record larger than
   * `maxBytes` may go alone): per key, the head of its FIFO (`strict`) or its longest run that fits
   * (`batched`), skipping keys in flight or backing off at `now`. Taken records count as in flight
   * until {@link settle}.
   */
  take(now: number, maxRecords: number, maxBytes: number): R[] {
    return this.takeEntries(now, maxRecords, maxBytes).flat()
  }

  /**
   * The entries of the next call, at most `maxEntries` and `maxBytes`, as {@link take} picks them;
   * with `packing` (`strict` only) a key's waiting run, as far as it fits one entry, is one entry.
   * An entry of one record is that record as it is.
   */
  takeEntries(now: number, maxEntries: number, maxBytes: number, packing?: Packing<R>): R[][] {
    const entries: R[][] = []
    let bytes = 0
    const pack = this.ordering === 'strict' ? packing : undefined
    for (const state of this.keys.values()) {
      if (entries.length >= maxEntries) break
      if (state.inFlight > 0 || state.readyAt > now || state.head >= state.queue.length) continue
      while (state.head < state.queue.length && entries.length < maxEntries) {
        const record = state.queue[state.head]!
        if (entries.length > 0 && bytes + record.bytes > maxBytes) break // later records of this key must wait too
        const entry = [record]
        let entryBytes = record.bytes
        if (pack) {
          // The run grows while the next record is the same instance's and the whole still fits.
          let packed = pack.runOverheadBytes + record.bytes + pack.memberOverheadBytes
          for (let i = state.head + 1; i < state.queue.length; i++) {
            const next = state.queue[i]!
            const grown = packed + next.bytes + pack.memberOverheadBytes
            if (grown > pack.maxBytes || (entries.length > 0 && bytes + grown > maxBytes) || !pack.joins(entry.at(-1)!, next)) break
            entry.push(next)
            packed = grown
          }
          if (entry.length > 1) entryBytes = packed
        }
        entries.push(entry)
        bytes += entryBytes
        for (let i = 0; i < entry.length; i++) state.queue[state.head++] = undefined as never
        state.inFlight += entry.length
        this.waiting -= entry.length
        if (this.ordering === 'strict') break
      }
      this.compact(state)
    }
    return entries
  }

  /**
   * Records a call's outcome. `failed` holds the records of `batch` that must go again; the rest
   * were accepted. Returns, per key that had failures, what went back to the head of its FIFO and
   * what overtook a failure. Keys with failures back off until `retryAt(key)`.
   */
  settle(batch: readonly R[], failed: ReadonlySet<R>, retryAt: (partitionKey: string, retry: readonly R[]) => number): KeySettlement<R>[] {
    const byKey = new Map<string, R[]>()
    for (const r of batch) {
      const list = byKey.get(r.partitionKey)
      if (list) list.push(r)
      else byKey.set(r.partitionKey, [r])
    }
    const out: KeySettlement<R>[] = []
    for (const [partitionKey, records] of byKey) {
      const state = this.keys.get(partitionKey)!
      state.inFlight -= records.length
      const first = records.findIndex((r) => failed.has(r))
      if (first === -1) {
        this.forgetIfIdle(partitionKey, state)
        continue
      }
      const retry = records.slice(first).filter((r) => failed.has(r))
      const overtook = records.slice(first).filter((r) => !failed.has(r))
      // Back to the head, ahead of everything queued later.
      const rest = state.queue.slice(state.head)
      state.queue = retry.concat(rest)
      state.head = 0
      this.waiting += retry.length
      state.readyAt = retryAt(partitionKey, retry)
      out.push({ partitionKey, retry, overtook })
    }
    return out
  }

  /** Removes and returns every waiting record of a key (when its head cannot be sent: the rest must not overtake it). */
  drop(partitionKey: string): R[] {
    const state = this.keys.get(partitionKey)
    if (!state) return []
    const dropped = state.queue.slice(state.head)
    this.waiting -= dropped.length
    state.queue = []
    state.head = 0
    this.forgetIfIdle(partitionKey, state)
    return dropped
  }

  /** The head record of a key, if any is waiting. */
  peek(partitionKey: string): R | undefined {
    const state = this.keys.get(partitionKey)
    return state && state.head < state.queue.length ? state.queue[state.head] : undefined
  }

  /** The earliest time a waiting key that is backing off becomes ready, or undefined when none is. */
  nextReadyAt(now: number): number | undefined {
    let next: number | undefined
    for (const state of this.keys.values()) {
      if (state.inFlight > 0 || state.head >= state.queue.length || state.readyAt <= now) continue
      if (next === undefined || state.readyAt < next) next = state.readyAt
    }
    return next
  }

  /** True when some key could go into a call at `now`. */
  hasReady(now: number): boolean {
    for (const state of this.keys.values()) {
      if (state.inFlight === 0 && state.readyAt <= now && state.head < state.queue.length) return true
    }
    return false
  }

  private compact(state: KeyState<R>): void {
    if (state.head >= state.queue.length) {
      state.queue = []
      state.head = 0
    } else if (state.head > 1024 && state.head * 2 > state.queue.length) {
      state.queue = state.queue.slice(state.head)
      state.head = 0
    }
  }

  private forgetIfIdle(partitionKey: string, state: KeyState<R>): void {
    if (state.inFlight === 0 && state.head >= state.queue.length) this.keys.delete(partitionKey)
  }
}
