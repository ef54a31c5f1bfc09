// A local Lambda function's configuration: its options, checked, with their defaults, and the
// environment variables its execution environments get, as a Lambda's do (AWS-SEMANTICS.md §6):
// fake credentials, the region, the runtime, and the endpoints of the local stack; and, per
// version of the code (`codeSpec`: the first bundle's, and each `deploy()`'s), the variables
// that name the code and its version (_HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_VERSION).
import { basename, dirname, resolve } from 'node:path'
import { ConfigError } from '../core/errors.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES, nodeMajor, type LambdaRuntime } from '../platform/lambda-runtime.js'
import { childPath, type EnvironmentSpec } from './execution-environment.js'

export interface LocalFunctionOptions {
  /** The bundled handler (what `bundleHandler` wrote). */
  bundle: string
  /**
   * The version `bundle` runs as: AWS_LAMBDA_FUNCTION_VERSION, the context's functionVersion and
   * the executed version of its invocations. `deploy()` publishes later code as other versions.
   * @default '$LATEST' (an unpublished function)
   */
  version?: string
  /** Draws which version takes an invocation while a deploy weighs two (`deploy(…, { weight })`). @default Math.random */
  random?: () => number
  /** The export that is the handler. @default 'handler' */
  handlerExport?: string
  /** @default 'troupe-host' */
  name?: string
  /**
   * The Lambda runtime: the environments run on its Node (found or installed by `runtimeNode`:
   * TROUPE_LAMBDA_NODE_24 names a binary), and AWS_EXECUTION_ENV names it. Bundle for the same
   * runtime. @default 'nodejs24.x'
   */
  runtime?: LambdaRuntime
  /** The function timeout, for invocations that give none. Lambda's default is 3 s. @default 30_000 */
  timeoutMs?: number
  /** Reported to the handler, and bounds the V8 heap as Lambda's runtime does. @default 512 */
  memoryMb?: number
  /** @default 'us-east-1' */
  region?: string
  /** The local stack: its endpoints become AWS_ENDPOINT_URL_KINESIS and AWS_ENDPOINT_URL_DYNAMODB. */
  stack?: { kinesisEndpoint: string; dynamodbEndpoint: string }
  /** TROUPE_TABLE */
  table?: string
  /** TROUPE_STREAM */
  stream?: string
  /** More environment variables (they may override the ones above, not the reserved ones). */
  environment?: Record<string, string>
  /** Environments alive at once. @default 10 */
  maxConcurrency?: number
  /** How long module init may take. Lambda allows 10 s on demand. @default 10_000 */
  initTimeoutMs?: number
  /**
   * Where the environments' stdout and stderr lines go (Lambda sends them to CloudWatch Logs).
   * @default written to this process's stderr, prefixed with the function and environment
   */
  onLog?: (line: string, source: LogSource) => void
}

/** Where an environment's output line came from. */
export interface LogSource {
  environment: number
  stream: 'stdout' | 'stderr'
  /** The function version the environment runs. */
  version: string
}

/** The options checked, with their defaults, and what follows from them. */
export interface FunctionSettings extends EnvironmentSpec {
  name: string
  region: string
  arn: string
  /** The function timeout, for invocations that give none. */
  timeoutMs: number
  runtime: LambdaRuntime
  maxConcurrency: number
  random: () => number
  /** The spec of the environments of `bundle` published as `version` (the first is this one's own). */
  codeSpec: (bundle: string, version: string) => EnvironmentSpec
}

/** Checks the options (a ConfigError names the first one that is wrong) and fills in the defaults. */
export function functionSettings(options: LocalFunctionOptions): FunctionSettings {
  const bundle = resolve(options.bundle)
  const handlerExport = options.handlerExport ?? 'handler'
  const name = options.name ?? 'troupe-host'
  const region = options.region ?? 'us-east-1'
  const arn = `arn:aws:lambda:${region}:000000000000:function:${name}`
  const timeoutMs = options.timeoutMs ?? 30_000
  const runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME
  if (!isLambdaRuntime(runtime)) throw new ConfigError(`LocalFunction runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${JSON.stringify(runtime)}`)
  const memoryMb = options.memoryMb ?? 512
  const maxConcurrency = options.maxConcurrency ?? 10
  const initTimeoutMs = options.initTimeoutMs ?? 10_000
  for (const [what, value, min] of [
    ['timeoutMs', timeoutMs, 1],
    ['memoryMb', memoryMb, 128],
    ['maxConcurrency', maxConcurrency, 1],
    ['initTimeoutMs', initTimeoutMs, 1],
  ] as const) {
    if (!Number.isFinite(value) || value < min) throw new ConfigError(`LocalFunction ${what} must be a number from ${min} up, got ${value}`)
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new ConfigError(`LocalFunction name must be 1-64 letters, digits, - or _, got ${JSON.stringify(name)}`)
  const onLog: EnvironmentSpec['onLog'] = options.onLog ?? ((line, source) => process.stderr.write(`[${name}#${source.environment}] ${line}\n`))
  const version = options.version ?? '$LATEST'
  checkVersionName(version)
  const common: Record<string, string> = {
    // What every Lambda environment has (AWS-SEMANTICS.md §6), credentials fake.
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // What Lambda sets for the runtime; the environments run on its Node, so it is true here too.
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    // Invocations come over IPC, not the Runtime API: nothing listens here.
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_RUNTIME_DIR: dirname(childPath()),
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    // Lambda's module paths: none exist here, so only what is in the bundle loads.
    NODE_PATH: `/opt/nodejs/node${nodeMajor(runtime)}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
    ...(options.stack ? { AWS_ENDPOINT_URL_KINESIS: options.stack.kinesisEndpoint, AWS_ENDPOINT_URL_DYNAMODB: options.stack.dynamodbEndpoint } : {}),
    ...(options.table ? { TROUPE_TABLE: options.table } : {}),
    ...(options.stream ? { TROUPE_STREAM: options.stream } : {}),
  }
  // What differs between the versions of the function: the code (its file and folder) and the version's name.
  const codeSpec = (codeBundle: string, codeVersion: string): EnvironmentSpec => {
    const file = resolve(codeBundle)
    const env: Record<string, string> = {
      ...common,
      AWS_LAMBDA_FUNCTION_VERSION: codeVersion,
      _HANDLER: `${basename(file).replace(/\.(m|c)?js$/, '')}.${handlerExport}`,
      LAMBDA_TASK_ROOT: dirname(file),
      ...options.environment,
    }
    return { bundle: file, version: codeVersion, handlerExport, memoryMb, initTimeoutMs, onLog, env }
  }
  const random = options.random ?? Math.random
  if (typeof random !== 'function') throw new ConfigError('LocalFunction random must be a function () => number in [0, 1)')
  return { ...codeSpec(bundle, version), name, region, arn, timeoutMs, runtime, maxConcurrency, random, codeSpec }
}

/** A version's name, as Lambda takes one: `$LATEST`, or up to 128 letters, digits, - and _ (a published version is a number). */
export function checkVersionName(version: string): void {
  if (typeof version !== 'string' || !/^(\$LATEST|[A-Za-z0-9_-]{1,128})$/.test(version)) throw new ConfigError(`LocalFunction version must be $LATEST or 1-128 letters, digits, - or _, got ${JSON.stringify(version)}`)
}
