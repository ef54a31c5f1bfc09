// Where `troupe inspect` and `troupe ui` read: a process serving inspection (--url) or the AWS
// mode's DynamoDB table (--table, local or real).
import { Option, type Command } from 'commander'
import { HttpInspector } from '../inspect/http-inspector.js'
import type { Inspector } from '../inspect/inspector.js'
import { UsageError } from './cli-error.js'

export interface SourceFlags {
  url?: string
  token?: string
  table?: string
  endpoint?: string
  kinesisEndpoint?: string
  region?: string
  stream?: string
}

export const SOURCE_HELP = `
Where it reads
  --url <url>        a process serving inspection (serveInspection, npm start -- --serve, troupe dev)
  --table <name>     the AWS mode's DynamoDB table, with --region, or --endpoint for a local one;
                     replay and resume put messages on the stream: add --stream (and --kinesis-endpoint)
`

/** Makes the inspector the flags name; one of --url and --table is needed. */
export async function openSource(flags: SourceFlags): Promise<Inspector> {
  if (flags.url !== undefined && flags.table !== undefined) throw new UsageError('give --url or --table, not both')
  if (flags.url !== undefined) return new HttpInspector(flags.url, flags.token ?? process.env.TROUPE_UI_TOKEN)
  if (flags.table === undefined) throw new UsageError('say what to inspect: --url <a process serving inspection> or --table <DynamoDB table>')
  const [{ DynamoDBClient }, { KinesisClient }, { TableInspector }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-kinesis'),
    import('../inspect/table-inspector.js'),
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
  const inspector = new TableInspector({ dynamodb, tableName: flags.table, ...(kinesis ? { kinesis, stream: flags.stream! } : {}) })
  const close = inspector.close.bind(inspector)
  inspector.close = async () => {
    await close()
    dynamodb.destroy()
    kinesis?.destroy()
  }
  return inspector
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

