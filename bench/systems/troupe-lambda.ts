// troupe through the Lambda path on the local servers: the bench's counters bundled into troupe's
// Lambda host (lambda-host.ts, bundleHandler: the artefact `troupe deploy` uploads), run in
// LocalFunction child processes fed from the stream by the LocalEventSourceMapping, exactly as
// the tests' Lambda mode wires it (test/fixtures/lambda-mode.ts). This process is an API
// handler: an AwsSystem that only tells and asks (`consume: false`). `troupe-lambda-invoke`
// asks by invoking the function directly through the local Lambda Invoke API instead, which
// serves from a process of its own with the function's environments (lambda-service.ts).
//
// Done is when nothing moves any more: every send out, no invocation running, every shard read
// to its tip with no batch pending (the way the Lambda mode settles), then the state is read back.
// Requests per message are the caller's (counted here) and the function's, which its Lambda host
// writes as EMF lines after each invocation and this process reads from the function's output, as
// `troupe dev` does; the invocations and their billed durations are measured at the Invoke
// boundary, so the dollars of this adapter are measured, not modelled (../cost.ts).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { lambdaInvoker, type HostInvoker } from '../../lib/aws/lambda-invoker.js'
import { decode } from '../../lib/core/serialization.js'
import { bundleHandler } from '../../lib/deploy/bundle-handler.js'
import { LocalEventSourceMapping } from '../../lib/local/local-event-source-mapping.js'
import { LocalFunction } from '../../lib/local/local-function.js'
import { LocalMetrics } from '../../lib/local/local-metrics.js'
import { requestsSince } from '../../lib/metrics/emf.js'
import { localLambdaClient } from '../../lib/local/local-lambda-client.js'
import { settleLocalLambda } from '../../lib/local/settle-local-lambda.js'
import type { ActorClass } from '../../lib/index.js'
import { createTable, DynamoDBStateStore } from '../../lib/store/dynamodb.js'
import { POLL_MS, SHARDS } from './aws-settings.js'
import { awsRun, closeServers, type AwsRun } from './aws-stack.js'
import { AskCounter, COUNTERS, Counter, KeyedCounter, type Count } from './counters.js'
import type { LambdaServiceSettings } from './lambda-service.js'
import { startServiceProcess } from './service-process.js'
import type { BenchSystem } from './system.js'

const HOST = fileURLToPath(new URL('./lambda-host.ts', import.meta.url))
const SERVICE = fileURLToPath(new URL('./lambda-service.ts', import.meta.url))
/** Records per batch: `troupe deploy`'s event source mapping setting (and Lambda's default). */
const BATCH_SIZE = 100
const LINGER_MS = 10

/**
 * The mapping's wait between reads of an idle shard when asks go by Invoke: Lambda's own (a
 * standard iterator reads an idle shard about once a second). Its reads are then off the ask's
 * path, and on AWS they run on Lambda's pollers, not beside the caller; here they would share the
 * two cores with it (at POLL_MS, 200 GetRecords a second over four shards).
 */
const INVOKE_ESM_POLL_MS = 1_000

const SETTINGS = `the counters bundled (minified) into troupe's Lambda host, run in LocalFunction child processes (warm environments, one per shard, provisioned before the clock starts) fed by LocalEventSourceMapping (batch ${BATCH_SIZE}, no batching window, pollMs ${POLL_MS}, ReportBatchItemFailures); the caller is AwsSystem({ consume: false, lingerMs: ${LINGER_MS}, checkSerializable: false }); kinesalite + dynalite in their own process, stream of ${SHARDS} shards`

/** The bundle, made once per bench child (the warm-up and the measured run share it). */
let bundled: Promise<{ dir: string; outfile: string }> | undefined
function bundle() {
  bundled ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-lambda-'))
    const { outfile } = await bundleHandler({ entry: HOST, outfile: join(dir, 'host.mjs'), minify: true })
    return { dir, outfile }
  })()
  return bundled
}

/** A table, stream, function and mapping in this process, and the caller's system. */
async function start(label: string) {
  const run = await awsRun(label)
  await createTable(run.dynamodb, run.tableName)
  const { outfile } = await bundle()
  // The function's own requests, from the EMF lines its host writes (troupe dev reads them the same way).
  const emf = new LocalMetrics()
  const fn = new LocalFunction({
    bundle: outfile,
    name: 'troupe-host',
    stack: run.servers,
    table: run.tableName,
    stream: run.stream,
    timeoutMs: 60_000,
    initTimeoutMs: 60_000,
    maxConcurrency: SHARDS,
    environment: { TROUPE_LOG_LEVEL: 'error', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    onLog: (line) => {
      if (!emf.ingest(line) && process.env.TROUPE_BENCH_LAMBDA_LOGS === '1') process.stderr.write(`[lambda] ${line}\n`)
    },
  })
  // Invocations and their billed duration (whole milliseconds, rounded up, as Lambda bills), at
  // the one door every invocation goes through: the mapping's batches and ticks.
  const billed = { invocations: 0, ms: 0 }
  const invokeRaw = fn.invokeRaw.bind(fn)
  fn.invokeRaw = async (payload, options) => {
    const result = await invokeRaw(payload, options)
    billed.invocations++
    billed.ms += Math.ceil(result.durationMs)
    return result
  }
  const esm = new LocalEventSourceMapping({ kinesis: run.kinesis, stream: run.stream, fn, batchSize: BATCH_SIZE, functionResponseTypes: ['ReportBatchItemFailures'], pollMs: POLL_MS })
  const system = caller(run)
  // Warm environments before the clock starts: the cold start is W6's business.
  await fn.provision(SHARDS)
  await esm.start()
  run.mark()
  const emfBefore = await emf.requests()
  const billedBefore = { ...billed }
  let failWith!: (e: unknown) => void
  const failed = new Promise<never>((_, reject) => (failWith = reject))
  failed.catch(() => {})
  /** The tells not yet handed to the transport (a tell builds its envelope first). */
  const telling: Promise<unknown>[] = []
  const settle = async () => {
    await Promise.all(telling)
    await settleLocalLambda({ producers: [system], functions: [fn], mappings: [esm] }, { timeoutMs: 120_000 })
  }
  return {
    run,
    system,
    tell(actor: ActorClass, body: unknown) {
      telling.push(system.tell(actor as never, body as never).catch(failWith))
    },
    done: () => Promise.race([settle(), failed]),
    /** Requests (the caller's and the function's), units and measured Lambda dollars since the start, per message. */
    async metrics(messages: number) {
      const invocations = billed.invocations - billedBefore.invocations
      const ms = billed.ms - billedBefore.ms
      return run.metrics(messages, {
        more: requestsSince(await emf.requests(), emfBefore),
        invocations: { perMessage: invocations / messages, msPerInvocation: invocations === 0 ? 0 : ms / invocations, measured: true },
      })
    },
    async teardown() {
      await system.stop().catch(() => {})
      await esm.stop()
      await fn.stop()
      await run.teardown()
    },
  }
}

/** The asking and telling process: an API handler's AwsSystem, which consumes nothing. */
function caller(run: AwsRun, invoke?: HostInvoker): AwsSystem {
  return new AwsSystem({
    actors: COUNTERS as ActorClass[],
    kinesis: run.kinesis,
    dynamodb: run.dynamodb,
    tableName: run.tableName,
    stream: run.stream,
    consume: false,
    timers: false,
    // Its requests into the run's counter (AwsSystem counts into its own otherwise, on the same clients).
    requests: run.requests,
    pollMs: POLL_MS,
    lingerMs: LINGER_MS,
    checkSerializable: false,
    logLevel: 'error',
    ...(invoke ? { invoke } : {}),
  })
}

/**
 * The Lambda service of `troupe-lambda-invoke` (lambda-service.ts: the Invoke API, the function's
 * warm environments, one more than the mapping's shards so an ask never waits for a batch, and its
 * mapping) on a table and stream of its own: one per bench child, shared by the warm-up and the
 * measured run, as Restate's server and endpoint are, so that the measured run finds them warmed
 * up (JIT-compiled) by the warm-up run, not fresh.
 */
let invokeWorld: Promise<{ run: AwsRun; lambda: LambdaClient; functionName: string; stop(): Promise<void> }> | undefined
let invokeRuns = 0

function invokeService() {
  invokeWorld ??= (async () => {
    const run = await awsRun('invoke')
    try {
      return await serviceOn(run)
    } catch (error) {
      // A start that failed is not kept: the next run tries again, and close() has nothing to stop.
      invokeWorld = undefined
      await run.teardown().catch(() => {})
      throw error
    }
  })()
  return invokeWorld
}

/** The service on `run`'s table and stream, and a Lambda client of its Invoke API. */
async function serviceOn(run: AwsRun) {
  await createTable(run.dynamodb, run.tableName)
  const { outfile } = await bundle()
  const settings: LambdaServiceSettings = { bundle: outfile, name: 'troupe-host', stack: { dynamodbEndpoint: run.servers.dynamodbEndpoint, kinesisEndpoint: run.servers.kinesisEndpoint }, table: run.tableName, stream: run.stream, environments: SHARDS + 1, batchSize: BATCH_SIZE, pollMs: INVOKE_ESM_POLL_MS }
  const service = await startServiceProcess<{ endpoint: string; functionName: string }>(SERVICE, [JSON.stringify(settings)], 'the local Lambda service')
  const lambda = localLambdaClient(service.info.endpoint)
  return {
    run,
    lambda,
    functionName: service.info.functionName,
    async stop() {
      await service.stop()
      lambda.destroy()
      await run.teardown()
    },
  }
}

async function close(): Promise<void> {
  const world = await invokeWorld?.catch(() => undefined)
  invokeWorld = undefined
  await world?.stop()
  const b = await bundled?.catch(() => undefined)
  bundled = undefined
  if (b) await rm(b.dir, { recursive: true, force: true })
  await closeServers()
}

export const troupeLambda: BenchSystem = {
  name: 'troupe-lambda',
  notes: {
    W1: `singleton Counter: system.tell(Counter, { by }) per message, one partition key (one shard); done when the mapping has delivered everything and the function is idle. ${SETTINGS}`,
    W2: `keyed Counter, partition key type#key, spread over the shards. ${SETTINGS}`,
    W3: `await system.ask(AskCounter, { k: 'w3', by: 1 }) through the stream: the ask goes on Kinesis, the mapping delivers it to the function, the reply receipt is read back from DynamoDB. ${SETTINGS}`,
  },

  async W1(n) {
    const s = await start('lambda')
    let cost: Record<string, number> = {}
    return {
      send: (by) => s.tell(Counter, { by }),
      done: s.done,
      count: async () => {
        cost = await s.metrics(n)
        return ((await s.system.state(Counter)) as Count | undefined)?.count ?? -1
      },
      metrics: () => cost,
      teardown: s.teardown,
    }
  },

  async W2(keys, perActor) {
    const s = await start('lambda')
    let cost: Record<string, number> = {}
    return {
      send: (k, by) => s.tell(KeyedCounter, { k, by }),
      done: s.done,
      total: async () => {
        // The cost first: reading the counters back is not the workload's.
        cost = await s.metrics(keys.length * perActor)
        const store = new DynamoDBStateStore({ client: s.run.dynamodb, tableName: s.run.tableName })
        const stored = await store.getMany(keys.map((key) => ({ type: KeyedCounter.type, key })))
        return stored.reduce((sum, item) => sum + (item ? decode<Count>(item.state).count : 0), 0)
      },
      metrics: () => cost,
      teardown: s.teardown,
    }
  },

  async W3() {
    const s = await start('lambda')
    return { ask: () => s.system.ask(AskCounter, { k: 'w3', by: 1 }), teardown: s.teardown }
  },

  close,
}

export const troupeLambdaInvoke: BenchSystem = {
  name: 'troupe-lambda-invoke',
  notes: {
    W3: `await system.ask(AskCounter, { k, by: 1 }) (a key per run) with AwsSystem's invoke option: a Lambda Invoke (RequestResponse, @aws-sdk/client-lambda) of the function through the local Invoke API, which runs the turn under the same conditional commit and answers with the reply. The Invoke API, the function's environments (one more than the shards) and its mapping run in a process of their own (lambda-service.ts), one per bench child shared by the warm-up and the measured run, as Restate's server and endpoint do; it runs W3 at Restate's sizes. ${SETTINGS.replace(`pollMs ${POLL_MS}`, `pollMs ${INVOKE_ESM_POLL_MS}, Lambda's own for an idle shard: the mapping is off the ask's path`)}`,
  },

  async W3() {
    const { run, lambda, functionName } = await invokeService()
    const system = caller(run, lambdaInvoker(lambda, functionName))
    const k = `w3-${++invokeRuns}`
    return { ask: () => system.ask(AskCounter, { k, by: 1 }), teardown: () => system.stop().then(() => undefined) }
  },

  close,
}
