// What a host's direct runs remember of the items they committed (durable-host.ts is the map).
// A direct ask (a Lambda `Invoke`) read its instance's item and its type's pause item before its
// turn, then committed: two DynamoDB round trips in a row. Asks to one key from one caller reach
// the same warm environment, whose last commit is the item as it stands, so the read is skipped:
//
//   the instance   the item this host committed last, used as the run's `stored`: its commit is
//                  conditional on that version and that item's `updatedAt` (an item deleted, by
//                  its TTL or by hand, and made again reaches the same version, not the same
//                  time), so an item changed meanwhile (a stream batch in another environment,
//                  a pause of the key, an expiry) costs a lost write and a rerun on the item read
//                  then, never a lost update. A key whose remembered item lost once is read first
//                  again for a while: other hosts write it too, and guessing would cost it a
//                  write each time. Not used when its run would write anything before its
//                  commit (pending-receipts.ts `writesBeforeCommit`): only the commit may meet a
//                  changed item. A turn that lost its commit runs again, as after any lost race
//                  (docs/guarantees.md, side effects).
//   the type's     known absent for PAUSE_NOTICE_MS after a read that found none, timed from
//   pause          when the read was sent; a pause of a whole type returns only after that long
//                  (aws/pauses.ts), so once it returns no host starts a turn of the type that
//                  has not seen it, as before.
//
// Times are this process's monotonic clock: a test's clock may stand still, and a pause waits
// real time.
import { performance } from 'node:perf_hooks'
import type { StoredInstance } from '../../store/index.js'

/** How long a read that found a type unpaused stands for it; a type's pause waits this long before it returns. */
export const PAUSE_NOTICE_MS = 1_000
/** How long a key whose remembered item lost its commit is read first again. */
const SHARED_MS = 30_000
/** Items remembered at most, and their characters in all; a larger item is not kept. */
const MAX_ITEMS = 1_000
const MAX_CHARS = 16 * 1024 * 1024
const MAX_ITEM_CHARS = 64 * 1024

export class RecentItems {
  /** `type#key` → the item this host committed last, least recently used first. */
  private readonly items = new Map<string, StoredInstance>()
  private chars = 0
  /** `type#key` → until when it is read first (its remembered item lost a commit). */
  private readonly shared = new Map<string, number>()
  /** type → when the last read that found it unpaused was sent. */
  private readonly unpaused = new Map<string, number>()

  constructor(readonly now: () => number = () => performance.now()) {}

  /**
   * The item to run on without a read, or undefined when it must be read. Taken: the run that
   * takes it keeps what it leaves (`keep`), and a run that fails leaves nothing remembered.
   */
  take(type: string, key: string): StoredInstance | undefined {
    const name = `${type}#${key}`
    const item = this.items.get(name)
    if (item === undefined) return undefined
    this.forget(name)
    if (this.now() - (this.unpaused.get(type) ?? -Infinity) >= PAUSE_NOTICE_MS) return undefined
    return item
  }

  /** A read of `type`'s pause item sent at `sentAt` (`now()`) found it `paused` or not. */
  readPause(type: string, paused: boolean, sentAt: number): void {
    if (paused) this.unpaused.delete(type)
    else if (sentAt > (this.unpaused.get(type) ?? -Infinity)) this.unpaused.set(type, sentAt)
  }

  /** The item as a direct run left it: committed by it, or read and left as it was. */
  keep(type: string, key: string, item: StoredInstance): void {
    const name = `${type}#${key}`
    this.forget(name)
    const until = this.shared.get(name)
    if (until !== undefined) {
      if (this.now() < until) return
      this.shared.delete(name)
    }
    const chars = item.state.length + (item.meta?.length ?? 0)
    if (chars > MAX_ITEM_CHARS) return
    this.items.set(name, item)
    this.chars += chars
    for (const [oldest] of this.items) {
      if (this.items.size <= MAX_ITEMS && this.chars <= MAX_CHARS) break
      this.forget(oldest)
    }
  }

  /**
   * Another run of this host (a stream batch's) left `type#key`'s item so: what is remembered of
   * it is that, unless it is older (a batch that read it before a direct run committed, and
   * found nothing to apply).
   */
  refresh(type: string, key: string, item: StoredInstance): void {
    const remembered = this.items.get(`${type}#${key}`)
    if (remembered !== undefined && item.version >= remembered.version) this.keep(type, key, item)
  }

  /** A run on the remembered item lost its commit: other hosts write the key; it is read first for a while. */
  lost(type: string, key: string): void {
    const name = `${type}#${key}`
    this.forget(name)
    if (this.shared.size >= MAX_ITEMS) {
      const now = this.now()
      for (const [n, until] of this.shared) if (until <= now) this.shared.delete(n)
      if (this.shared.size >= MAX_ITEMS) this.shared.delete(this.shared.keys().next().value!)
    }
    this.shared.set(name, this.now() + SHARED_MS)
  }

  private forget(name: string): void {
    const item = this.items.get(name)
    if (item === undefined) return
    this.items.delete(name)
    this.chars -= item.state.length + (item.meta?.length ?? 0)
  }
}
