import type { MessageId } from '../core/ids.js'

/** How `ctx.once` records a side effect (OnceOptions.semantics). */
export type OnceSemantics = 'at-least-once' | 'at-most-once'

/** The message a side effect belongs to, as its errors and records name it. */
export interface OnceSubject {
  readonly id: MessageId
  readonly type: string
  /** The instance's key; `''` for an unkeyed actor's message. */
  readonly key: string
}

/**
 * A side effect's result as a host keeps it: the call that ran `fn` gets `value` as `fn` returned
 * it (no copy); every later call gets `again()`, a fresh copy of the result as it was recorded, so
 * an attempt that changed the object it got (and then failed) changes nothing for the next.
 */
export interface OnceAnswer<T> {
  readonly value: T
  again(): T
}

/**
 * `ctx.once` in one host's memory: a side effect's result per message and name, across the
 * message's attempts and reruns here. At least once, a failed one runs again on the next attempt;
 * at most once, its error is the answer to every later attempt. A host forgets a message's
 * results when no turn of it can run here again: the embedded system when the message ends; the
 * durable host never (a turn whose commit or send was lost runs again), so past `limit` messages
 * the oldest go first, and its record in the side-effect store answers for them
 * (lib/hosts/durable/side-effects.ts).
 */
export class OnceResults {
  private readonly byMessage = new Map<string, Map<string, Promise<OnceAnswer<unknown>>>>()

  constructor(private readonly limit = Infinity) {}

  /**
   * `keepFailure`, at most once: whether a failure is the answer for good (default: always, as
   * `fn` was called); a durable host says no for a store that failed before the call was decided.
   */
  run<T>(messageId: MessageId, name: string, fn: () => OnceAnswer<T> | Promise<OnceAnswer<T>>, semantics: OnceSemantics = 'at-least-once', keepFailure?: () => boolean): Promise<T> {
    let results = this.byMessage.get(messageId)
    const known = results?.get(name) as Promise<OnceAnswer<T>> | undefined
    if (known !== undefined) return known.then((answer) => answer.again())
    if (results === undefined) {
      this.byMessage.set(messageId, (results = new Map()))
      if (this.byMessage.size > this.limit) this.byMessage.delete(this.byMessage.keys().next().value!)
    }
    const result = Promise.resolve().then(fn)
    // A failure at least once, or one not decided at most once, leaves the call to the next attempt;
    // else it is kept as the answer, and each attempt that asks sees it.
    result.catch(() => {
      if (semantics === 'at-most-once' && (keepFailure === undefined || keepFailure())) return
      if (this.byMessage.get(messageId)?.get(name) === result) results.delete(name)
    })
    results.set(name, result)
    return result.then((answer) => answer.value)
  }

  /** No turn of the message runs here again (the embedded system: it ended). */
  forget(messageId: string): void {
    if (this.byMessage.size !== 0) this.byMessage.delete(messageId)
  }
}
