// A process's lane: the messages a process puts outside any turn (tells, asks, system.fork,
// replays, timer firings, wake-ups) get their origin here. Positions count up from 0; the fence
// is the lowest position whose send has not settled, so a copy carries, as every copy must, only
// what is true when it is put: every message of the lane below the fence has had all its copies
// put (its send succeeded, or gave up and will never put another).
import { nanoid } from 'nanoid'
import type { Envelope, Origin } from '../../core/envelope.js'

export class ProcessLane {
  /** `p:` and a random id, unique per process (per system). */
  readonly lane = `p:${nanoid(12)}`
  private next = 0
  /** Positions taken and not settled, in the order taken (ascending). */
  private readonly open: number[] = []
  private readonly settled = new Set<number>()

  /** A new position; settle it once no copy of its messages can be put any more. */
  take(): number {
    const pos = this.next++
    this.open.push(pos)
    return pos
  }

  /** The origin of the `i`-th message made at `pos`, with the fence as it stands now. */
  origin(pos: number, i = 0): Origin {
    return { lane: this.lane, pos: String(pos), i, fence: this.fence() }
  }

  /** Gives `envelope` a new position of its own. */
  stamp(envelope: Envelope): number {
    const pos = this.take()
    envelope.origin = this.origin(pos)
    return pos
  }

  /** No copy of the messages at `pos` will be put again: the fence may pass it. */
  settle(pos: number): void {
    this.settled.add(pos)
  }

  /** The lowest position not settled (the next one when all are). */
  fence(): string {
    while (this.open.length !== 0 && this.settled.has(this.open[0]!)) this.settled.delete(this.open.shift()!)
    return String(this.open[0] ?? this.next)
  }
}
