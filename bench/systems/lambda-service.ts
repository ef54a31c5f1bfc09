// The Lambda service of the `troupe-lambda-invoke` adapter, in a process of its own: the local
// Invoke API, the function's execution environments (LocalFunction, child processes of this one)
// and its event source mapping. On AWS the Invoke API runs on other machines than its caller;
// run inside the asking process, its request handling and the function's answer waited behind
// the asker's own work (the `accepted` receipt entry an ask writes while its invocation runs).
// Restate's server and endpoint run in processes of their own in the same bench, for the same
// reason.
//
//   node --import tsx lambda-service.ts '<settings as JSON>'
//
// Writes `{ endpoint, functionName }` as its first stdout line once the environments are warm and
// the mapping reads. It stops when told (SIGTERM) or when its stdin closes, so it never outlives
// the bench child that started it.
import { LocalEventSourceMapping } from '../../lib/local/local-event-source-mapping.js'
import { LocalFunction } from '../../lib/local/local-function.js'
import { startLocalInvokeServer, type LocalInvokeServer } from '../../lib/local/local-invoke-server.js'
import { clients } from '../../lib/local/local-stack.js'

export interface LambdaServiceSettings {
  bundle: string
  name: string
  stack: { dynamodbEndpoint: string; kinesisEndpoint: string }
  table: string
  stream: string
  /** Warm environments made before the first line. */
  environments: number
  batchSize: number
  pollMs: number
}

const settings = JSON.parse(process.argv[2]!) as LambdaServiceSettings
const fn = new LocalFunction({
  bundle: settings.bundle,
  name: settings.name,
  stack: settings.stack,
  table: settings.table,
  stream: settings.stream,
  timeoutMs: 60_000,
  initTimeoutMs: 60_000,
  maxConcurrency: settings.environments,
  environment: { TROUPE_LOG_LEVEL: 'error', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  onLog: (line) => process.env.TROUPE_BENCH_LAMBDA_LOGS === '1' && process.stderr.write(`[lambda] ${line}\n`),
})
const { kinesis } = clients(settings.stack)
const esm = new LocalEventSourceMapping({ kinesis, stream: settings.stream, fn, batchSize: settings.batchSize, functionResponseTypes: ['ReportBatchItemFailures'], pollMs: settings.pollMs })
let server: LocalInvokeServer | undefined

// Set before anything is awaited: the bench child may go while the environments still start.
let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  const exit = () => process.exit(0)
  shutdown().then(exit, exit)
  setTimeout(exit, 5_000).unref()
}
/** The mapping first, so that no batch starts on a function going away. */
async function shutdown(): Promise<void> {
  await esm.stop()
  await server?.stop()
  await fn.stop()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()

server = await startLocalInvokeServer({ functions: { [fn.name]: fn } })
await fn.provision(settings.environments)
await esm.start()
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, functionName: fn.name })}\n`)
