// When a shard reader may call GetRecords. Kinesis allows five reads a second per shard, shared by
// every consumer of the shard, so never more than five reads here start within a second. Behind the tip
// the reader reads every READ_INTERVAL_MS. At the tip it reads every `pollMs`, but no more often
// than IDLE_READ_MS: that keeps a read of each second free for a record this process has just put
// on the shard (`nudge`), read at once instead of at the next poll, and once more a read interval
// later, in case the first read came before the record could be read (on AWS a record takes a
// moment to show). So what a process sends to shards it reads itself (its tells, its turns'
// messages, a fork's replies) waits for no poll.

/** Behind the tip: one read per this long, Kinesis's five a second. */
export const READ_INTERVAL_MS = 200
/** At the tip: reads no closer than this, four a second at most, one left for a nudge. */
export const IDLE_READ_MS = 250
const WINDOW_MS = 1_000
const READS_PER_WINDOW = 5

export class ReadPace {
  /** Start times of the last reads, oldest first, at most READS_PER_WINDOW. */
  private readonly starts: number[] = []
  private atTip = false
  /** Reads a nudge still asks for: the one at once, and the one after it. */
  private nudged = 0
  private wakeIdle: (() => void) | undefined

  constructor(private readonly pollMs: number) {}

  /** A read starts at `now`. */
  started(now: number): void {
    this.starts.push(now)
    if (this.starts.length > READS_PER_WINDOW) this.starts.shift()
    if (this.nudged > 0) this.nudged--
  }

  /** How the read ended: at the tip of an open shard (nothing more to read), or not. */
  ended(atTip: boolean): void {
    this.atTip = atTip
  }

  /** A record was just put on the shard: a reader at its tip reads it now, as the shard's reads allow. */
  nudge(): void {
    this.nudged = 2
    this.wakeIdle?.()
  }

  /** The earliest the next read may start, as seen at `now`. */
  nextReadAt(now: number): number {
    const last = this.starts.at(-1) ?? -Infinity
    let at = last + READ_INTERVAL_MS
    // A fresh nudge: at once, when both this read and the one after it (READ_INTERVAL_MS later) fit the window.
    if (this.nudged === 2 && this.atTip && this.startedSince(now - WINDOW_MS + READ_INTERVAL_MS) <= READS_PER_WINDOW - 2) at = now
    if (this.starts.length === READS_PER_WINDOW) at = Math.max(at, this.starts[0]! + WINDOW_MS)
    return at
  }

  /**
   * At the tip: resolves once `pollMs` (at least IDLE_READ_MS) has passed since the last read
   * started, or at once while a nudge asks for a read, or when `stop` aborts.
   */
  idle(stop: AbortSignal): Promise<void> {
    const ms = (this.starts.at(-1) ?? 0) + Math.max(this.pollMs, IDLE_READ_MS) - Date.now()
    if (this.nudged > 0 || ms <= 0 || stop.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        stop.removeEventListener('abort', done)
        this.wakeIdle = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      stop.addEventListener('abort', done)
      this.wakeIdle = done
    })
  }

  private startedSince(from: number): number {
    let n = 0
    for (const at of this.starts) if (at > from) n++
    return n
  }
}
