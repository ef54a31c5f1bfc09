import type { ErrorCode } from './error-codes.js'

/**
 * troupe's errors. The class says what happens next; `code` is stable for scripts, and is one of
 * the codes listed in error-codes.ts (docs/errors.md), so a code raised anywhere is in the list.
 *
 * - {@link TerminalError}: thrown from `receive`, never retried: the message is dead-lettered at once.
 * - {@link RetryableError}: retried by the actor's policy, optionally after `retryAfterMs`.
 * - Any other error thrown from `receive` is retried by the policy, then dead-lettered.
 * - The rest are raised by troupe to the caller of `tell`/`ask`, and are never retried.
 */
export class TroupeError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(`[${code}] ${message}`, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Thrown from `receive` when retrying cannot help: the message goes to the dead letters at once. */
export class TerminalError extends TroupeError {
  constructor(message: string, options?: ErrorOptions) {
    super('TROUPE_TERMINAL', message, options)
  }
}

/** Thrown from `receive` to ask for a retry, optionally no sooner than `retryAfterMs`. */
export class RetryableError extends TroupeError {
  readonly retryAfterMs: number | undefined
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super('TROUPE_RETRYABLE', message, options)
    this.retryAfterMs = options?.retryAfterMs
  }
}

/** A message body failed the actor's schema; nothing was sent. */
export class ValidationError extends TroupeError {
  readonly actor: string
  readonly issues: readonly { path: string; message: string }[]
  constructor(actor: string, issues: readonly { path: string; message: string }[]) {
    const list = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')
    super('TROUPE_INVALID_MESSAGE', `message for ${actor} is invalid: ${list}`)
    this.actor = actor
    this.issues = issues
  }
}

/** A message would not survive serialisation in the AWS mode; nothing was sent. */
export class NotSerializableError extends TroupeError {
  readonly actor: string
  readonly path: string
  constructor(actor: string, what: 'message' | 'state' | 'reply' | 'once result', path: string, found: string) {
    super(
      'TROUPE_NOT_SERIALIZABLE',
      `${what} of ${actor} has ${found} at ${path}; ` +
        'troupe messages and state must survive superjson (plain objects, arrays, primitives, Date, Map, Set, BigInt, RegExp, URL, Error) — send data, not functions or class instances',
    )
    this.actor = actor
    this.path = path
  }
}

/** `tell`/`ask` named an actor the system does not know. */
export class UnknownActorError extends TroupeError {
  constructor(type: string, known: readonly string[], where = 'in this system') {
    super('TROUPE_UNKNOWN_ACTOR', `no actor ${type} ${where}; known: ${known.join(', ') || '(none)'}`)
  }
}

/** An `ask` got no reply in time. Names the actor, key, message id and the last status seen. */
export class AskTimeoutError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly key: string,
    readonly messageId: string,
    readonly lastStatus: string,
    timeoutMs: number,
  ) {
    super(
      'TROUPE_ASK_TIMEOUT',
      `ask to ${actor}${key ? `#${key}` : ''} (message ${messageId}) got no reply in ${timeoutMs} ms; last status: ${lastStatus}`,
    )
  }
}

/** An `ask` ended without a reply: its message was dead-lettered or filtered. */
export class AskFailedError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly key: string,
    readonly messageId: string,
    readonly status: 'dead' | 'filtered',
    cause?: unknown,
  ) {
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    super('TROUPE_ASK_FAILED', `ask to ${actor}${key ? `#${key}` : ''} (message ${messageId}) ended ${status}${why}`, { cause })
  }
}

/** A turn ran past its policy's `attemptTimeoutMs`. Retried like any other failure. */
export class TurnTimeoutError extends TroupeError {
  constructor(actor: string, messageId: string, timeoutMs: number) {
    super('TROUPE_TURN_TIMEOUT', `turn of ${actor} on message ${messageId} ran past ${timeoutMs} ms`)
  }
}

/** `awaitReceipt` gave up: the message did not reach any of the statuses waited for in time. */
export class ReceiptTimeoutError extends TroupeError {
  constructor(
    readonly messageId: string,
    readonly wanted: readonly string[],
    readonly lastStatus: string,
    timeoutMs: number,
  ) {
    super('TROUPE_RECEIPT_TIMEOUT', `message ${messageId} did not reach ${wanted.join(' or ')} within ${timeoutMs} ms; last status: ${lastStatus}`)
  }
}

/** `replay` found no dead letter with that message id: it never was one, or was replayed already. */
export class NoDeadLetterError extends TroupeError {
  constructor(
    readonly messageId: string,
    where?: string,
  ) {
    super('TROUPE_NO_DEAD_LETTER', `no dead letter with message id ${messageId}${where ? ` ${where}` : ''}`)
  }
}

/** Another replay of the same dead letter is under way: one replay at a time sends a letter's message. */
export class ReplayUnderWayError extends TroupeError {
  constructor(
    readonly messageId: string,
    /** Epoch ms: when that replay's hold ends, if it stopped part-way, and a replay may take over; absent when it took over from this one. */
    readonly until?: number,
  ) {
    super(
      'TROUPE_REPLAY_UNDER_WAY',
      until === undefined
        ? `dead letter ${messageId} was taken over by another replay, which sends its message instead`
        : `dead letter ${messageId} is being replayed by another replay, which holds it until ${new Date(until).toISOString()}; replay it after that if it is still a dead letter`,
    )
  }
}

/**
 * On AWS, a paused actor's messages wait in its instance's item: a type that keeps no state has
 * none, so it cannot be paused.
 */
export class NotPausableError extends TroupeError {
  constructor(readonly actor: string) {
    super('TROUPE_NOT_PAUSABLE', `${actor} keeps no state, and on AWS a paused actor's messages wait in its instance's item; pause the stateful actor that sends to ${actor} instead`)
  }
}

/**
 * An at-most-once `ctx.once` call was claimed by an earlier run of the turn that did not record
 * its end: it is not run again, and whether it finished is unknown. Thrown into the turn, which
 * may catch it (and ask the outside system) or let the message retry and dead-letter.
 */
export class OnceInterruptedError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    readonly name: string,
    /** Epoch milliseconds of the claim. */
    readonly startedAt: number,
  ) {
    super(
      'TROUPE_ONCE_INTERRUPTED',
      `ctx.once('${name}') of ${actor} on message ${messageId} was started at ${new Date(startedAt).toISOString()} by a run that did not record its end; at most once, it is not run again, and whether it finished is unknown — ask the outside system (by the message id), or catch this error`,
    )
  }
}

/**
 * A `ctx.once` side effect ran in an earlier run of the turn, and its result could not be
 * recorded (it was not serialisable, or too large for its record): it is not run again, and its
 * result is not known here. Thrown into the turn, which may catch it; uncaught, the message is a
 * dead letter at once (a retry would get the same answer).
 */
export class OnceResultLostError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly messageId: string,
    readonly name: string,
    /** Epoch milliseconds of the record. */
    readonly ranAt: number,
    /** Why the result could not be recorded, as its error said then. */
    readonly reason: string,
  ) {
    super(
      'TROUPE_ONCE_RESULT_LOST',
      `ctx.once('${name}') of ${actor} on message ${messageId} ran its side effect in an earlier run (recorded at ${new Date(ranAt).toISOString()}), and its result could not be recorded (${reason}); it is not run again, and its result is unknown — return what can be recorded from the side effect, and catch this error to go on without it`,
    )
  }
}

/** The system is stopping or stopped and takes no new messages. */
export class SystemStoppedError extends TroupeError {
  constructor(detail = 'the system is stopped and takes no new messages') {
    super('TROUPE_STOPPED', detail)
  }
}

/** Options given to troupe were wrong. The message names the option path. */
export class ConfigError extends TroupeError {
  constructor(message: string) {
    super('TROUPE_CONFIG', message)
  }
}

/**
 * A stored state of an older version (`static version`) could not be brought to this code's
 * version: the actor's `migrate` threw, or returned nothing usable. It fails the turn it was to
 * run for, which the actor's policy retries and then dead-letters; the stored state stays as it was.
 */
export class StateMigrationError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly key: string,
    /** The version the state was stored by (a machine actor's machine version is a string). */
    readonly fromVersion: number | string,
    /** The version this code runs. */
    readonly toVersion: number | string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('TROUPE_STATE_MIGRATION_FAILED', `state of ${actor} key ${JSON.stringify(key)} could not be migrated from version ${versionText(fromVersion)} to ${versionText(toVersion)}: ${detail}`, options)
  }
}

/**
 * A stored state was written by a newer version of the actor (`static version`) than this code
 * runs: it is neither run nor written here. The embedded system fails the message with it; the
 * durable host leaves the instance's records for redelivery, for a host that runs the newer version.
 */
export class StateVersionError extends TroupeError {
  constructor(
    readonly actor: string,
    readonly key: string,
    /** The version the state was stored by. */
    readonly storedVersion: number,
    /** The version this code runs. */
    readonly codeVersion: number,
  ) {
    super(
      'TROUPE_STATE_VERSION_NEWER',
      `state of ${actor} key ${JSON.stringify(key)} was stored by version ${storedVersion} of the actor, and this code runs version ${codeVersion}; ` +
        'it is neither run nor overwritten here — deploy the newer version (it applies the message), or roll the state back by hand',
    )
  }
}

/** A version as an error names it: a machine version in quotes. */
function versionText(version: number | string): string {
  return typeof version === 'string' ? JSON.stringify(version) : String(version)
}

/** A conditional store write lost to another writer: reload and run again. Retried by the host. */
export class StoreConflictError extends TroupeError {
  constructor(
    readonly item: string,
    readonly expectedVersion: number | undefined,
  ) {
    super('TROUPE_STORE_CONFLICT', `${item} changed under this write (expected version ${expectedVersion ?? 'none'}); reload and try again`)
  }
}

/**
 * A store item would exceed DynamoDB's 400 KB: an instance's state, the outbox of a turn (where
 * no store for overflow is set), the replies a joiner holds for a fork, or a timer with its
 * message. Nothing was written.
 */
export class ItemTooLargeError extends TroupeError {
  constructor(
    readonly what: 'state' | 'outbox' | 'join' | 'timer',
    /** `type#key` of the actor instance, or the timer id. */
    readonly item: string,
    readonly bytes: number,
  ) {
    const size = `${(bytes / 1024).toFixed(1)} KB`
    const texts: Record<typeof what, [ErrorCode, string]> = {
      state: [`TROUPE_STATE_TOO_LARGE`, `state of ${item} is ${size}; DynamoDB items hold 400 KB — keep less state (large blobs belong in S3, with their key in the state)`],
      outbox: [`TROUPE_OUTBOX_TOO_LARGE`, `the messages a turn of ${item} sends come to ${size} and no store for overflow is set; DynamoDB items hold 400 KB — give the host an overflow store (AwsSystem sets one on its table)`],
      join: [`TROUPE_JOIN_TOO_LARGE`, `the replies the joiner ${item} holds would be ${size}; DynamoDB items hold 400 KB — reply with less (large results belong in S3, with their key in the reply)`],
      timer: [`TROUPE_TIMER_TOO_LARGE`, `timer ${item} is ${size} with its message; DynamoDB items hold 400 KB — schedule a smaller message that points at the data`],
    }
    super(...texts[what])
  }
}
