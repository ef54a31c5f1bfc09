// What a troupe deployment is made of, before it is a CloudFormation template or SDK calls: the
// streams, the table, the host function and the settings of its event source mappings, checked
// once here, so `troupe template` and `troupe deploy` make the same resources with the same
// settings. Defaults are tuned for safety (AWS-SEMANTICS.md §2.7: a poison record must never
// stall a shard until retention drops it) and for cost (arm64, logs that expire).
import { ConfigError } from '../core/errors.js'
import { STREAM_NAME } from '../routing/kinesis-limits.js'
import { DEFAULT_LAMBDA_RUNTIME, isLambdaRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../platform/lambda-runtime.js'

export interface StreamSpec {
  /** The Kinesis stream's name. */
  name: string
  /** Provisioned shards (each takes 1 MiB/s or 1,000 records/s in, and costs by the hour). */
  shards: number
}

/** A deployment, as the user describes it. */
export interface StackOptions {
  /** Names the deployment: the scheduled rule (`<name>-tick`) and the role `troupe deploy` makes (`<name>-<region>`). */
  name: string
  /** Every stream the app routes to; the first is the default stream (TROUPE_STREAM). */
  streams: readonly StreamSpec[]
  /** The DynamoDB table: state, timers, receipts, dead letters (`tableDefinition`'s keys). */
  tableName: string
  /** The host function that takes the stream batches, the asks and the ticks. */
  functionName: string
  /** @default 512 */
  memoryMb?: number
  /** Bounds one invocation: a batch, an ask or a tick. @default 60 */
  timeoutS?: number
  /** Records per batch, 1 to 10,000 (a batch is also capped at 6 MB). @default 100 */
  batchSize?: number
  /** How long the mapping gathers records before it invokes, 0 to 300. @default 1 */
  maximumBatchingWindowInSeconds?: number
  /**
   * Retries of a failed batch: -1 (until its records leave the stream) or 0 to 10,000. troupe
   * dead-letters a failing turn and an unreadable record itself, so what the mapping retries is a
   * host that could not finish (a store or stream down, a crash). A bound makes the mapping skip
   * the batch once it is reached: its records are lost, with the messages its turns had not yet
   * sent, and a skipped turn's copies may then be applied twice (docs/guarantees.md). -1 keeps
   * the guarantee; a record that crashes the host every time then holds its shard until fixed.
   * @default -1
   */
  maximumRetryAttempts?: number
  /** Records older than this are skipped, -1 (never) or 60 to 604,800; a bound skips records as `maximumRetryAttempts` does. @default -1 */
  maximumRecordAgeInSeconds?: number
  /**
   * Batches of one shard processed at once. Must be 1: a message is recognised as a copy by its
   * lane's fence, which needs a shard's records to be finished in order (docs/guarantees.md); for
   * more concurrency, use more shards (a batch's instances already run concurrently).
   * @default 1
   */
  parallelizationFactor?: number
  /** arm64 costs about 20% less per GB-second than x86_64 for the same code. @default 'arm64' */
  architecture?: 'arm64' | 'x86_64'
  /** The function's Node.js runtime; the bundle is built for its Node. @default 'nodejs24.x' */
  runtime?: LambdaRuntime
  /** Days CloudWatch keeps the function's logs (one of the values CloudWatch accepts). @default 30 */
  logRetentionDays?: number
  /** Point-in-time recovery of the table (continuous backups). @default true */
  pointInTimeRecovery?: boolean
}

/** A checked deployment, every default filled in. */
export interface Stack extends Required<StackOptions> {
  streams: readonly StreamSpec[]
}

/** What the host function runs: the bundle's `index.mjs`, exporting `handler`. */
export const HANDLER = 'index.handler'
/** The scheduled tick that fires due timers, join deadlines and parked messages (DESIGN.md, "Time on AWS"). */
export const TICK_SCHEDULE = 'rate(1 minute)'
/** What the tick sends: the handler's `isTick`. */
export const TICK_INPUT = JSON.stringify({ troupe: 'tick' })
/** The target id of the host function on the tick rule, and the statement id of its permission. */
export const TICK_TARGET_ID = 'troupe-host'
export const TICK_PERMISSION_ID = 'troupe-tick'
/** The inline policy of the host's role. */
export const HOST_POLICY_NAME = 'troupe-host'

export const STACK_DEFAULTS = {
  memoryMb: 512,
  timeoutS: 60,
  batchSize: 100,
  maximumBatchingWindowInSeconds: 1,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  parallelizationFactor: 1,
  architecture: 'arm64',
  runtime: DEFAULT_LAMBDA_RUNTIME,
  logRetentionDays: 30,
  pointInTimeRecovery: true,
} as const satisfies Partial<StackOptions>

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/
/** Rule names allow 64 characters; `-tick` takes 5. */
const DEPLOYMENT_NAME = /^[a-zA-Z0-9_-]{1,59}$/
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

/** Checks a deployment and fills in the defaults; throws a ConfigError naming the field. */
export function resolveStack(options: StackOptions): Stack {
  const o = options
  if (typeof o?.name !== 'string' || !DEPLOYMENT_NAME.test(o.name)) {
    throw new ConfigError(`StackOptions.name must be 1 to 59 of a-z A-Z 0-9 _ -, got ${show(o?.name)}`)
  }
  if (typeof o.tableName !== 'string' || !TABLE_NAME.test(o.tableName)) {
    throw new ConfigError(`StackOptions.tableName must be a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -), got ${show(o.tableName)}`)
  }
  if (typeof o.functionName !== 'string' || !FUNCTION_NAME.test(o.functionName)) {
    throw new ConfigError(`StackOptions.functionName must be a Lambda function name (1 to 64 of a-z A-Z 0-9 _ -), got ${show(o.functionName)}`)
  }
  if (!Array.isArray(o.streams) || o.streams.length === 0) throw new ConfigError('StackOptions.streams must list at least one stream')
  const seen = new Set<string>()
  for (const [i, s] of o.streams.entries()) {
    if (typeof s?.name !== 'string' || !STREAM_NAME.test(s.name)) {
      throw new ConfigError(`StackOptions.streams[${i}].name must be a Kinesis stream name (1 to 128 of a-z A-Z 0-9 _ . -), got ${show(s?.name)}`)
    }
    if (seen.has(s.name)) throw new ConfigError(`StackOptions.streams lists ${s.name} twice`)
    seen.add(s.name)
    integer(`streams[${i}].shards`, s.shards, 1, 10_000)
  }
  const stack: Stack = {
    name: o.name,
    streams: o.streams.map((s) => ({ name: s.name, shards: s.shards })),
    tableName: o.tableName,
    functionName: o.functionName,
    memoryMb: integer('memoryMb', o.memoryMb ?? STACK_DEFAULTS.memoryMb, 128, 10_240),
    timeoutS: integer('timeoutS', o.timeoutS ?? STACK_DEFAULTS.timeoutS, 1, 900),
    batchSize: integer('batchSize', o.batchSize ?? STACK_DEFAULTS.batchSize, 1, 10_000),
    maximumBatchingWindowInSeconds: integer(
      'maximumBatchingWindowInSeconds',
      o.maximumBatchingWindowInSeconds ?? STACK_DEFAULTS.maximumBatchingWindowInSeconds,
      0,
      300,
    ),
    maximumRetryAttempts: unboundedOr('maximumRetryAttempts', o.maximumRetryAttempts ?? STACK_DEFAULTS.maximumRetryAttempts, 0, 10_000),
    maximumRecordAgeInSeconds: unboundedOr('maximumRecordAgeInSeconds', o.maximumRecordAgeInSeconds ?? STACK_DEFAULTS.maximumRecordAgeInSeconds, 60, 604_800),
    parallelizationFactor: integer(
      'parallelizationFactor',
      o.parallelizationFactor ?? STACK_DEFAULTS.parallelizationFactor,
      1,
      1,
      "a copy of a message is recognised by its shard's fence, which needs the shard's batches one at a time (docs/guarantees.md); use more shards",
    ),
    architecture: o.architecture ?? STACK_DEFAULTS.architecture,
    runtime: o.runtime ?? STACK_DEFAULTS.runtime,
    logRetentionDays: o.logRetentionDays ?? STACK_DEFAULTS.logRetentionDays,
    pointInTimeRecovery: o.pointInTimeRecovery ?? STACK_DEFAULTS.pointInTimeRecovery,
  }
  if (!isLambdaRuntime(stack.runtime)) {
    throw new ConfigError(`StackOptions.runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}, got ${show(stack.runtime)}`)
  }
  if (stack.architecture !== 'arm64' && stack.architecture !== 'x86_64') {
    throw new ConfigError(`StackOptions.architecture must be 'arm64' or 'x86_64', got ${show(stack.architecture)}`)
  }
  if (!LOG_RETENTION_DAYS.includes(stack.logRetentionDays)) {
    throw new ConfigError(`StackOptions.logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (what CloudWatch accepts), got ${show(stack.logRetentionDays)}`)
  }
  if (typeof stack.pointInTimeRecovery !== 'boolean') throw new ConfigError(`StackOptions.pointInTimeRecovery must be true or false, got ${show(stack.pointInTimeRecovery)}`)
  return stack
}

/** The function's log group (Lambda writes to `/aws/lambda/<function>`). */
export function logGroupName(stack: Pick<Stack, 'functionName'>): string {
  return `/aws/lambda/${stack.functionName}`
}

export function tickRuleName(stack: Pick<Stack, 'name'>): string {
  return `${stack.name}-tick`
}

/**
 * The role `troupe deploy` makes. IAM is global and a role's policy names one region's
 * resources, so the region is part of the name: the same deployment in two regions gets two roles.
 */
export function hostRoleName(stack: Pick<Stack, 'name'>, region: string): string {
  const name = `${stack.name}-${region}`
  if (name.length > 64) throw new ConfigError(`the role name ${name} is longer than IAM's 64 characters; use a shorter deployment name`)
  return name
}

/** The environment of the host function: where the handler finds its table and default stream. */
export function hostEnvironment(stack: Pick<Stack, 'tableName' | 'streams'>): Record<string, string> {
  return { TROUPE_TABLE: stack.tableName, TROUPE_STREAM: stack.streams[0]!.name }
}

/**
 * The mapping's FunctionResponseTypes. The handler answers which record failed first, so only the
 * tail is delivered again; without this Lambda ignores that answer and counts the batch done.
 * `troupe dev`'s local mapping asks for the same.
 */
export const FUNCTION_RESPONSE_TYPES = ['ReportBatchItemFailures'] as const

/** The settings every event source mapping gets (names as in the Lambda API and CloudFormation). */
export function mappingSettings(stack: Stack) {
  return {
    BatchSize: stack.batchSize,
    MaximumBatchingWindowInSeconds: stack.maximumBatchingWindowInSeconds,
    ParallelizationFactor: stack.parallelizationFactor,
    MaximumRetryAttempts: stack.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: stack.maximumRecordAgeInSeconds,
    // No split: the handler reports the first record it did not finish, and a batch is only ever
    // delivered again from there, so what comes before a batch's first record is done (the fence).
    BisectBatchOnFunctionError: false,
    FunctionResponseTypes: [...FUNCTION_RESPONSE_TYPES],
  }
}

function integer(field: string, value: unknown, min: number, max: number, why?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = min === max ? `${min}` : `a whole number from ${min} to ${max}`
    throw new ConfigError(`StackOptions.${field} must be ${range}${why ? ` (${why})` : ''}, got ${show(value)}`)
  }
  return value
}

/** -1 (no bound), or a whole number from min to max. */
function unboundedOr(field: string, value: unknown, min: number, max: number): number {
  if (value === -1) return value
  return integer(field, value, min, max, '-1 for no bound, which the guarantee needs')
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
