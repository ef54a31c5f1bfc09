// How every `troupe <command>` reads its flags: commander, writing to the command's Io and
// throwing instead of exiting, with its errors said in troupe's way — one line naming the flag
// (and the nearest real one when it is misspelt), as a UsageError main() prints with the hint.
import { Command, CommanderError, type Option } from 'commander'
import { UsageError } from './cli-error.js'
import type { Io } from './io.js'

/** A commander command for `name` (`troupe dev`) that writes to `io` and never exits the process. */
export function newCommand(name: string, io: Io): Command {
  return new Command(name)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => {} })
    .exitOverride()
    .showHelpAfterError(false)
    .helpOption('-h, --help', 'show this help')
}

/**
 * Parses `argv` with `program` (running the action it names, if any). Resolves to an exit code
 * when the help was printed instead (0 when asked for, 2 when a subcommand was missing), else
 * to undefined: the caller goes on with `program.opts()`. Errors of commander become UsageErrors.
 */
export async function parseCommand(program: Command, argv: readonly string[]): Promise<number | undefined> {
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return undefined
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0
    // Help asked for (`help`, `help <command>`) exits 0; help shown because no subcommand was
    // given went to stderr, and exits 2 as any usage error does.
    if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : 2
    throw new UsageError(describe(error, program), { cause: error })
  }
}

/** Commander's message, as one line in the words the rest of troupe's errors use. */
function describe(error: CommanderError, program: Command): string {
  const text = error.message.replace(/^error: /, '')
  const suggestion = /\(Did you mean (.+)\?\)/.exec(text)?.[1]
  const didYouMean = suggestion ? `; did you mean ${suggestion}?` : ''
  switch (error.code) {
    case 'commander.unknownOption': {
      const flag = /unknown option '([^']*)'/.exec(text)?.[1] ?? text
      // `--once=yes`: commander reads a value after `=` only for an option that takes one.
      const [name, value] = splitAssignment(flag)
      const known = value !== undefined ? findOption(program, name) : undefined
      if (known && !known.required && !known.optional) return `${name} takes no value`
      // `-eGuQ…`: an id or key that starts with '-' reads as options unless it follows `--`.
      const asArgument = !didYouMean && /^-[^-]./.test(flag) ? `; an argument that starts with '-' goes after '--'` : ''
      return `unknown option ${flag}${didYouMean}${asArgument}`
    }
    case 'commander.unknownCommand':
      return `unknown command ${JSON.stringify(/unknown command '([^']*)'/.exec(text)?.[1] ?? '')}${didYouMean}`
    case 'commander.optionMissingArgument': {
      const flags = /option '([^']*)'/.exec(text)?.[1] ?? ''
      return `${longOf(flags)} needs a value`
    }
    case 'commander.excessArguments': {
      const cmd = withExcess(program)
      const extra = cmd?.args[cmd.registeredArguments.length]
      return extra !== undefined ? `unexpected argument ${JSON.stringify(extra)}` : text.split('\n')[0]!
    }
    default:
      return text.replace(/\s*\n\s*/g, ' ')
  }
}

function splitAssignment(flag: string): [string, string | undefined] {
  const at = flag.indexOf('=')
  return at < 0 ? [flag, undefined] : [flag.slice(0, at), flag.slice(at + 1)]
}

/** `--app <file>` → `--app`; `-h, --help` → `--help`. */
function longOf(flags: string): string {
  return flags.split(/[ ,|]+/).find((f) => f.startsWith('--')) ?? flags.split(/[ ,|]+/)[0] ?? flags
}

function findOption(cmd: Command, long: string): Option | undefined {
  return cmd.options.find((o) => o.long === long) ?? cmd.commands.map((c) => findOption(c, long)).find((o) => o !== undefined)
}

/** The deepest command that was given more arguments than it takes (the one commander refused). */
function withExcess(cmd: Command): Command | undefined {
  for (const sub of cmd.commands) {
    const found = withExcess(sub)
    if (found) return found
  }
  const declared = cmd.registeredArguments
  return cmd.args.length > declared.length && !declared.at(-1)?.variadic ? cmd : undefined
}
