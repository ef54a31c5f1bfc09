// `ctx.once` across hosts. A turn on a stream can run again anywhere: its batch redelivered to
// another environment after a crash, a timeout or a lost commit. So a side effect's record lives
// in the side-effect store (DynamoDB on AWS), keyed by message and name, where any host that runs
// the turn again finds it; this host's memory answers first, so a retry in place reads nothing.
//
// - At least once (the default): read the record; if a result is there, that is the answer; else
//   run `fn` and record its result (one write). A crash between `fn` and that write runs `fn`
//   again on the next run: the documented window.
// - At most once: claim the call before `fn` (one conditional write, which returns what was
//   there when it fails), and record its result after (a second write), so a later run of the
//   turn gets the result; a run that finds a claim without a result (the run that made it was cut
//   off between the claim and the result's record) throws OnceInterruptedError instead of
//   running `fn`.
//
// A record lives as long as a copy of its message may still come (the lane horizon), so a late
// redelivery still finds it; DynamoDB's TTL removes it after. A message that dies has its records
// pinned before its dead letter is written, since the letter waits for a replay as long as it
// takes; the replay unpins them once the letter is gone (lib/aws/dead-letter-replay.ts). A result too large for the record
// (over RECORD_RESULT_BYTES) is kept in the host's overflow store first, and the record says where.
import { createHash } from 'node:crypto'
import type { Clock } from '../../core/clock.js'
import type { MessageId } from '../../core/ids.js'
import type { Logger } from '../../core/logger.js'
import { OnceInterruptedError, OnceResultLostError, TroupeError } from '../../core/errors.js'
import { decode, encode } from '../../core/serialization.js'
import { assertSerializable } from '../../core/validate.js'
import type { DeadLetter } from '../../core/dead-letter.js'
import type { SideEffectRecord, SideEffectStore } from '../../store/index.js'
import type { PayloadStore } from '../../store/payload-store.js'
import { OnceResults, type OnceAnswer, type OnceSemantics, type OnceSubject } from '../../turn/once.js'
import { SENT_MEMORY } from './sent-segments.js'

/** A result longer than this, in bytes of its superjson text, is kept out of the record (an item holds 400 KB). */
export const RECORD_RESULT_BYTES = 300 * 1024

export class SideEffects {
  private readonly memory = new OnceResults(SENT_MEMORY)

  constructor(
    private readonly store: SideEffectStore,
    private readonly clock: Clock,
    /** How long a record is kept: as long as a copy of its message may still come. */
    private readonly keepMs: number,
    /** Where a result too large for its record is kept; without one, the store refuses it (TROUPE_ONCE_TOO_LARGE). */
    private readonly overflow: PayloadStore | undefined,
    private readonly logger: Logger,
  ) {}

  run<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>, semantics: OnceSemantics): Promise<T> {
    // The memory answers per message and instance: a message of another instance under the same
    // id (a hand-made record) reads the store, whose record is not its answer (see `answer`).
    const id = `${message.id} ${message.type}#${message.key}` as MessageId
    if (semantics === 'at-least-once') return this.memory.run(id, name, () => this.atLeastOnce(message, name, fn), semantics)
    // At most once, a failure is the answer for good only once the call was decided (`fn` called,
    // or a record found); a store that failed before that leaves the call to the next attempt.
    const decided = { now: false }
    return this.memory.run(id, name, () => this.atMostOnce(message, name, fn, decided), semantics, () => decided.now)
  }

  /**
   * Keeps the side effects of messages that died for as long as their letters wait: called before
   * the letters are written, so no letter is ever without them.
   */
  async pin(letters: readonly DeadLetter[]): Promise<void> {
    await Promise.all(letters.map((l) => this.store.pin(l.envelope.id, l.deadAt)))
  }

  private async atLeastOnce<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>): Promise<OnceAnswer<T>> {
    const there = await this.store.get(message.id, name, this.clock.now())
    if (there !== undefined) return this.answer(message, name, there)
    const result = await fn()
    const { record, text } = await this.resultRecord(message, name, result)
    try {
      await this.store.put(record)
    } catch (error) {
      if (isTooLarge(error)) throw await this.unrecordable(message, name, error)
      throw error
    }
    return recorded(result, text)
  }

  private async atMostOnce<T>(message: OnceSubject, name: string, fn: () => T | Promise<T>, decided: { now: boolean }): Promise<OnceAnswer<T>> {
    const there = await this.store.claim(this.record(message, name, 'started', undefined), this.clock.now())
    decided.now = true
    if (there !== undefined) return this.answer(message, name, there)
    const result = await fn()
    const { record, text } = await this.resultRecord(message, name, result)
    try {
      // The second write: a run after this one (a redelivery, a direct ask's copy on the stream)
      // gets the result, not an interruption. Lost, the claim alone stands: at most once still.
      await this.store.put(record)
    } catch (error) {
      // Too large to record: a dead letter at once, as at least once, and a later run is told that
      // the side effect ran and its result was lost.
      if (isTooLarge(error)) throw await this.unrecordable(message, name, error)
      this.logger.warn(`the result of ctx.once('${name}') was not recorded; a later run of the turn will find it interrupted`, { actor: message.type, messageId: message.id, error: (error as Error)?.message ?? String(error) })
    }
    return recorded(result, text)
  }

  /**
   * The record of a result, checked as it will be kept, and its text; one too large for the record
   * is kept in the overflow store first, so a record never points at what is not there. A result
   * that cannot be serialised is refused after a record that says so (`unrecordable`): the side
   * effect has run, and the refusal fails the turn for good (turn.ts, isTerminal).
   */
  private async resultRecord(message: OnceSubject, name: string, result: unknown): Promise<{ record: SideEffectRecord; text: string }> {
    let text: string
    try {
      assertSerializable(message.type, 'once result', result)
      text = encode(result)
    } catch (error) {
      throw await this.unrecordable(message, name, error)
    }
    const record = this.record(message, name, 'done', text)
    if (this.overflow !== undefined && Buffer.byteLength(text) > RECORD_RESULT_BYTES) {
      record.kept = keptKey(message, name)
      delete record.result
      await this.overflow.put(record.kept, Buffer.from(text), record.expiresAt)
    }
    return { record, text }
  }

  /**
   * Records that `fn` ran and its result could not be kept (`error` says why), so a later run
   * (a redelivery, a replayed letter) is told so instead of running `fn` again; returns `error`.
   * A record that cannot be written either is logged: the side effect may then run again.
   */
  private async unrecordable(message: OnceSubject, name: string, error: unknown): Promise<unknown> {
    const record = this.record(message, name, 'done', undefined)
    record.unrecorded = clip((error as Error)?.message ?? String(error))
    try {
      await this.store.put(record)
    } catch (failure) {
      this.logger.warn(`ctx.once('${name}') ran and its result could not be recorded, nor that it ran; a later run of the turn runs it again`, { actor: message.type, messageId: message.id, error: (failure as Error)?.message ?? String(failure) })
    }
    return error
  }

  /** What an earlier run recorded: its result, or (a claim alone, a result lost) the error that says it may have run. */
  private async answer<T>(message: OnceSubject, name: string, record: SideEffectRecord): Promise<OnceAnswer<T>> {
    // Records are keyed by message id and name: one written by another type's or key's turn (a
    // hand-made record that reused an id) answers nothing here, and `fn` is not run over it.
    if ((record.actor !== '' && record.actor !== message.type) || (record.key !== undefined && record.key !== message.key)) {
      throw new TroupeError(
        'TROUPE_ONCE_OTHER_TURN',
        `ctx.once('${name}') of ${message.type} key ${JSON.stringify(message.key)} on message ${message.id} found a record written by a turn of ${record.actor || '(an unnamed actor)'}${record.key === undefined ? '' : ` key ${JSON.stringify(record.key)}`} under the same message id and name; it is not this turn's result, and the side effect is not run over it — find who put a record with this message id on the stream`,
      )
    }
    if (record.status === 'done' && record.result !== undefined) return decoded<T>(record.result)
    if (record.status === 'done' && record.kept !== undefined) {
      const kept = await this.overflow?.get(record.kept)
      if (kept !== undefined) return decoded<T>(Buffer.from(kept).toString('utf8'))
      // The side effect ran and its result was kept: running it again is not the answer.
      throw new TroupeError(
        'TROUPE_OVERFLOW_MISSING',
        `the result of ctx.once('${name}') of ${message.type} on message ${message.id} was kept in the overflow store under ${record.kept}, and it is not there${this.overflow === undefined ? ' (this host has no overflow store)' : ''}; make sure nothing deletes or expires the overflow store's objects early`,
      )
    }
    if (record.status === 'done' && record.unrecorded !== undefined) throw new OnceResultLostError(message.type, message.id, name, record.at, record.unrecorded)
    // A claim without a result: an at-most-once run started it (even if this call asks for at
    // least once, after a change of code), so it is never run again.
    throw new OnceInterruptedError(message.type, message.id, name, record.at)
  }

  private record(message: OnceSubject, name: string, status: SideEffectRecord['status'], result: string | undefined): SideEffectRecord {
    const at = this.clock.now()
    const record: SideEffectRecord = { messageId: message.id, name, actor: message.type, key: message.key, status, at, expiresAt: at + this.keepMs }
    if (result !== undefined) record.result = result
    return record
  }
}

/** The answer of a result this run recorded: `fn`'s own object first, then a copy decoded from its text for each later call. */
function recorded<T>(value: T, text: string): OnceAnswer<T> {
  return { value, again: () => decode<T>(text) }
}

/** The answer of a result an earlier run recorded: decoded afresh for each call. */
function decoded<T>(text: string): OnceAnswer<T> {
  return { value: decode<T>(text), again: () => decode<T>(text) }
}

function isTooLarge(error: unknown): boolean {
  return error instanceof TroupeError && error.code === 'TROUPE_ONCE_TOO_LARGE'
}

/** A reason as a record keeps it: an error's message, cut short. */
function clip(text: string): string {
  return text.length > 1_000 ? `${text.slice(0, 1_000)}…` : text
}

/** Where a large result is kept: a hash of the message and the name, so any host finds it, and no name can reach another's. */
function keptKey(message: OnceSubject, name: string): string {
  return `once/${createHash('sha256').update(JSON.stringify([message.id, name])).digest('hex')}`
}
