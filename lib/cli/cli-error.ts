// How a command fails: one line on stderr, `troupe <command>: <message>`, and an exit code —
// 2 for a usage error (a bad flag, a missing or malformed app), 1 for a failure at run time.
import { parseArgs, type ParseArgsConfig } from 'node:util'

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

/**
 * `util.parseArgs`, strict and without positionals, whose errors are UsageErrors naming the flag
 * in a short sentence (node's own messages run to three lines of advice).
 */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new UsageError(describeParseError(error), { cause: error })
  }
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  const text = message ?? String(error)
  const quoted = /'([^']*)'/.exec(text)?.[1] ?? ''
  const flag = quoted.split(' ')[0] ?? quoted
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(text)) return `${flag} takes no value`
      if (/ambiguous/.test(text)) return `${flag} needs a value (write ${flag}=<value> for a value that starts with "-")`
      return `${flag} needs a value`
    default:
      return text
  }
}
