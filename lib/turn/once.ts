import type { MessageId } from '../core/ids.js'

/**
 * `ctx.once`: a side effect run once per message and name in this host, across the message's
 * attempts and reruns. A failed one may run again on the next attempt. A host forgets a
 * message's results when no turn of it can run here again: the embedded system when the message
 * ends; the durable host never (a turn whose commit or send was lost runs again), so past
 * `limit` messages the oldest go first. Another host that runs the message again runs its side
 * effects again: they are at least once across hosts.
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

  /** No turn of the message runs here again (the embedded system: it ended). */
  forget(messageId: string): void {
    if (this.byMessage.size !== 0) this.byMessage.delete(messageId)
  }
}
