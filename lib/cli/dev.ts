// `troupe dev`: the AWS mode on one machine. Starts dynalite and a Kinesis emulator in this
// process on 127.0.0.1 with their data under the project folder, creates the table and streams,
// runs the app's actors on them (by default in its Lambda bundle under a local event source
// mapping, dev-lambda.ts; with --host process on a shard consumer in this process), starts the
// app's own code, prints where everything is, and runs until SIGINT/SIGTERM.
// This file reads the flags; dev-run.ts, loaded only then (it loads the AWS SDK), does the rest.
import type { Command } from 'commander'
import { isLogLevel, LOG_LEVELS } from '../core/logger.js'
import { STREAM_NAME } from '../routing/kinesis-limits.js'
import { UsageError } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { DEV_DIR } from './dev-file.js'
import { DEFAULT_APP_HELP, defaultApp } from './load-app.js'
import type { DevOptions } from './dev-options.js'
import type { Io } from './io.js'

/** The flags as commander reads them: every value as given, unchecked. */
interface DevFlags {
  app?: string
  dir?: string
  kinesis?: string
  shards?: string
  table?: string
  stream?: string
  host?: string
  tick?: string
  logLevel?: string
  json?: boolean
  once?: boolean
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/

function devCommand(io: Io): Command {
  return newCommand('troupe dev', io)
    .description(
      "Runs an app's actors in the AWS mode on a local DynamoDB (dynalite) and Kinesis (kinesalite or kinesis-local), " +
        'started by troupe on 127.0.0.1 with their data under the project folder: no Docker, no account. ' +
        'Creates the table and the streams, runs the actors on them (by default as Lambda will: see --host), starts the app, ' +
        'prints where everything is, and runs until Ctrl-C (a second Ctrl-C forces the exit).',
    )
    .option('--app <file>', `the app: a module whose default export is defineApp({ actors, start? }) ${DEFAULT_APP_HELP}`)
    .option('--dir <folder>', `the project folder: the emulators' data persists in <folder>/data, and <folder>/dev.json says where a running troupe dev is, for troupe inspect and troupe ui (default ${DEV_DIR})`)
    .option('--kinesis <name>', 'kinesalite (in this process, starts at once) or kinesis-local (kinesis-mock in a child process: closer to AWS, starts in seconds) (default kinesalite)')
    .option('--shards <n>', 'shards of each new stream, 1 to 100; a stream that exists keeps its own (default 2)')
    .option('--table <name>', 'the DynamoDB table (default troupe)')
    .option('--stream <name>', "the default Kinesis stream (default: the app's `stream`, else troupe)")
    .option(
      '--host <where>',
      "lambda: the turns run as on AWS, in the app's Lambda bundle (what troupe deploy uploads) in local function processes, " +
        "fed by a local event source mapping with the template's settings, ticked for timers, and asked through a local Lambda Invoke API; " +
        'process: the turns run in this process, on a shard consumer, as in a container (starts faster) (default lambda)',
    )
    .option('--tick <seconds>', 'with --host lambda, how often the scheduled tick fires due timers and join deadlines (default 60, as the deployed rule; lower it to see timers sooner)')
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}; logs go to stderr (default warn)`)
    .option('--json', 'print JSON lines on stdout instead of text: {"event":"ready",…} once everything runs, {"event":"stopped",…} with the summary')
    .option('--once', "start, run the app's start, wait until the system is idle, stop, exit (for scripts and tests)")
    .addHelpText(
      'after',
      `
Exit code: 0 after a clean stop, 1 when something failed at run time, 2 on bad options
or an app that is missing or is not an app, 130 (SIGINT) or 143 (SIGTERM) when stopped
before it was ready or before --once was done, or forced.
`,
    )
}

/** Checks the flags commander read; a bad one is a UsageError naming it and its value. */
export function devOptions(values: DevFlags): DevOptions {
  const kinesis = values.kinesis ?? 'kinesalite'
  if (kinesis !== 'kinesalite' && kinesis !== 'kinesis-local') throw new UsageError(`--kinesis must be kinesalite or kinesis-local, got ${JSON.stringify(kinesis)}`)
  const shardsText = values.shards ?? '2'
  const shards = Number(shardsText)
  if (!/^\d+$/.test(shardsText) || shards < 1 || shards > 100) throw new UsageError(`--shards must be a whole number from 1 to 100, got ${JSON.stringify(shardsText)}`)
  const table = values.table ?? 'troupe'
  if (!TABLE_NAME.test(table)) throw new UsageError(`--table must be a DynamoDB table name (3–255 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(table)}`)
  if (values.stream !== undefined && !STREAM_NAME.test(values.stream)) {
    throw new UsageError(`--stream must be a Kinesis stream name (1–128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(values.stream)}`)
  }
  const host = values.host ?? 'lambda'
  if (host !== 'lambda' && host !== 'process') throw new UsageError(`--host must be lambda or process, got ${JSON.stringify(host)}`)
  const tickText = values.tick ?? '60'
  const tick = Number(tickText)
  if (!/^\d+(\.\d+)?$/.test(tickText) || tick < 0.1 || tick > 3600) throw new UsageError(`--tick must be seconds from 0.1 to 3600, got ${JSON.stringify(tickText)}`)
  const logLevel = values.logLevel ?? 'warn'
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`)
  for (const flag of ['app', 'dir'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} needs a value`)
  }
  return {
    app: values.app ?? defaultApp(),
    host,
    tickMs: Math.round(tick * 1000),
    dir: values.dir ?? DEV_DIR,
    kinesis,
    shards,
    table,
    stream: values.stream,
    logLevel,
    json: values.json === true,
    once: values.once === true,
  }
}

/** Runs `troupe dev <args>`; resolves to the exit code, or throws a CliError. */
export async function dev(args: readonly string[], io: Io): Promise<number> {
  const program = devCommand(io)
  const helped = await parseCommand(program, args)
  if (helped !== undefined) return helped
  const options = devOptions(program.opts<DevFlags>())
  const { runDev } = await import('./dev-run.js')
  return runDev(options, io)
}
