// An example's command line: node's parseArgs with -h/--help, and whole-number flags in a range.
// Bad usage prints the message and the usage on stderr and exits 2; --help prints the usage and exits 0.
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Says what was wrong, then the usage, and exits 2. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n\n${usage}`)
  process.exit(2)
}

/** The flags given, with -h/--help handled. */
export function readFlags<const O extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: O) {
  const config = { options: { ...options, help: { type: 'boolean', short: 'h' } } } as const
  let parsed: ReturnType<typeof parseArgs<typeof config>>
  try {
    parsed = parseArgs(config)
  } catch (error) {
    usageError(usage, (error as Error).message)
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage)
    process.exit(0)
  }
  return parsed.values
}

/** `flag`'s value as a whole number from `min` to `max`, `fallback` when it is absent. */
export function wholeNumberFlag(usage: string, flag: string, given: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(given ?? String(fallback))
  if (!Number.isInteger(n) || n < min || n > max) usageError(usage, `--${flag} must be a whole number from ${min} to ${max}, got ${given}`)
  return n
}
