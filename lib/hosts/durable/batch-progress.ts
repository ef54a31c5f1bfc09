// How far a batch of a shard has got, for the fences its copies carry (docs/guarantees.md). The
// batch's first record vouches for everything before it; as the batch runs, every group (an
// instance's records, or one stateless message) that has committed and sent what it made is done,
// and the fence rises to the first position of the earliest group not done. A receiver then keeps
// only the positions of the groups still running when the lane last sent to it, not a whole batch.
//
// A group is done only when none of its positions can be given new messages later: it committed
// (its instance's watermark covers its records), or none of its records was new to the instance.
import { comparePosition } from '../../core/position.js'

export class BatchProgress {
  /** First positions of the groups not done, in lane order. */
  private readonly open: string[]
  private readonly last: string

  constructor(
    /** The batch's first position. */
    first: string,
    groups: readonly string[],
  ) {
    this.open = [...groups].sort(comparePosition)
    this.last = this.open.at(-1) ?? first
  }

  /** The group that starts at `position` is done. */
  done(position: string): void {
    const i = this.open.indexOf(position)
    if (i >= 0) this.open.splice(i, 1)
  }

  /** What a copy put now can vouch for: every position of the lane below it is done, all its copies put. */
  fence(): string {
    return this.open[0] ?? this.last
  }
}
