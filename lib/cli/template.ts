// `troupe template`: the app's deployment as a CloudFormation template (JSON). Also the flags
// that describe a deployment, which `troupe deploy` shares.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { App } from '../app/define-app.js'
import { ConfigError } from '../core/errors.js'
import { STREAM_NAME } from '../routing/kinesis-limits.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES } from '../platform/lambda-runtime.js'
import { appStreams, DEFAULT_STREAM, s3PayloadBucket } from '../deploy/app-deployment.js'
import type { PayloadBucketSpec } from '../deploy/resources.js'
import type { StackOptions } from '../deploy/stack.js'
import { CliError, UsageError, withoutCode } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { DEFAULT_APP_HELP, defaultApp, loadApp } from './load-app.js'
import type { Io } from './io.js'

/** The flags that describe a deployment, as commander reads them (template and deploy). */
export interface StackFlags {
  app?: string
  name?: string
  table?: string
  function?: string
  stream?: string
  shards?: string
  memory?: string
  timeout?: string
  batchSize?: string
  batchWindow?: string
  retries?: string
  maxRecordAge?: string
  parallelization?: string
  arch?: string
  runtime?: string
  logRetention?: string
  /** False under --no-pitr. */
  pitr?: boolean
}

/** Adds the flags that describe a deployment to `cmd` (template and deploy). */
export function stackOptions(cmd: Command): Command {
  return cmd
    .option('--app <file>', `the app: a module whose default export is defineApp({ actors, … }); its streams (stream, router) are the deployment's ${DEFAULT_APP_HELP}`)
    .option('--name <name>', 'names the deployment: the tick rule <name>-tick, the role deploy makes (<name>-<region>), and the table and function unless given (default troupe)')
    .option('--table <name>', 'the DynamoDB table (default: --name)')
    .option('--function <name>', 'the Lambda function (default: --name)')
    .option('--stream <name>', "the default stream (default: the app's `stream`, else troupe)")
    .option('--shards <n>', 'shards of each stream (default 1)')
    .option('--memory <mb>', "the function's memory, 128 to 10240 (default 512)")
    .option('--timeout <s>', "the function's timeout, 1 to 900 (default 60)")
    .option('--batch-size <n>', 'records per batch, 1 to 10000 (default 100)')
    .option('--batch-window <s>', 'seconds a batch gathers records, 0 to 300 (default 1)')
    .option('--retries <n>', 'retries of a failed batch: -1 (until the records leave the stream, the default; the guarantee needs it) or 0 to 10000')
    .option('--max-record-age <s>', 'records older than this are skipped: -1 (never, the default) or 60 to 604800')
    .option('--parallelization <n>', 'batches of one shard at once: 1, which the guarantee needs (docs/guarantees.md)')
    .option('--arch <arch>', 'arm64 (cheaper) or x86_64 (default arm64)')
    .option('--runtime <name>', `the function's runtime: ${LAMBDA_RUNTIMES.join(' or ')} (default: the app's runtime, else ${DEFAULT_LAMBDA_RUNTIME}); the bundle is built for its Node`)
    .option('--log-retention <days>', 'days CloudWatch keeps the logs (default 30)')
    .option('--no-pitr', 'no point-in-time recovery for the table')
}

function templateCommand(io: Io): Command {
  return stackOptions(
    newCommand('troupe template', io).description(
      "Prints the app's deployment as a CloudFormation template (JSON): its Kinesis streams, the DynamoDB table " +
        '(TTL on ttl, point-in-time recovery), the host function, an event source mapping per stream ' +
        '(ReportBatchItemFailures, one batch of a shard at a time, retries until a record is done, no age limit), ' +
        'a rule that ticks the function every minute, and a role that may touch exactly those resources.',
    ),
  )
    .option('--code-s3 <bucket/key>', 'where the zipped bundle is in S3 (s3://bucket/key works too)')
    .option('--code-path <zip>', 'a local zip, for `aws cloudformation package` to upload (without either: the parameters CodeS3Bucket and CodeS3Key)')
    .option('--out <file>', 'write the template there instead of to stdout')
    .option('--json', 'stdout is JSON only: the template on one line, or with --out {"file", "resources", "parameters"}')
    .addHelpText(
      'after',
      `
Deploy it with the AWS CLI (the role's name is generated, hence CAPABILITY_IAM):
  troupe bundle --app troupe.app.ts
  troupe template --app troupe.app.ts --code-path .troupe/build/lambda.zip --out troupe.template.json
  aws cloudformation package --template-file troupe.template.json --s3-bucket <bucket> --output-template-file packaged.json
  aws cloudformation deploy --template-file packaged.json --stack-name troupe --capabilities CAPABILITY_IAM

Exit code: 0 when the template was made, 2 on bad options or an app that is missing or is
not an app, 1 when the app fails to load.
`,
    )
}

const FIELD_FLAGS: Record<string, string> = {
  name: '--name',
  tableName: '--table',
  functionName: '--function',
  memoryMb: '--memory',
  timeoutS: '--timeout',
  batchSize: '--batch-size',
  maximumBatchingWindowInSeconds: '--batch-window',
  maximumRetryAttempts: '--retries',
  maximumRecordAgeInSeconds: '--max-record-age',
  parallelizationFactor: '--parallelization',
  architecture: '--arch',
  runtime: '--runtime',
  logRetentionDays: '--log-retention',
}

/**
 * Reads the deployment flags. The app (its streams) is loaded when `appRequired`, or when --app is
 * given; without one (deploy --entry) the deployment has one stream, --stream or troupe.
 */
export async function stackFromFlags(values: StackFlags, options: { appRequired: boolean }): Promise<{ stack: StackOptions; appFile: string | undefined; app: App | undefined }> {
  const name = values.name ?? 'troupe'
  let appFile: string | undefined
  let app: App | undefined
  /** The app's path as the user gave it, or the default found: what messages name. */
  let given: string | undefined
  if (options.appRequired || values.app !== undefined) {
    if (values.app === '') throw new UsageError('--app needs a value')
    given = values.app ?? defaultApp()
    appFile = resolve(given)
    app = await loadApp(appFile, { given })
  }
  if (values.stream !== undefined && !STREAM_NAME.test(values.stream)) {
    throw new UsageError(`--stream must be a Kinesis stream name (1–128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(values.stream)}`)
  }
  if (app?.stream !== undefined && values.stream === undefined && !STREAM_NAME.test(app.stream)) {
    throw new CliError(`${given}: stream must be a Kinesis stream name (1–128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(app.stream)}`, 2)
  }
  const defaultStream = values.stream ?? app?.stream ?? DEFAULT_STREAM
  let streams = [defaultStream]
  if (app) {
    try {
      streams = appStreams(app, defaultStream)
    } catch (error) {
      throw new CliError(`${given}: ${(error as Error).message}`, 2, { cause: error })
    }
  }
  const shards = whole('--shards', values.shards) ?? 1
  const stack: StackOptions = {
    name,
    streams: streams.map((s) => ({ name: s, shards })),
    tableName: values.table ?? name,
    functionName: values.function ?? name,
  }
  const set = <K extends keyof StackOptions>(key: K, value: StackOptions[K] | undefined) => {
    if (value !== undefined) stack[key] = value
  }
  set('memoryMb', whole('--memory', values.memory))
  set('timeoutS', whole('--timeout', values.timeout))
  set('batchSize', whole('--batch-size', values.batchSize))
  set('maximumBatchingWindowInSeconds', whole('--batch-window', values.batchWindow))
  set('maximumRetryAttempts', whole('--retries', values.retries))
  set('maximumRecordAgeInSeconds', whole('--max-record-age', values.maxRecordAge))
  set('parallelizationFactor', whole('--parallelization', values.parallelization))
  set('logRetentionDays', whole('--log-retention', values.logRetention))
  if (values.arch !== undefined) {
    if (values.arch !== 'arm64' && values.arch !== 'x86_64') throw new UsageError(`--arch must be arm64 or x86_64, got ${JSON.stringify(values.arch)}`)
    stack.architecture = values.arch
  }
  if (values.runtime !== undefined) {
    if (!isLambdaRuntime(values.runtime)) throw new UsageError(`--runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(values.runtime)}`)
    stack.runtime = values.runtime
  } else if (app?.runtime !== undefined) {
    stack.runtime = app.runtime
  }
  if (values.pitr === false) stack.pointInTimeRecovery = false
  return { stack, appFile, app }
}

/** A ConfigError from the deployment's options, said in flags. */
export function flagError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error
  let message = withoutCode(error.message)
  for (const [field, flag] of Object.entries(FIELD_FLAGS)) message = message.replace(`StackOptions.${field} `, `${flag} `)
  message = message.replace(/StackOptions\.streams\[\d+\]\.shards /, '--shards ').replace(/StackOptions\.streams\[\d+\]\.name /, 'the stream name ')
  throw new UsageError(message, { cause: error })
}

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** Runs `troupe template <args>`; resolves to the exit code, or throws a CliError. */
export async function template(args: readonly string[], io: Io): Promise<number> {
  const program = templateCommand(io)
  const helped = await parseCommand(program, args)
  if (helped !== undefined) return helped
  const values = program.opts<StackFlags & { codeS3?: string; codePath?: string; out?: string; json?: boolean }>()
  if (values.codeS3 !== undefined && values.codePath !== undefined) throw new UsageError('give --code-s3 or --code-path, not both')
  if (values.out === '') throw new UsageError('--out needs a value')
  const codeS3 = values.codeS3 === undefined ? undefined : parseS3(values.codeS3)
  if (values.codePath === '') throw new UsageError('--code-path needs a value')
  const { stack, app } = await stackFromFlags(values, { appRequired: true })
  const { buildTemplate } = await import('../deploy/template.js')
  const payloadBucket = await s3PayloadBucket(app)
  let built
  try {
    built = buildTemplate({
      ...stack,
      ...(codeS3 ? { codeS3 } : {}),
      ...(values.codePath !== undefined ? { codePath: values.codePath } : {}),
      ...(payloadBucket ? { payloadBucket } : {}),
    })
  } catch (error) {
    flagError(error)
  }
  const resources = Object.fromEntries(Object.entries(built.Resources).map(([id, r]) => [id, r.Type]))
  const parameters = Object.keys(built.Parameters ?? {})
  if (values.out === undefined) {
    io.stdout.write(values.json ? `${JSON.stringify(built)}\n` : `${JSON.stringify(built, null, 2)}\n`)
    if (!values.json) io.stderr.write(summary(stack, Object.keys(resources).length, parameters, payloadBucket))
    return 0
  }
  const file = resolve(values.out)
  try {
    writeFileSync(file, `${JSON.stringify(built, null, 2)}\n`)
  } catch (error) {
    throw new CliError(`could not write ${values.out}: ${(error as Error).message}`, 1, { cause: error })
  }
  if (values.json) io.stdout.write(`${JSON.stringify({ file, resources, parameters })}\n`)
  else io.stdout.write(`troupe template: wrote ${values.out}\n${summary(stack, Object.keys(resources).length, parameters, payloadBucket)}`)
  return 0
}

function summary(stack: StackOptions, resources: number, parameters: string[], payloads: PayloadBucketSpec | undefined): string {
  const streams = stack.streams.map((s) => `${s.name} (${s.shards} shard${s.shards === 1 ? '' : 's'})`).join(', ')
  const bucket = payloads ? `, payload bucket ${payloads.bucket} (expires ${payloads.prefix}* after ${payloads.expireAfterDays} days)` : ''
  return (
    `troupe template: ${resources} resources: streams ${streams}, table ${stack.tableName}, function ${stack.functionName}${bucket}\n` +
    (parameters.length ? `troupe template: the code's location is the parameters ${parameters.join(' and ')} (or give --code-s3 / --code-path)\n` : '') +
    'troupe template: deploy with aws cloudformation deploy … --capabilities CAPABILITY_IAM\n'
  )
}

function parseS3(text: string): { bucket: string; key: string } {
  const match = /^(?:s3:\/\/)?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(text)
  if (!match) throw new UsageError(`--code-s3 must be <bucket>/<key> (or s3://<bucket>/<key>), got ${JSON.stringify(text)}`)
  return { bucket: match[1]!, key: match[2]! }
}
