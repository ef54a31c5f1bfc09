// Work over many items with a few of them in flight at once: the batched reads and writes of the
// DynamoDB stores, the dead letters' payloads, the inspector's receipts.

/**
 * `work` over every item, at most `limit` at once; results in the items' order. Once one fails no
 * further item starts, and the call rejects with that error when the work in flight has ended, so
 * nothing of it runs on after the caller has heard. `stopped` tells a running item that another
 * failed (a retry loop ends there).
 */
export async function eachAtOnce<T, R>(items: readonly T[], limit: number, work: (item: T, stopped: () => boolean) => Promise<R>): Promise<R[]> {
  // A limit under 1 would start no worker and answer holes without doing any of the work.
  if (!(limit >= 1)) throw new RangeError(`eachAtOnce needs a limit of at least 1, got ${limit}`)
  const out: R[] = new Array(items.length)
  let next = 0
  let failure: { error: unknown } | undefined
  const stopped = () => failure !== undefined
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++
      try {
        out[i] = await work(items[i]!, stopped)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure !== undefined) throw failure.error
  return out
}
