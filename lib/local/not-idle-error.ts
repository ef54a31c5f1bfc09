import { TroupeError } from '../core/errors.js'

/** A wait for the local Lambda path (or one of its parts) to be idle gave up; `busy` says what still was. */
export class NotIdleError extends TroupeError {
  constructor(
    /** What was waited for: `function troupe-host`, `the mapping of stream orders`, `the local Lambda path`. */
    readonly what: string,
    readonly timeoutMs: number,
    readonly busy: readonly string[],
  ) {
    super('TROUPE_LAMBDA_NOT_IDLE', `${what} was not idle after ${timeoutMs} ms: ${busy.join('; ')}`)
  }
}
