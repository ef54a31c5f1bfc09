// `idle()` of a shard consumer (shard-consumer.ts is the map), for tests and `settle`: it waits
// until records put before the call are read, which takes a shard listing and, for every owned
// shard, a read at the tip, both begun after the call. A shard that is closed counts only once
// read to its end and its children too. Calls are ordered against listings and reads by the
// consumer's tick: a call made at tick `mark` waits for a listing and reads with later ticks.
import { TroupeError } from '../core/errors.js'
import type { Listing } from './shard-listing.js'
import type { ShardReader } from './shard-reader.js'

export interface IdleOptions {
  /** Reject with a TroupeError naming the shards not caught up after this long. @default no limit */
  timeoutMs?: number
}

interface IdleWaiter {
  mark: number
  resolve: () => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout | undefined
}

/** The `idle()` calls not answered yet. */
export class IdleWaiters {
  private readonly waiters = new Set<IdleWaiter>()

  constructor(
    /** The consumer, as errors name it. */
    private readonly owner: string,
    /** What keeps the consumer from being idle for a call made at `mark`; empty when it is. */
    private readonly notIdle: (mark: number) => string[],
  ) {}

  /** Resolves once `check` finds the consumer idle for a call made at `mark`. */
  wait(mark: number, options: IdleOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: IdleWaiter = { mark, resolve, reject, timer: undefined }
      if (options.timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new TroupeError('TROUPE_CONSUMER_NOT_IDLE', `shard consumer ${this.owner} did not catch up within ${options.timeoutMs} ms: ${this.notIdle(mark).join('; ')}`))
        }, options.timeoutMs)
      }
      this.waiters.add(waiter)
    })
  }

  /** Answers the calls the consumer is now idle for. */
  check(): void {
    if (this.waiters.size === 0) return
    for (const w of [...this.waiters]) {
      if (this.notIdle(w.mark).length > 0) continue
      this.waiters.delete(w)
      clearTimeout(w.timer)
      w.resolve()
    }
  }

  /** The consumer stopped: every call still waiting fails. */
  rejectAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer)
      w.reject(new TroupeError('TROUPE_CONSUMER_STATE', `shard consumer ${this.owner} stopped before it was idle`))
    }
    this.waiters.clear()
  }
}

/**
 * What keeps the consumer from being idle for a call made at `mark`, given its last listing and
 * the tick of the last change a new listing must see (a shard ended, a lease went away).
 */
export function notIdle(mark: number, listing: Listing | undefined, changedTick: number, readerOf: (stream: string, shardId: string) => ShardReader | undefined): string[] {
  const l = listing
  if (!l || l.tick <= mark) return ['no shard listing since the call yet']
  if (!l.complete) return l.problems
  if (changedTick > l.tick) return ['a shard ended or changed hands since the last listing']
  const why: string[] = []
  for (const s of l.shards) {
    const name = `${s.stream}/${s.shardId}`
    if (s.status === 'free') why.push(`${name}: free, not taken yet`)
    if (s.status !== 'mine') continue
    const reader = readerOf(s.stream, s.shardId)
    if (!reader) why.push(`${name}: stopped reading`)
    else if (s.closed) why.push(`${name}: closed, not read to its end yet`)
    else if (!reader.caughtUpSince(mark)) why.push(`${name}: ${reader.describe()}`)
  }
  return why
}
