// `troupe deploy`: bundles the app and creates or updates its deployment with the AWS SDK
// (lib/deploy/deploy.ts), printing each step on stderr as it goes; `--dry-run` only reads.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import type { Command } from 'commander'
import { ConfigError } from '../core/errors.js'
import { s3PayloadBucket } from '../deploy/app-deployment.js'
import type { DeployProgress, DeployReport } from '../deploy/deploy.js'
import { resolveStack, type Stack } from '../deploy/stack.js'
import { bundleFromFlags } from './bundle.js'
import { CliError, UsageError, withoutCode } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import type { Io } from './io.js'
import { flagError, stackFromFlags, stackOptions, type StackFlags } from './template.js'

interface DeployFlags extends StackFlags {
  entry?: string
  zip?: string
  outDir?: string
  credentialChain?: boolean
  region?: string
  dryRun?: boolean
  json?: boolean
}

function deployProgram(io: Io): Command {
  return stackOptions(
    newCommand('troupe deploy', io).description(
      'Bundles the app and creates or updates its deployment in one region with the AWS SDK: the Kinesis streams, ' +
        'the DynamoDB table (TTL, point-in-time recovery), a role for the function that may touch exactly those (named <name>-<region>), ' +
        'the function, an event source mapping per stream (ReportBatchItemFailures, one batch of a shard at a time, retries until a record is done), ' +
        'and a rule that ticks the function every minute. Each resource is read first and changed only where it differs, ' +
        'so a second run with the same app and options changes nothing. Progress goes to stderr. ' +
        'The same resources as `troupe template`, without CloudFormation.',
    ),
  )
    .option('--entry <file>', 'bundle this module (it exports `handler`) instead of the app; without --app the deployment has one stream (--stream, default troupe)')
    .option('--zip <file>', 'deploy this package as it is (a lambda.zip from troupe bundle)')
    .option('--out-dir <folder>', 'where the bundle is made (default .troupe/build)')
    .option('--credential-chain', "bundle the SDK's whole credential chain (see troupe bundle --help)")
    .option('--region <region>', "the region (default: AWS_REGION, or the region of AWS_PROFILE's profile)")
    .option('--dry-run', 'read only, and print what would be created or updated (it reads the account: it needs credentials too)')
    .option('--json', 'print the final report as JSON on stdout')
    .addHelpText(
      'after',
      `
Region and credentials come from the usual places; both are checked before bundling:
  region       --region, AWS_REGION, or the region of the profile AWS_PROFILE names
  credentials  AWS_PROFILE (a profile in ~/.aws/config; for SSO, aws sso login --profile <p>
               first), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
AWS_ENDPOINT_URL_<SERVICE> points a service elsewhere.

Exit code: 0 when the deployment is as asked (or, under --dry-run, when the plan was made),
1 when AWS refused or failed a step (the message says which), 2 on bad options, no region,
no credentials, or an app that is missing or is not an app.
`,
    )
}

export async function deployCommand(args: readonly string[], io: Io): Promise<number> {
  const program = deployProgram(io)
  const helped = await parseCommand(program, args)
  if (helped !== undefined) return helped
  const values = program.opts<DeployFlags>()
  const dryRun = values.dryRun === true
  const note = (line: string) => io.stderr.write(`troupe deploy: ${line}\n`)
  if (values.zip !== undefined && values.entry !== undefined) throw new UsageError('give --zip or --entry, not both')
  if (values.zip === '') throw new UsageError('--zip needs a value')
  if (values.region === '') throw new UsageError('--region needs a value')

  const { stack: options, appFile, app } = await stackFromFlags(values, { appRequired: values.entry === undefined })
  const payloadBucket = await s3PayloadBucket(app)
  if (payloadBucket) {
    throw new UsageError(`the app keeps its payloads in S3 (bucket ${payloadBucket.bucket}), which troupe deploy does not make or grant yet: deploy it with troupe template`)
  }
  let stack: Stack
  try {
    stack = resolveStack(options)
  } catch (error) {
    flagError(error)
  }

  let zip: Uint8Array | undefined
  if (values.zip !== undefined) {
    try {
      zip = readFileSync(values.zip)
    } catch (error) {
      throw new UsageError(`cannot read --zip ${values.zip}: ${(error as Error).message}`, { cause: error })
    }
  }

  // Before bundling (seconds of work): no region or no credentials is said at once. A dry run
  // reads the account to compare, so it needs both as well.
  const clients = await makeClients(values.region)
  try {
    if (zip === undefined) {
      const built = await bundleFromFlags({
        ...(values.entry !== undefined ? { entry: values.entry } : { app: appFile }),
        outDir: values.outDir,
        credentialChain: values.credentialChain,
        runtime: stack.runtime,
      })
      note(`bundled ${relative(process.cwd(), built.outfile)} (${kib(built.bytes)}, zipped ${kib(built.zipBytes)})`)
      zip = readFileSync(built.zipfile)
    }
    const { deploy } = await import('../deploy/deploy.js')
    let report: DeployReport
    const started = Date.now()
    try {
      report = await deploy({ stack, zip }, clients, { dryRun, onProgress: (p) => note(progressLine(p)) })
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(withoutCode(error.message), 2, { cause: error })
      throw new CliError(messageOf(error), 1, { cause: error })
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    if (values.json) {
      io.stdout.write(`${JSON.stringify(report)}\n`)
    } else {
      io.stdout.write(formatReport(report, seconds))
    }
    return 0
  } finally {
    for (const client of Object.values(clients)) client.destroy()
  }
}

async function makeClients(region: string | undefined) {
  const [{ DynamoDBClient }, { KinesisClient }, { IAMClient }, { LambdaClient }, { EventBridgeClient }, { NodeHttpHandler }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-kinesis'),
    import('@aws-sdk/client-iam'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-eventbridge'),
    import('@smithy/node-http-handler'),
  ])
  const common = region ? { region } : {}
  const clients = {
    // HTTP/1.1 for Kinesis, as the host uses: its default HTTP/2 handler is refused by local endpoints.
    kinesis: new KinesisClient({ ...common, requestHandler: new NodeHttpHandler() }),
    dynamodb: new DynamoDBClient(common),
    iam: new IAMClient(common),
    lambda: new LambdaClient(common),
    eventbridge: new EventBridgeClient(common),
  }
  const destroy = () => {
    for (const client of Object.values(clients)) client.destroy()
  }
  try {
    await clients.lambda.config.region()
  } catch (error) {
    destroy()
    throw new UsageError('no AWS region: pass --region or set AWS_REGION (or AWS_PROFILE, naming a profile that has a region)', { cause: error })
  }
  // The SDK's own default chain (environment, profile, SSO, process, container, instance
  // metadata), as every request would resolve it: one answer for all the clients.
  try {
    await clients.iam.config.credentials()
  } catch (error) {
    destroy()
    throw new CliError(noCredentials(error), 2, { cause: error })
  }
  return clients
}

/** Says how to give credentials; the SDK's reason only when it says more than "none found". */
function noCredentials(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error)
  const said = /could not load credentials from any providers/i.test(reason) ? '' : ` (${reason})`
  const profile = process.env.AWS_PROFILE
  const how = profile
    ? `the profile ${profile} (AWS_PROFILE) gave none: check it in ~/.aws/config, and for an SSO profile run aws sso login --profile ${profile}; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`
    : 'set AWS_PROFILE to a profile in ~/.aws/config (for an SSO profile, run aws sso login --profile <profile> first), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
  return `no AWS credentials${said}: ${how}`
}

const LABELS: Record<DeployProgress['resource'], string> = {
  stream: 'stream',
  table: 'table',
  'table-ttl': 'table TTL',
  'table-pitr': 'table backups',
  role: 'role',
  'role-policy': 'role policy',
  function: 'function',
  'function-code': 'function code',
  'function-config': 'function configuration',
  'event-source-mapping': 'mapping',
  'tick-rule': 'tick rule',
  'tick-permission': 'tick permission',
  'tick-target': 'tick target',
}

export function progressLine(p: DeployProgress): string {
  const what = `${LABELS[p.resource]} ${p.name}`
  const detail = p.detail ? ` (${p.detail})` : ''
  if (!p.done) return `${what}: ${p.action === 'create' ? 'creating' : 'updating'}${detail}…`
  switch (p.action) {
    case 'create':
      return `${what}: ${p.dryRun ? 'would create' : 'created'}${detail}`
    case 'update':
      return `${what}: ${p.dryRun ? 'would update' : 'updated'}${detail}`
    case 'skipped':
      return `${what}: skipped${detail}`
    default:
      return `${what}: unchanged${detail}`
  }
}

function formatReport(report: DeployReport, seconds: string): string {
  const changes = `${report.changes} change${report.changes === 1 ? '' : 's'}`
  const head = report.dryRun
    ? `troupe deploy: dry run in ${report.region}: ${changes} to make; nothing was changed\n`
    : `troupe deploy: ${report.changes === 0 ? 'up to date' : `${changes} made`} in ${report.region} (${seconds} s)\n`
  return (
    head +
    `  function   ${report.functionArn}\n` +
    `  role       ${report.roleArn}\n` +
    `  tick rule  ${report.tickRuleArn}\n` +
    `  streams    ${report.stack.streams.map((s) => s.name).join(', ')}; table ${report.stack.tableName}\n`
  )
}

/** The error's message without troupe's `[TROUPE_…]` code. */
function messageOf(error: unknown): string {
  return withoutCode(error instanceof Error ? error.message : String(error))
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`
}
