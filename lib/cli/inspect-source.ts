// Where `troupe inspect` and `troupe ui` read: a process serving inspection (--url), the AWS
// mode's DynamoDB table (--table, local or real), or, given neither, the `troupe dev` running
// in this folder, found through the dev.json it writes. Over a table, the counts, traffic and
// cost come from the metrics the Lambda hosts wrote, read from CloudWatch.
import { join, relative, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { TroupeError } from '../core/errors.js'
import { loadPeer, MissingPeerError } from '../core/optional-peer.js'
import { HttpInspector } from '../inspect/http-inspector.js'
import type { Inspector } from '../inspect/inspector.js'
import { CliError, UsageError } from './cli-error.js'
import { DEV_DIR, DEV_FILE, isAlive, readDevFile } from './dev-file.js'

export interface SourceFlags {
  url?: string
  token?: string
  table?: string
  endpoint?: string
  kinesisEndpoint?: string
  region?: string
  stream?: string
  metrics?: 'cloudwatch' | 'none'
  cloudwatchEndpoint?: string
  service?: string
  dir?: string
}

export const SOURCE_HELP = `
Where it reads
  --url <url>        a process serving inspection: troupe dev, or an app calling serveInspection
                     from troupe/inspect (in troupe's repository, npm start -- --inspect)
  --table <name>     the AWS mode's DynamoDB table, with --region, or --endpoint for a local one;
                     replay and resume put messages on the stream: add --stream (and --kinesis-endpoint);
                     the counts, traffic and cost are the metrics the Lambda hosts wrote, summed from
                     CloudWatch over the last 24 hours (--metrics cloudwatch, the default with
                     --region; --metrics none, the default with --endpoint unless
                     --cloudwatch-endpoint is given; --service when the hosts' Service dimension is
                     not the table name)
  neither            the troupe dev running in this folder, found through the ${DEV_DIR}/${DEV_FILE} it
                     writes (--dir <folder> for one started with troupe dev --dir <folder>)
`

/** How long the inspection URL a dev.json names may take to answer before it counts as gone. */
const ANSWER_TIMEOUT_MS = 3_000

/** Makes the inspector the flags name: --url, --table, or the troupe dev running here. */
export async function openSource(flags: SourceFlags): Promise<Inspector> {
  if (flags.url !== undefined && flags.table !== undefined) throw new UsageError('give --url or --table, not both')
  if (flags.url !== undefined) {
    // A flag's value the command cannot use is a usage error (exit 2), as a bad flag is.
    if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol)) throw new UsageError(`--url must be the http:// address the process serves inspection on, got ${JSON.stringify(flags.url)}`)
    return new HttpInspector(flags.url, flags.token ?? process.env.TROUPE_UI_TOKEN)
  }
  if (flags.table === undefined) return new HttpInspector(await runningDev(flags.dir), flags.token ?? process.env.TROUPE_UI_TOKEN)
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(flags.table)) throw new UsageError(`--table must be a DynamoDB table's name (3 to 255 of A-Z, a-z, 0-9, '_', '-' and '.'), got ${JSON.stringify(flags.table)}`)
  const [{ DynamoDBClient }, { KinesisClient }, { TableInspector }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-kinesis'),
    import('../aws/table-inspector.js'),
  ])
  const local = flags.endpoint !== undefined
  const common = {
    region: flags.region ?? process.env.AWS_REGION ?? (local ? 'us-east-1' : undefined),
    ...(local && process.env.AWS_ACCESS_KEY_ID === undefined ? { credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } } : {}),
  }
  if (common.region === undefined) throw new UsageError('--table needs --region (or AWS_REGION), or --endpoint for a local table')
  const dynamodb = new DynamoDBClient({ ...common, ...(local ? { endpoint: flags.endpoint } : {}) })
  const kinesisEndpoint = flags.kinesisEndpoint
  // A local Kinesis speaks HTTP/1.1: the SDK's default HTTP/2 handler fails against it.
  const kinesis =
    flags.stream !== undefined
      ? new KinesisClient({ ...common, ...(kinesisEndpoint ? { endpoint: kinesisEndpoint, requestHandler: new (await import('@smithy/node-http-handler')).NodeHttpHandler() } : {}) })
      : undefined
  // The counts are not in the table: the hosts wrote them as metrics, which CloudWatch keeps.
  const readMetrics = flags.metrics ?? (local && flags.cloudwatchEndpoint === undefined ? 'none' : 'cloudwatch')
  if (readMetrics === 'cloudwatch' && local && flags.cloudwatchEndpoint === undefined) {
    throw new UsageError('--metrics cloudwatch over a local table (--endpoint) needs --cloudwatch-endpoint, the local CloudWatch to read')
  }
  const cloudwatch =
    readMetrics === 'cloudwatch'
      ? new (await cloudWatchSdk()).CloudWatch({ ...common, ...(flags.cloudwatchEndpoint !== undefined ? { endpoint: flags.cloudwatchEndpoint } : {}) })
      : undefined
  const metrics = cloudwatch && new (await import('../metrics/cloudwatch-metrics.js')).CloudWatchMetrics({ cloudwatch, service: flags.service ?? flags.table })
  const inspector = new TableInspector({ dynamodb, tableName: flags.table, ...(kinesis ? { kinesis, stream: flags.stream! } : {}), ...(metrics ? { metrics } : {}) })
  const close = inspector.close.bind(inspector)
  inspector.close = async () => {
    await close()
    dynamodb.destroy()
    kinesis?.destroy()
    cloudwatch?.destroy()
  }
  return inspector
}

/** Node's codes for a server that cannot be reached: nothing listens, no such host, no route, no answer. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * A table (`--table`) whose server cannot be reached, said as an unreachable `--url` is
 * (TROUPE_INSPECT_UNREACHABLE, one line), or undefined for any other failure. The SDK hands on
 * Node's socket error as it is, after its retries.
 */
export function unreachableTable(flags: SourceFlags, error: unknown): TroupeError | undefined {
  if (flags.table === undefined) return undefined
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code
    if (typeof code === 'string' && UNREACHABLE.has(code)) {
      return new TroupeError('TROUPE_INSPECT_UNREACHABLE', `nothing answers for --table ${flags.table} (${e.message}); is the server it names running (--endpoint, --kinesis-endpoint, --region)?`, { cause: error })
    }
  }
  return undefined
}

/** The CloudWatch client package, an optional peer: only reading CloudWatch needs it. */
async function cloudWatchSdk(): Promise<typeof import('@aws-sdk/client-cloudwatch')> {
  try {
    return await loadPeer('@aws-sdk/client-cloudwatch', 'reading the counts, traffic and cost from CloudWatch', () => import('@aws-sdk/client-cloudwatch'))
  } catch (error) {
    if (error instanceof MissingPeerError) throw new CliError(`${error.message} (or pass --metrics none)`, 2, { cause: error })
    throw error
  }
}

/** The flags that say where to read, on a command. */
export const sourceOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--url <url>', 'a process serving inspection'))
    .addOption(new Option('--token <token>', 'the inspection token (actions; servers beyond loopback)').env('TROUPE_UI_TOKEN'))
    .addOption(new Option('--table <name>', 'the DynamoDB table of the AWS mode'))
    .addOption(new Option('--endpoint <url>', 'DynamoDB endpoint (a local table)'))
    .addOption(new Option('--kinesis-endpoint <url>', 'Kinesis endpoint (a local stream)'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--stream <name>', 'the Kinesis stream (for replay and resume over a table)'))
    .addOption(
      new Option('--metrics <source>', 'over a table, where the counts, traffic and cost come from (default: cloudwatch with --region, none with --endpoint)').choices(['cloudwatch', 'none']),
    )
    .addOption(new Option('--cloudwatch-endpoint <url>', 'CloudWatch endpoint (a local CloudWatch; implies --metrics cloudwatch)'))
    .addOption(new Option('--service <name>', 'the Service dimension of the metrics (default: the table name)'))
    .addOption(new Option('--dir <folder>', `without --url or --table: the project folder of the troupe dev to read (default ${DEV_DIR})`))

/**
 * The inspection URL of the troupe dev whose project folder is `dir`, from its dev.json: only
 * if its process is alive and the URL answers (a file left by a forced exit names neither).
 */
async function runningDev(dir: string | undefined): Promise<string> {
  if (dir === '') throw new UsageError('--dir needs a value')
  const file = join(resolve(dir ?? DEV_DIR), DEV_FILE)
  const shown = relative(process.cwd(), file) || file
  const start = dir === undefined ? 'start troupe dev in this folder' : `start troupe dev --dir ${dir}`
  const how = `${start}, or pass --url <a process serving inspection> or --table <DynamoDB table>`
  const dev = readDevFile(file)
  if (!dev) throw new UsageError(`say what to inspect: no troupe dev runs here (no ${shown}); ${how}`)
  if (!isAlive(dev.pid)) throw new UsageError(`say what to inspect: the troupe dev that wrote ${shown} (pid ${dev.pid}) is gone; ${how}`)
  const url = dev.event !== undefined ? dev.inspect?.url : undefined
  if (url === undefined) throw new UsageError(`the troupe dev of ${shown} (pid ${dev.pid}) is starting and does not serve inspection yet: try again once it prints Inspect, or pass --url or --table`)
  if (!(await answers(url))) throw new UsageError(`say what to inspect: ${shown} names ${url}, where nothing answers (pid ${dev.pid} is another process now?); ${how}`)
  return url
}

/** Whether an inspection server answers at `url` (any HTTP answer will do). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/api/session', url), { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) })
    await res.body?.cancel()
    return true
  } catch {
    return false
  }
}

