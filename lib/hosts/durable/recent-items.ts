// What a host's direct runs remember of the items they left (durable-host.ts is the map).
// A direct ask (a Lambda `Invoke`) read its instance's item and its type's pause item before its
// turn, then committed: two DynamoDB round trips in a row. Asks to one key in a row usually reach
// the same warm environment, whose last run left the item as it stands, so the read is skipped:
//
//   the instance   the item as this host's last direct run of the key left it (committed, or
//                  read and left alone), for NOTICE_MS from before that run's first request:
//                  used as the next run's `stored`, its commit conditional on that version and
//                  that item's `updatedAt` (an item deleted, by its TTL or by hand, and made again
//                  reaches the same version, not the same time). An item changed meanwhile (a
//                  stream batch in another environment, a tick here, an expiry) costs a lost
//                  write and a rerun on the item read then, never a lost update. A key whose
//                  remembered item lost once is read first again for a while: other hosts write
//                  it too, and guessing would cost it a write each time. Not used when the item
//                  holds what its run would write again before its commit (pending-receipts.ts
//                  `writesBeforeCommit`): only the commit may meet a changed item.
//   the type's     known absent for NOTICE_MS after a read that found none, timed from when the
//   pause          read was sent.
//
// A pause, of a key (in its item) or of a type, returns NOTICE_MS after it is written
// (aws/pauses.ts): whatever a host remembers from before it is too old by then, so a direct run
// that begins after the pause returns sees it. A turn that lost its commit runs again, as after any
// lost race (docs/guarantees.md, side effects).
//
// Times are read on two clocks and must be recent on both: the monotonic one, which a test's
// clock cannot stop and a change of the wall clock does not move; and the wall clock, which goes on
// while a frozen Lambda environment (whose monotonic clock may not) waits for its next invocation.
import { performance } from 'node:perf_hooks'
import type { StoredInstance } from '../../store/index.js'

/** How long a read or a commit stands for what it found or left; a pause waits this long before it returns. */
export const NOTICE_MS = 1_000
/** How long a key whose remembered item lost its commit is read first again. */
const SHARED_MS = 30_000
/** Items remembered at most, and their characters in all; a larger item is not kept. */
const MAX_ITEMS = 1_000
const MAX_CHARS = 16 * 1024 * 1024
const MAX_ITEM_CHARS = 64 * 1024

/** A moment on both clocks. */
export interface Moment {
  mono: number
  wall: number
}

/** An item remembered, and the moment before the request that found or left it. */
export interface Remembered {
  item: StoredInstance
  at: Moment
}

export class RecentItems {
  /** `type#key` → what is remembered of its item, least recently kept first. */
  private readonly items = new Map<string, Remembered>()
  private chars = 0
  /** `type#key` → until when (monotonic) it is read first (its remembered item lost a commit). */
  private readonly shared = new Map<string, number>()
  /** type → the moment the last read that found it unpaused was sent. */
  private readonly unpaused = new Map<string, Moment>()

  constructor(
    private readonly mono: () => number = () => performance.now(),
    private readonly wall: () => number = () => Date.now(),
  ) {}

  /** Now, on both clocks: taken before a request, it is the moment what the request finds or leaves is known from. */
  now(): Moment {
    return { mono: this.mono(), wall: this.wall() }
  }

  /**
   * The item to run on without a read, or undefined when it must be read. Taken: the run that
   * takes it keeps what it leaves (`keep`), and a run that fails leaves nothing remembered.
   */
  take(type: string, key: string): Remembered | undefined {
    const name = `${type}#${key}`
    const remembered = this.items.get(name)
    if (remembered === undefined) return undefined
    this.forget(name)
    const now = this.now()
    if (!recent(remembered.at, now) || !recent(this.unpaused.get(type), now)) return undefined
    return remembered
  }

  /** A read of `type`'s pause item sent at `sentAt` found it `paused` or not. */
  readPause(type: string, paused: boolean, sentAt: Moment): void {
    const known = this.unpaused.get(type)
    if (paused) this.unpaused.delete(type)
    else if (known === undefined || sentAt.mono > known.mono) this.unpaused.set(type, sentAt)
  }

  /** The item as a direct run left it, known from moment `at`. */
  keep(type: string, key: string, item: StoredInstance, at: Moment): void {
    const name = `${type}#${key}`
    this.forget(name)
    const until = this.shared.get(name)
    if (until !== undefined) {
      if (this.mono() < until) return
      this.shared.delete(name)
    }
    const chars = item.state.length + (item.meta?.length ?? 0)
    if (chars > MAX_ITEM_CHARS) return
    this.items.set(name, { item, at })
    this.chars += chars
    for (const [oldest] of this.items) {
      if (this.items.size <= MAX_ITEMS && this.chars <= MAX_CHARS) break
      this.forget(oldest)
    }
  }

  /** Another run of this host (a stream batch's, a tick's) ran `type#key`: what is remembered of it may be old. */
  drop(type: string, key: string): void {
    this.forget(`${type}#${key}`)
  }

  /** A run on the remembered item lost its commit: other hosts write the key; it is read first for a while. */
  lost(type: string, key: string): void {
    const name = `${type}#${key}`
    this.forget(name)
    const now = this.mono()
    if (this.shared.size >= MAX_ITEMS) {
      for (const [n, until] of this.shared) if (until <= now) this.shared.delete(n)
      if (this.shared.size >= MAX_ITEMS) this.shared.delete(this.shared.keys().next().value!)
    }
    this.shared.set(name, now + SHARED_MS)
  }

  private forget(name: string): void {
    const remembered = this.items.get(name)
    if (remembered === undefined) return
    this.items.delete(name)
    this.chars -= remembered.item.state.length + (remembered.item.meta?.length ?? 0)
  }
}

/** Whether `at` is within NOTICE_MS of `now` on both clocks (a wall clock set back counts as not). */
function recent(at: Moment | undefined, now: Moment): boolean {
  if (at === undefined) return false
  const mono = now.mono - at.mono
  const wall = now.wall - at.wall
  return mono < NOTICE_MS && wall >= 0 && wall < NOTICE_MS
}
