// `troupe ui`: the web view, served by troupe itself on loopback, over a process serving
// inspection (--url), the AWS mode's table (--table), or the troupe dev running here. Runs until Ctrl-C.
import { Option, type Command } from 'commander'
import { TroupeError } from '../core/errors.js'
import { serveInspection, type InspectionServer } from '../inspect/inspection-server.js'
import { CliError, UsageError, withoutCode } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { openSource, SOURCE_HELP, sourceOptions, type SourceFlags } from './inspect-source.js'
import type { Io } from './io.js'

interface UiFlags extends SourceFlags {
  host: string
  port: string
  allowRemote?: boolean
}

/** Parses the flags and starts the web view; resolves once it listens. */
export async function startUi(argv: readonly string[], io: Io): Promise<InspectionServer | undefined> {
  let flags: UiFlags | undefined
  const program = sourceOptions(
    newCommand('troupe ui', io)
      .description('the web view: actor graph, state, messages and traces, dead letters with replay, statecharts; live')
      .addHelpText('after', `${SOURCE_HELP}
Who may use it
  It listens on 127.0.0.1 only. Another --host needs --allow-remote and a --token of at least
  16 characters (or TROUPE_UI_TOKEN), which every request must then carry (?token= in the URL).
  Replay, pause and resume always need the token; on loopback the page is given it.
`),
  )
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port (0: a free one)').default('0'))
    .option('--allow-remote', 'listen on an address other than loopback (needs --token)')
    .action((_opts, cmd: Command) => {
      flags = cmd.opts() as UiFlags
    })
  if ((await parseCommand(program, argv)) !== undefined) return undefined // the help was printed
  const f = flags!
  const port = Number(f.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number, got ${JSON.stringify(f.port)}`)
  const inspector = await openSource(f)
  let server: InspectionServer
  try {
    server = await serveInspection(inspector, {
      host: f.host,
      port,
      ...(f.token !== undefined ? { token: f.token } : {}),
      allowRemote: f.allowRemote === true,
      // Counting a table's instances reads all of it: fresh counts every 10 s, not every second.
      tickMs: f.table !== undefined ? 10_000 : 1_000,
    })
  } catch (error) {
    await inspector.close?.()
    if (error instanceof TroupeError) throw new UsageError(withoutCode(error.message), { cause: error })
    throw error
  }
  const close = server.close
  server.close = async () => {
    await close()
    await inspector.close?.()
  }
  const remote = f.host !== '127.0.0.1' && f.host !== 'localhost' && f.host !== '::1'
  io.stdout.write(`troupe ui: ${server.url}/${remote ? '?token=<your token>' : ''}\n`)
  return server
}

export async function ui(argv: readonly string[], io: Io): Promise<number> {
  let server: InspectionServer | undefined
  try {
    server = await startUi(argv, io)
  } catch (error) {
    if (error instanceof TroupeError) throw new CliError(withoutCode(error.message), 1, { cause: error })
    throw error
  }
  if (!server) return 0
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  await server.close()
  return signal === 'SIGINT' ? 130 : 143
}
