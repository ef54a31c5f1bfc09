import type { MessageId } from '../core/ids.js'

/**
 * `ctx.once`: a side effect run once per message and name in this host, across the message's
 * attempts. A failed one may run again on the next attempt. A message's results are forgotten
 * when it ends here; past `limit` messages (those whose retries another host took over), the
 * oldest go first. Another host that runs the message again runs its side effects again: they
 * are at least once across hosts.
 */
export class OnceResults {
  private readonly byMessage = new Map<string, Map<string, Promise<unknown>>>()

  constructor(private readonly limit = Infinity) {}

  run<T>(messageId: MessageId, name: string, fn: () => T | Promise<T>): Promise<T> {
    let results = this.byMessage.get(messageId)
    const known = results?.get(name) as Promise<T> | undefined
    if (known !== undefined) return known
    if (results === undefined) {
      this.byMessage.set(messageId, (results = new Map()))
      if (this.byMessage.size > this.limit) this.byMessage.delete(this.byMessage.keys().next().value!)
    }
    const result = Promise.resolve().then(fn)
    result.catch(() => {
      if (this.byMessage.get(messageId)?.get(name) === result) results.delete(name)
    })
    results.set(name, result)
    return result
  }

  /** The message ended here (done, filtered or dead): no attempt of it runs here again. */
  forget(messageId: string): void {
    if (this.byMessage.size !== 0) this.byMessage.delete(messageId)
  }
}
