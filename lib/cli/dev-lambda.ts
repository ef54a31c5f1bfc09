// `troupe dev --host lambda` (the default): the app's actors run as they will on AWS. The app
// is bundled with the Lambda host (the artefact `troupe deploy` uploads), run in child-process
// execution environments (LocalFunction), fed by a local event source mapping per stream with
// the settings `troupe template` gives the real one, ticked as the scheduled rule ticks it, and
// asked directly through the local Invoke API. The app's own code gets an AwsSystem that only
// sends: turns run in the function, never in this process.
import { join } from 'node:path'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { AwsSystem, type AwsSystemOptions } from '../aws/aws-system.js'
import { lambdaInvoker } from '../aws/lambda-invoker.js'
import type { LogLevel } from '../core/logger.js'
import type { BundleFiles } from '../app/bundle-files.js'
import { buildBundle } from '../deploy/bundle.js'
import { FUNCTION_RESPONSE_TYPES, STACK_DEFAULTS } from '../deploy/stack.js'
import type { LambdaRuntime } from '../platform/lambda-runtime.js'
import { LocalEventSourceMapping, type CheckpointStore } from '../local/local-event-source-mapping.js'
import { LocalFunction } from '../local/local-function.js'
import { startLocalInvokeServer, type LocalInvokeServer } from '../local/local-invoke-server.js'
import { localLambdaClient } from '../local/local-lambda-client.js'
import type { LocalStack } from '../local/local-stack.js'
import { settleLocalLambda } from '../local/settle-local-lambda.js'
import { DynamoDBLeaseStore, LeaseLostError, SHARD_END } from '../store/dynamodb-leases.js'

export const DEV_FUNCTION = 'troupe-host'
/** Who holds the shard leases while the local mapping reads. */
const MAPPING_OWNER = 'troupe-dev-event-source-mapping'
/** Long: nothing else reads these streams while troupe dev runs; the leases are let go at stop. */
const MAPPING_LEASE_MS = 24 * 60 * 60_000

export interface DevLambdaOptions {
  appFile: string
  /** The app's `files`, carried beside the bundle. */
  files?: BundleFiles
  /** Where the bundle goes (`<dir>/build`). */
  dir: string
  /** The app's Lambda runtime: the bundle is built for its Node, and the local function runs on it. */
  runtime?: LambdaRuntime
  stack: LocalStack
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  table: string
  streams: string[]
  defaultStream: string
  /** The AwsSystem the app's code gets (actors, router, filters, logging). */
  system: Omit<AwsSystemOptions, 'kinesis' | 'dynamodb' | 'tableName'>
  logLevel: LogLevel
  /** How often the scheduled rule's tick is sent. */
  tickMs: number
  onLog: (line: string) => void
}

export interface DevLambdaStats {
  bundleBytes: number
  /** Environments started (module inits) and invocations: batches, asks and ticks. */
  inits: number
  invocations: number
  functionErrors: number
  /** Batches and records the mappings delivered (a redelivered record counts again). */
  batches: number
  records: number
  recordsRead: number
  asks: number
}

export interface DevLambdaHost {
  system: AwsSystem
  bundle: string
  invokeEndpoint: string
  /** Until the sends are out, every mapping has read to the tip, and no invocation runs. */
  idle(timeoutMs: number): Promise<void>
  stats(): DevLambdaStats
  /** Stops in order: the system, the mappings, the functions, the Invoke API. */
  stop(): Promise<void>
}

/** How long an app's `system.idle()` waits for the local Lambda before it rejects, naming what is busy. */
const IDLE_TIMEOUT_MS = 10 * 60_000

export async function startDevLambdaHost(options: DevLambdaOptions): Promise<DevLambdaHost> {
  const built = await buildBundle({
    app: options.appFile,
    outDir: join(options.dir, 'build'),
    ...(options.files ? { files: options.files } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
  })
  const fn = new LocalFunction({
    bundle: built.outfile,
    runtime: built.runtime,
    name: DEV_FUNCTION,
    stack: options.stack,
    table: options.table,
    stream: options.defaultStream,
    timeoutMs: STACK_DEFAULTS.timeoutS * 1000,
    memoryMb: STACK_DEFAULTS.memoryMb,
    // Every request's trace is kept in the local table: inspection shows it whole, as in one process.
    environment: { TROUPE_LOG_LEVEL: options.logLevel, TROUPE_TRACE_SAMPLE_RATE: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    onLog: options.onLog,
  })
  // Before anything reads the streams: a Node that cannot be found or installed stops troupe dev
  // at start, naming how to give one, rather than fail every batch after "ready".
  await fn.resolveNode()
  const checkpoints = new LeaseCheckpoints(new DynamoDBLeaseStore({ client: options.dynamodb, tableName: options.table }))
  const mappings = options.streams.map(
    (stream, i) =>
      new LocalEventSourceMapping({
        kinesis: options.kinesis,
        stream,
        fn,
        batchSize: STACK_DEFAULTS.batchSize,
        maximumBatchingWindowInSeconds: STACK_DEFAULTS.maximumBatchingWindowInSeconds,
        parallelizationFactor: STACK_DEFAULTS.parallelizationFactor,
        maximumRetryAttempts: STACK_DEFAULTS.maximumRetryAttempts,
        maximumRecordAgeInSeconds: STACK_DEFAULTS.maximumRecordAgeInSeconds,
        bisectBatchOnFunctionError: false,
        functionResponseTypes: FUNCTION_RESPONSE_TYPES,
        checkpoints,
        // One scheduled rule for the deployment: the first mapping sends its ticks.
        ...(i === 0 ? { tickEveryMs: options.tickMs } : {}),
      }),
  )
  let server: LocalInvokeServer | undefined
  let lambda: LambdaClient | undefined
  let system: AwsSystem | undefined
  const stop = async () => {
    await system?.stop().catch(() => {})
    for (const m of mappings) await m.stop()
    await checkpoints.release()
    await fn.stop()
    await server?.stop()
    lambda?.destroy()
  }
  try {
    server = await startLocalInvokeServer({ functions: { [DEV_FUNCTION]: fn } })
    lambda = localLambdaClient(server.endpoint)
    system = new AwsSystem({
      ...options.system,
      kinesis: options.kinesis,
      dynamodb: options.dynamodb,
      tableName: options.table,
      consume: false,
      timers: false,
      invoke: lambdaInvoker(lambda, DEV_FUNCTION),
      // The app's `system.idle()` waits for the local Lambda, as `--once` does.
      idleHost: () => host.idle(IDLE_TIMEOUT_MS),
    })
    for (const m of mappings) await m.start()
  } catch (error) {
    await stop()
    throw error
  }
  const running = system
  const invokeServer = server
  const host: DevLambdaHost = {
    system: running,
    bundle: built.outfile,
    invokeEndpoint: invokeServer.endpoint,
    idle: (timeoutMs) => settleLocalLambda({ producers: [running], functions: [fn], mappings }, { timeoutMs }),
    stats() {
      const f = fn.stats()
      const m = mappings.map((x) => x.stats())
      return {
        bundleBytes: built.bytes,
        inits: f.inits,
        invocations: f.invocations,
        functionErrors: f.errors,
        batches: m.reduce((n, s) => n + s.batches, 0),
        records: m.reduce((n, s) => n + s.records, 0),
        recordsRead: m.reduce((n, s) => n + s.recordsRead, 0),
        asks: invokeServer.stats()[DEV_FUNCTION]?.invocations ?? 0,
      }
    },
    stop,
  }
  return host
}

/**
 * The mappings' checkpoints in the shard leases of the table, where `--host process` keeps its
 * consumer's: a restarted `troupe dev` goes on where the last one stopped, whichever host ran it,
 * as a real mapping does, instead of reading the stream again. The leases are taken for the
 * mapping and let go at stop (or by the next `troupe dev`, if this one did not stop cleanly).
 */
class LeaseCheckpoints implements CheckpointStore {
  private readonly held = new Set<string>()

  constructor(private readonly leases: DynamoDBLeaseStore) {}

  async get(stream: string, shardId: string): Promise<string | undefined> {
    const lease = (await this.take(stream, shardId)) ?? (await this.leases.get(stream, shardId))
    return lease?.checkpoint === SHARD_END ? undefined : lease?.checkpoint
  }

  async put(stream: string, shardId: string, sequenceNumber: string): Promise<void> {
    try {
      await this.leases.checkpoint(stream, shardId, MAPPING_OWNER, sequenceNumber)
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error
      await this.take(stream, shardId)
      await this.leases.checkpoint(stream, shardId, MAPPING_OWNER, sequenceNumber)
    }
  }

  async release(): Promise<void> {
    for (const id of this.held) {
      const [stream, shardId] = JSON.parse(id) as [string, string]
      await this.leases.release(stream, shardId, MAPPING_OWNER).catch(() => false)
    }
    this.held.clear()
  }

  private async take(stream: string, shardId: string) {
    const lease = await this.leases.acquire(stream, shardId, MAPPING_OWNER, MAPPING_LEASE_MS)
    if (lease) this.held.add(JSON.stringify([stream, shardId]))
    return lease
  }
}
