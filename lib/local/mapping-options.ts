// The local event source mapping's options: what AWS takes for a Kinesis mapping (batch size,
// batching window, starting position, parallelization, retries, record age, bisect,
// FunctionResponseTypes), checked as AWS checks them, with AWS's defaults, and the emulator's
// own (polling, injected duplicates, ticks, clocks, observers).
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigError } from '../core/errors.js'
import { createLogger, type Logger } from '../core/logger.js'
import type { BatchReport } from './batch-report.js'
import type { LocalFunction } from './local-function.js'
import type { CheckpointStore } from './mapping-checkpoints.js'
import type { OnFailureRecord } from './on-failure-record.js'

/** The values of `FunctionResponseTypes` Lambda takes for a Kinesis mapping. */
export type FunctionResponseType = 'ReportBatchItemFailures'

export interface LocalEventSourceMappingOptions {
  kinesis: KinesisClient
  stream: string
  fn: LocalFunction
  /** 1-10,000. @default 100 */
  batchSize?: number
  /** 0-300; fractions allowed here (tests). @default 0 */
  maximumBatchingWindowInSeconds?: number
  /** @default 'TRIM_HORIZON' */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST'
  /** 1-10 batches at once per shard, in order per partition key. @default 1 */
  parallelizationFactor?: number
  /** -1 (until the records expire) or 0-10,000. @default -1 */
  maximumRetryAttempts?: number
  /**
   * Records older than this many seconds are discarded: -1 (never) or a whole number from 60 to
   * 604,800, the values AWS takes (it refuses 0-59). To test ageing without waiting a minute, move
   * `now` forward. @default -1
   */
  maximumRecordAgeInSeconds?: number
  /** @default false */
  bisectBatchOnFunctionError?: boolean
  /**
   * `['ReportBatchItemFailures']` makes the mapping read the function's `batchItemFailures` and
   * deliver again from the lowest one reported. Without it, as on AWS, any answer is success and
   * the whole batch is done. troupe's handler answers with partial batch responses, and the
   * mapping `troupe template` and `troupe deploy` make asks for them. @default []
   */
  functionResponseTypes?: readonly FunctionResponseType[]
  /** Each invocation's timeout. @default the function's timeout */
  functionTimeoutMs?: number
  /** Wait between reads of a shard that had nothing new, in ms. Lambda polls about once a second. @default 1000 */
  pollMs?: number
  /** The on-failure destination: called with each discarded batch's record. */
  onFailure?: (record: OnFailureRecord) => void | Promise<void>
  /** 0..1: the probability that a successful batch is delivered once more (at least once, §6). @default 0 */
  duplicateDelivery?: number
  /** Invoke `{ troupe: 'tick' }` this often, as the scheduled rule does; off when absent. */
  tickEveryMs?: number
  /** Keeps checkpoints; in memory when absent. */
  checkpoints?: CheckpointStore
  /** Delay before delivering a failed unit again: doubles per failure of the same unit. @default { initialMs: 200, maxMs: 10_000 } */
  retryBackoff?: { initialMs?: number; maxMs?: number }
  /** @default 'us-east-1' */
  region?: string
  /** The function's execution role, as `invokeIdentityArn`. @default arn:aws:iam::000000000000:role/<function>-role */
  roleArn?: string
  logger?: Logger
  /** For `duplicateDelivery`. @default Math.random */
  random?: () => number
  /**
   * The time records' ages are measured at, in epoch ms (their arrival times are the stream's).
   * Tests move it forward to age records past `maximumRecordAgeInSeconds`. @default Date.now
   */
  now?: () => number
  /** Told about every batch delivered (after its outcome is known). */
  onBatch?: (report: BatchReport) => void
}

/** The options checked, with their defaults, and what follows from them. */
export type MappingSettings = Required<
  Pick<
    LocalEventSourceMappingOptions,
    'batchSize' | 'maximumBatchingWindowInSeconds' | 'startingPosition' | 'parallelizationFactor' | 'maximumRetryAttempts' | 'maximumRecordAgeInSeconds' | 'bisectBatchOnFunctionError' | 'pollMs' | 'duplicateDelivery'
  >
> & {
  /** FunctionResponseTypes has ReportBatchItemFailures: partial batch responses are read. */
  readonly reportBatchItemFailures: boolean
  readonly logger: Logger
  readonly region: string
  readonly streamArn: string
  readonly roleArn: string
  readonly random: () => number
  readonly now: () => number
  /** Each invocation's timeout. */
  readonly timeoutMs: number
  readonly backoff: { initialMs: number; maxMs: number }
}

const ACCOUNT = '000000000000'

/** Checks the options (a ConfigError names the first one AWS would refuse) and fills in the defaults. */
export function mappingSettings(options: LocalEventSourceMappingOptions): Readonly<MappingSettings> {
  const o = {
    batchSize: options.batchSize ?? 100,
    maximumBatchingWindowInSeconds: options.maximumBatchingWindowInSeconds ?? 0,
    startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
    parallelizationFactor: options.parallelizationFactor ?? 1,
    maximumRetryAttempts: options.maximumRetryAttempts ?? -1,
    maximumRecordAgeInSeconds: options.maximumRecordAgeInSeconds ?? -1,
    bisectBatchOnFunctionError: options.bisectBatchOnFunctionError ?? false,
    pollMs: options.pollMs ?? 1_000,
    duplicateDelivery: options.duplicateDelivery ?? 0,
  }
  const check = (ok: boolean, what: string, value: unknown) => {
    if (!ok) throw new ConfigError(`LocalEventSourceMapping ${what}, got ${JSON.stringify(value)}`)
  }
  check(Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= 10_000, 'batchSize must be a whole number from 1 to 10,000', o.batchSize)
  check(o.maximumBatchingWindowInSeconds >= 0 && o.maximumBatchingWindowInSeconds <= 300, 'maximumBatchingWindowInSeconds must be from 0 to 300', o.maximumBatchingWindowInSeconds)
  check(o.startingPosition === 'TRIM_HORIZON' || o.startingPosition === 'LATEST', "startingPosition must be 'TRIM_HORIZON' or 'LATEST'", o.startingPosition)
  check(Number.isInteger(o.parallelizationFactor) && o.parallelizationFactor >= 1 && o.parallelizationFactor <= 10, 'parallelizationFactor must be a whole number from 1 to 10', o.parallelizationFactor)
  check(Number.isInteger(o.maximumRetryAttempts) && o.maximumRetryAttempts >= -1 && o.maximumRetryAttempts <= 10_000, 'maximumRetryAttempts must be -1 or a whole number up to 10,000', o.maximumRetryAttempts)
  check(
    o.maximumRecordAgeInSeconds === -1 || (Number.isInteger(o.maximumRecordAgeInSeconds) && o.maximumRecordAgeInSeconds >= 60 && o.maximumRecordAgeInSeconds <= 604_800),
    'maximumRecordAgeInSeconds must be -1 (no limit) or a whole number of seconds from 60 to 604,800, as AWS takes',
    o.maximumRecordAgeInSeconds,
  )
  const types = options.functionResponseTypes ?? []
  check(Array.isArray(types) && types.every((type) => type === 'ReportBatchItemFailures'), "functionResponseTypes must be [] or ['ReportBatchItemFailures']", types)
  const reportBatchItemFailures = types.includes('ReportBatchItemFailures')
  check(o.pollMs >= 0, 'pollMs must be 0 or more', o.pollMs)
  check(o.duplicateDelivery >= 0 && o.duplicateDelivery <= 1, 'duplicateDelivery must be a probability from 0 to 1', o.duplicateDelivery)
  check(options.tickEveryMs === undefined || options.tickEveryMs > 0, 'tickEveryMs must be more than 0', options.tickEveryMs)
  const region = options.region ?? 'us-east-1'
  return {
    ...o,
    reportBatchItemFailures,
    logger: options.logger ?? createLogger('warn'),
    region,
    streamArn: `arn:aws:kinesis:${region}:${ACCOUNT}:stream/${options.stream}`,
    roleArn: options.roleArn ?? `arn:aws:iam::${ACCOUNT}:role/${options.fn.name}-role`,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    timeoutMs: options.functionTimeoutMs ?? options.fn.timeoutMs,
    backoff: { initialMs: options.retryBackoff?.initialMs ?? 200, maxMs: options.retryBackoff?.maxMs ?? 10_000 },
  }
}
