// The `troupe` command: dispatches to a subcommand. bin/troupe.js registers tsx and calls main().
import { readFileSync } from 'node:fs'
import { CliError, UsageError } from './cli-error.js'

/** Where a command writes; tests may pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

interface Command {
  summary: string
  run(args: readonly string[], io: Io): Promise<number>
}

const COMMANDS: Record<string, Command> = {
  dev: {
    summary: "run an app's actors on a local Kinesis and DynamoDB (no Docker, no account)",
    run: async (args, io) => (await import('./dev.js')).dev(args, io),
  },
  bundle: {
    summary: "bundle the app's actors and the Lambda host, zipped, and report the size",
    run: async (args, io) => (await import('./bundle.js')).bundle(args, io),
  },
  template: {
    summary: 'print the deployment as a CloudFormation template (JSON)',
    run: async (args, io) => (await import('./template.js')).template(args, io),
  },
  graph: {
    summary: "draw the app's pipelines (Mermaid, Graphviz DOT or JSON)",
    run: async (args, io) => (await import('./graph.js')).graph(args, io),
  },
  deploy: {
    summary: 'create or update the deployment on AWS with the SDK (--dry-run shows the plan)',
    run: async (args, io) => (await import('./deploy.js')).deployCommand(args, io),
  },
  inspect: {
    summary: 'actors, state, messages, traces, dead letters, joins, timers, cost; pause and resume',
    run: async (args, io) => (await import('./inspect.js')).inspect(args, io),
  },
  ui: {
    summary: 'the web view (loopback only by default): actor graph, state, traces, dead letters, live',
    run: async (args, io) => (await import('./ui.js')).ui(args, io),
  },
}

/** Named in the design, not built yet: said so instead of "unknown command". */
const PLANNED: string[] = []

const USAGE = `Usage: troupe <command> [options]

Commands
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Options
  -h, --help       show this help; troupe <command> --help shows a command's
  -v, --version    print troupe's version
${PLANNED.length ? `\nNot built yet: ${PLANNED.map((p) => `troupe ${p}`).join(', ')}.\n` : ''}`

/** Runs `troupe <argv>`; resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [first, ...rest] = argv
  let command = 'troupe'
  try {
    if (first === undefined) {
      io.stderr.write(USAGE)
      return 2
    }
    if (first === '-h' || first === '--help') {
      io.stdout.write(USAGE)
      return 0
    }
    if (first === '-v' || first === '--version') {
      io.stdout.write(`${version()}\n`)
      return 0
    }
    if (first === 'help') {
      const [topic] = rest
      if (topic === undefined) {
        io.stdout.write(USAGE)
        return 0
      }
      return await main([topic, '--help'], io)
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first.split('=')[0]}`)
    const found = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
    if (!found) {
      if (PLANNED.includes(first)) throw new UsageError(`${first} is not built yet; the commands are: ${Object.keys(COMMANDS).join(', ')}`)
      throw new UsageError(`unknown command ${JSON.stringify(first)}; the commands are: ${Object.keys(COMMANDS).join(', ')}`)
    }
    command = `troupe ${first}`
    return await found.run(rest, io)
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    const hint = error instanceof UsageError ? ` (see ${command} --help)` : ''
    io.stderr.write(`${command}: ${error.message}${hint}\n`)
    return error.exitCode
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}
