// The local AWS for the AWS benchmark: dynalite + kinesalite in a server process of their own
// (aws-servers.ts, troupe's startLocalStack: in memory, random ports on 127.0.0.1), so the
// emulators' CPU is not the measured process's, as AWS's is not; and the resources every
// AWS adapter makes on it (a stream, a table), with clients and request counting.
//
// One server process per bench child, started on first use and shared by the warm-up and the
// measured run (its JIT warms up with them); each run gets its own stream and table and deletes
// them in its teardown. `closeServers()` (BenchSystem.close, called by one.ts) stops it; it also
// stops by itself when this process dies (its stdin closes).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DeleteStreamCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { clients } from '../../lib/local/local-stack.js'
import { countRequests, RequestCounter, type RequestCounts } from '../../lib/aws/request-counter.js'
import { ensureStream } from '../../lib/aws/resources.js'
import type { ApiCounts } from '../../lib/metrics/emf.js'
import type { Invocations } from '../cost.js'
import { costMetrics, ItemCounter, type ItemCounts } from './aws-cost.js'
import { SHARDS } from './aws-settings.js'
import { startServiceProcess, type ServiceProcess } from './service-process.js'

export { POLL_MS, SHARDS } from './aws-settings.js'

export interface AwsServers {
  dynamodbEndpoint: string
  kinesisEndpoint: string
  pid: number
  /** CPU seconds (user + system) the server process has used so far; NaN where /proc is missing. */
  cpuSeconds(): number
}

const SERVER = fileURLToPath(new URL('./aws-servers.ts', import.meta.url))

let started: Promise<ServiceProcess<AwsServers>> | undefined

/** The server process of this bench child, started on first call. */
export async function servers(): Promise<AwsServers> {
  started ??= startServers()
  return (await started).info
}

/** Stops the server process, if one was started (SIGTERM, then SIGKILL after 5 s). */
export async function closeServers(): Promise<void> {
  if (!started) return
  const service = await started.catch(() => undefined)
  started = undefined
  await service?.stop()
}

async function startServers(): Promise<ServiceProcess<AwsServers>> {
  const service = await startServiceProcess<{ dynamodbEndpoint: string; kinesisEndpoint: string }>(SERVER, [], 'the local AWS servers')
  const { pid } = service
  return { ...service, info: { ...service.info, pid, cpuSeconds: () => cpuSecondsOf(pid) } }
}

/** utime + stime of a process from /proc, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

let made = 0

/**
 * One run's world: fresh clients on the shared servers (counted from the start), a stream of
 * {@link SHARDS} shards and a name for the table. `mark()` is where counting starts;
 * `metrics(messages)` is what was counted since, per message.
 */
export interface AwsRun {
  servers: AwsServers
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  requests: RequestCounter
  items: ItemCounter
  stream: string
  tableName: string
  /** Starts counting (requests, items, CPU) here: everything before is setup. */
  mark(): void
  /**
   * Requests, items, billed units and CPU since `mark()`, per message; with `invocations` (how a
   * Lambda host ran or would run it) dollars too. `more`: requests counted elsewhere in the window
   * (the Lambda functions' own, from their EMF lines), added to this process's.
   */
  metrics(messages: number, options?: { invocations?: Invocations; more?: ApiCounts }): Record<string, number>
  /** Deletes the stream and table (if made) and closes the clients. */
  teardown(): Promise<void>
}

export async function awsRun(label: string): Promise<AwsRun> {
  const srv = await servers()
  const { kinesis, dynamodb } = clients(srv)
  const requests = new RequestCounter()
  countRequests(kinesis, requests)
  countRequests(dynamodb, requests)
  const items = new ItemCounter()
  items.attach(dynamodb)
  const name = `bench-${label}-${process.pid}-${++made}`
  await ensureStream(kinesis, name, SHARDS)
  let before: { requests: RequestCounts; items: ItemCounts; cpu: NodeJS.CpuUsage; serverCpu: number } | undefined
  const run: AwsRun = {
    servers: srv,
    kinesis,
    dynamodb,
    requests,
    items,
    stream: name,
    tableName: name,
    mark() {
      before = { requests: requests.snapshot(), items: items.snapshot(), cpu: process.cpuUsage(), serverCpu: srv.cpuSeconds() }
    },
    metrics(messages, options = {}) {
      if (!before) throw new Error('metrics() before mark()')
      const cpu = process.cpuUsage(before.cpu)
      return {
        ...costMetrics(withMore(requests.since(before.requests), options.more), items.since(before.items), messages, options.invocations),
        client_cpu_s: round((cpu.user + cpu.system) / 1e6),
        server_cpu_s: round(srv.cpuSeconds() - before.serverCpu),
      }
    },
    async teardown() {
      await kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true })).catch(() => {})
      await dynamodb.send(new DeleteTableCommand({ TableName: name })).catch(() => {})
      kinesis.destroy()
      dynamodb.destroy()
    },
  }
  return run
}

/** A plain `pk` (string) table, on-demand: what a hand-written Lambda keeps its counters in. */
export async function createPlainTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  )
  for (let i = 0; i < 600; i++) {
    const out = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))
    if (out.Table?.TableStatus === 'ACTIVE') return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`table ${tableName} never became ACTIVE`)
}

/** The shard ids of a stream. */
export async function shardIds(kinesis: KinesisClient, stream: string): Promise<string[]> {
  const out = await kinesis.send(new ListShardsCommand({ StreamName: stream }))
  return (out.Shards ?? []).map((s) => s.ShardId!)
}

/** Runs `fn(i)` for i in [0, count), at most `limit` at once; rejects on the first failure. */
export async function pool(limit: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** This process's counts with another's added, API by API. */
function withMore(counts: RequestCounts, more: ApiCounts | undefined): RequestCounts {
  if (!more) return counts
  const byApi = structuredClone(counts.byApi)
  const total = { ...counts.total }
  for (const [api, c] of Object.entries(more.byApi)) {
    const into = (byApi[api] ??= { requests: 0, errors: 0, requestBytes: 0, responseBytes: 0, units: 0 })
    for (const k of ['requests', 'errors', 'requestBytes', 'responseBytes', 'units'] as const) {
      into[k] += c[k] ?? 0
      total[k] += c[k] ?? 0
    }
  }
  return { total, byApi }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
