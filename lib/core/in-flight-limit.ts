// At most a number of calls of one kind in flight at once; the others wait their turn, first come
// first served. The durable host's commits use it (durable-context.ts).

export class InFlightLimit {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`InFlightLimit needs a limit of at least 1, got ${limit}`)
  }

  /** Calls `work` once fewer than `limit` calls are in flight, and answers what it answers. */
  async run<T>(work: () => T | PromiseLike<T>): Promise<T> {
    if (this.running < this.limit) this.running++
    else await new Promise<void>((resolve) => this.waiting.push(resolve))
    try {
      return await work()
    } finally {
      // The slot passes straight to the next waiting call, so none that comes later takes it first.
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}
