// The room an instance's item has for messages that wait in it: held while the key or its type is
// paused, or parked (for a token of a throttle, a slot, or behind a message waiting for its
// retry). They share the item's 400 KB with its state and bookkeeping, and an item too large to be
// written would stall its shard (its batch delivered again and again, every key behind it
// waiting). So a message that would not fit is a dead letter instead (`TROUPE_WAIT_LIMIT`), never
// applied, its record read: the shard moves on, and the letter is replayed once the key runs again.
import type { Envelope } from '../../core/envelope.js'
import { TroupeError } from '../../core/errors.js'
import { encode } from '../../core/serialization.js'
import type { StoredInstance } from '../../store/index.js'

/** Room left for what a run adds to its item besides what waits (bookkeeping, receipts): a run's growth is small, and a spilled outbox is a reference. */
const MARGIN_BYTES = 16 * 1024

export class WaitRoom {
  /** Bytes still free for waiting messages; Infinity where items have no limit. */
  private free: number

  constructor(
    maxItemBytes: number | undefined,
    /** The item as the run loaded it: what waits in it already is counted there. */
    stored: StoredInstance | undefined,
  ) {
    const storedBytes = stored === undefined ? 0 : Buffer.byteLength(stored.state) + Buffer.byteLength(stored.meta ?? '')
    this.free = maxItemBytes === undefined ? Infinity : maxItemBytes - MARGIN_BYTES - storedBytes
  }

  /** Takes room for `envelope` to wait in the item; false when there is none (it is then a dead letter: `full`). */
  take(envelope: Envelope): boolean {
    if (this.free === Infinity) return true
    const bytes = Buffer.byteLength(encode(envelope))
    if (bytes > this.free) return false
    this.free -= bytes
    return true
  }

  /** Why `envelope`, which could not wait in the item of `type#key`, is a dead letter. */
  full(type: string, envelope: Envelope, why: 'held' | 'parked'): TroupeError {
    const wait = why === 'held' ? 'be held while it is paused' : 'wait in line (for a token of its throttle, a slot of its concurrency, or behind a message waiting for its retry)'
    return new TroupeError(
      'TROUPE_WAIT_LIMIT',
      `${type}#${envelope.key} has no room left in its item for message ${envelope.id} to ${wait}: what waits there shares the item's 400 KB with its state. ` +
        `The message was not applied; replay the letter once the key runs again (${why === 'held' ? 'resume it' : 'its line moves'}).`,
    )
  }
}
