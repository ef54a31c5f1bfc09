// The `troupe` command: dispatches to a subcommand, each of which reads its own flags with
// commander (command.ts). bin/troupe.js registers tsx and calls main().
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { missingPackage } from '../core/optional-peer.js'
import { CliError, UsageError } from './cli-error.js'
import type { Io } from './io.js'
import { nearest } from './nearest.js'

export type { Io } from './io.js'

interface Command {
  summary: string
  /** The optional peers of troupe the command cannot start without, for its arguments (README: "Use troupe in your project"). */
  peers: readonly string[] | ((args: readonly string[]) => readonly string[])
  run(args: readonly string[], io: Io): Promise<number>
}

/** What loading an app needs: defineApp comes from troupe/aws, which imports these. */
const APP_PEERS = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis', '@smithy/node-http-handler']

/** Whether `arg` is `flag`, as `--flag` or `--flag=value`. */
const isFlag = (arg: string, flag: string) => arg === flag || arg.startsWith(`${flag}=`)

/** The value of `flag` in `args` (`--flag value` or `--flag=value`), or undefined. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.findIndex((a) => isFlag(a, flag))
  if (at < 0) return undefined
  return args[at]!.startsWith(`${flag}=`) ? args[at]!.slice(flag.length + 1) : args[at + 1]
}

/**
 * What `troupe dev` needs: the local servers (the Kinesis one `--kinesis` names), and esbuild to
 * bundle the app unless it runs with `--host process`.
 */
export function devPeers(args: readonly string[]): readonly string[] {
  const kinesis = flagValue(args, '--kinesis') === 'kinesis-local' ? 'kinesis-local' : 'kinesalite'
  return [...APP_PEERS, '@aws-sdk/client-lambda', 'dynalite', kinesis, ...(flagValue(args, '--host') === 'process' ? [] : ['esbuild'])]
}

/**
 * What `troupe inspect` and `troupe ui` need to read a table (`--table`): its DynamoDB client and
 * the Kinesis one, and the HTTP handler for a local Kinesis (`--kinesis-endpoint`). CloudWatch's
 * client says so itself when asked for, with `--metrics none` as the other way.
 */
export function tablePeers(args: readonly string[]): readonly string[] {
  if (!args.some((a) => isFlag(a, '--table'))) return []
  const localKinesis = args.some((a) => isFlag(a, '--kinesis-endpoint'))
  return ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis', ...(localKinesis ? ['@smithy/node-http-handler'] : [])]
}

const COMMANDS: Record<string, Command> = {
  dev: {
    summary: "run an app's actors on a local Kinesis and DynamoDB (no Docker, no account)",
    peers: devPeers,
    run: async (args, io) => (await import('./dev.js')).dev(args, io),
  },
  bundle: {
    summary: "bundle the app's actors and the Lambda host, zipped, and report the size",
    peers: [...APP_PEERS, 'esbuild'],
    run: async (args, io) => (await import('./bundle.js')).bundle(args, io),
  },
  template: {
    summary: 'print the deployment as a CloudFormation template (JSON)',
    peers: APP_PEERS,
    run: async (args, io) => (await import('./template.js')).template(args, io),
  },
  graph: {
    summary: "draw the app's pipelines (Mermaid, Graphviz DOT or JSON)",
    peers: APP_PEERS,
    run: async (args, io) => (await import('./graph.js')).graph(args, io),
  },
  deploy: {
    summary: 'create or update the deployment on AWS with the SDK (--dry-run shows the plan)',
    peers: [...APP_PEERS, '@aws-sdk/client-lambda', '@aws-sdk/client-iam', '@aws-sdk/client-eventbridge', 'esbuild'],
    run: async (args, io) => (await import('./deploy.js')).deployCommand(args, io),
  },
  inspect: {
    summary: 'actors, state, messages, traces, dead letters, joins, timers, cost; pause and resume',
    peers: tablePeers,
    run: async (args, io) => (await import('./inspect.js')).inspect(args, io),
  },
  ui: {
    summary: 'the web view (loopback only by default): actor graph, state, traces, dead letters, live',
    peers: tablePeers,
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
    if (first.startsWith('-')) {
      const option = first.split('=')[0]!
      const near = nearest(option, ['--help', '--version'])
      throw new UsageError(`unknown option ${option}${near ? `; did you mean ${near}?` : ''}`)
    }
    const found = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
    if (!found) {
      const names = Object.keys(COMMANDS)
      if (PLANNED.includes(first)) throw new UsageError(`${first} is not built yet; the commands are: ${names.join(', ')}`)
      const near = nearest(first, names)
      throw new UsageError(`unknown command ${JSON.stringify(first)}; ${near ? `did you mean ${near}?` : `the commands are: ${names.join(', ')}`}`)
    }
    command = `troupe ${first}`
    if (!rest.includes('-h') && !rest.includes('--help')) {
      const missing = (typeof found.peers === 'function' ? found.peers(rest) : found.peers).filter((p) => !installed(p))
      if (missing.length !== 0) {
        io.stderr.write(`${command}: needs ${missing.length === 1 ? 'the npm package' : 'npm packages'} ${missing.join(', ')}, not installed: npm install -D ${missing.join(' ')}\n`)
        return 2
      }
    }
    return await found.run(rest, io)
  } catch (error) {
    // A peer loaded on the way (esbuild for the Lambda host, say), or one the app itself imports.
    const missing = error instanceof CliError ? undefined : missingPackage(error)
    if (missing !== undefined) {
      io.stderr.write(`${command}: needs the npm package ${missing}, which is not installed: npm install ${missing}\n`)
      return 2
    }
    if (!(error instanceof CliError)) throw error
    const hint = error instanceof UsageError ? ` (see ${command} --help)` : ''
    io.stderr.write(`${command}: ${error.message}${hint}\n`)
    return error.exitCode
  }
}

/**
 * troupe's version, from its package.json: the first one named troupe above this module, which
 * runs from lib/cli/ (TypeScript) or from dist/lib/cli/ (compiled), at different depths.
 */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = readPackage(join(dir, 'package.json'))
    if (pkg?.name === 'troupe' && typeof pkg.version === 'string') return pkg.version
    const parent = dirname(dir)
    if (parent === dir) throw new CliError(`no package.json of troupe above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

function readPackage(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown }
  } catch {
    return undefined // none here, or not JSON: look further up
  }
}

/** Whether `pkg` resolves from troupe, as its own imports of it would. */
function installed(pkg: string): boolean {
  try {
    import.meta.resolve(pkg)
    return true
  } catch {
    return false
  }
}
