// Per key, work that settles in the order it was queued: each piece waits for the one queued
// before it under the same key to settle (either way), and other keys never wait.

export class KeyedSequence {
  /** Per key, the last piece queued, settled either way; gone once nothing is queued. */
  private readonly tails = new Map<string, Promise<void>>()

  /** Runs `work` once everything queued before it under `key` has settled; resolves or rejects as `work` does. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key)
    const result = before === undefined ? work() : before.then(work)
    const settled = result.then(
      () => {},
      () => {},
    )
    this.tails.set(key, settled)
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key)
    })
    return result
  }
}
