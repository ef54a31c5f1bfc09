// How a command fails: one line on stderr, `troupe <command>: <message>`, and an exit code —
// 2 when it cannot start as asked (a bad flag, a missing or malformed app, an npm package it
// needs not installed), 1 for a failure at run time.

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'CliError'
  }
}

/** A bad invocation: exit code 2, and the help hint. */
export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 2, options)
    this.name = 'UsageError'
  }
}

/** A TroupeError's message without its `[TROUPE_…]` code: the code is for programs, the line for people. */
export function withoutCode(message: string): string {
  return message.replace(/^\[TROUPE_[A-Z_]+\] /, '')
}

/** An error's message for a line on stderr; an AggregateError (a connection refused on every address) says each of its errors. */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return `${error.message}: ${error.errors.map(messageOf).join('; ')}`
  return error instanceof Error ? error.message : String(error)
}
