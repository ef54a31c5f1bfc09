// The Lambda host: one handler for the three ways a troupe function is invoked — a Kinesis
// batch from the event source mapping, an `ask` invoked directly, a scheduled tick. It runs
// the durable host's batch turn; what it keeps at module scope (clients, the system, the
// memory of outboxes it sent) only saves requests, never decides correctness.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { AwsSystem, type AwsSystemOptions } from '../aws/aws-system.js'
import { ConfigError, TroupeError } from '../core/errors.js'
import { isLogLevel } from '../core/logger.js'
import { defaultRecordCodec } from '../routing/record-codec.js'
import {
  isAskInvocation,
  isKinesisEvent,
  isTick,
  type AskAnswer,
  type AskInvocation,
  type KinesisBatchResponse,
  type KinesisStreamEvent,
  type LambdaContext,
} from '../platform/lambda-events.js'
import { ActorMetrics } from '../metrics/actor-metrics.js'
import { arrivalMs } from '../metrics/backlog.js'
import { emfLines, requestsSince } from '../metrics/emf.js'
import { xrayTrace } from './xray-trace.js'
import { checkBatchShape } from './batch-shape.js'

export interface LambdaHostOptions extends Omit<AwsSystemOptions, 'kinesis' | 'dynamodb' | 'consume' | 'timers' | 'tableName'> {
  /** @default a client for the function's region (endpoints from AWS_ENDPOINT_URL_KINESIS when set) */
  kinesis?: KinesisClient
  /** @default a client for the function's region (endpoints from AWS_ENDPOINT_URL_DYNAMODB when set) */
  dynamodb?: DynamoDBClient
  /** @default the TROUPE_TABLE environment variable */
  tableName?: string
  /**
   * Time kept back from the invocation's remaining time: turns not started before it are left
   * for redelivery, so the function returns its partial batch response before Lambda kills it.
   * @default 2000
   */
  safetyMarginMs?: number
  /**
   * The host's counts (turns per actor type, messages between types, requests per AWS API) and
   * each type's backlog as it saw it (messages parked and the age of the oldest, a capped type's
   * slots in use, the iterator age of its records), written after each invocation as CloudWatch
   * Embedded Metric Format lines on stdout, under the namespace `troupe` with this service name;
   * `troupe inspect` reads them as metrics, and `troupe dev` from its functions' output. `false`
   * writes none.
   * @default { service: the table name }
   */
  metrics?: false | { service?: string }
}

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<KinesisBatchResponse | AskAnswer | { troupe: 'ticked' }>

/**
 * Makes the handler. Call it at module scope, so the clients and the system are made once
 * per execution environment.
 *
 * @example
 * // host.ts, bundled and deployed by `troupe deploy`
 * import { createLambdaHandler } from 'troupe/lambda'
 * export const handler = createLambdaHandler({ actors: [PageView, PageStats] })
 */
export function createLambdaHandler(options: LambdaHostOptions): LambdaHandler {
  const tableName = options.tableName ?? process.env.TROUPE_TABLE
  if (!tableName) throw new ConfigError('createLambdaHandler: give tableName, or set TROUPE_TABLE in the function environment')
  const stream = options.router?.defaultStream ?? options.stream ?? process.env.TROUPE_STREAM
  // The HTTP/1.1 handler: Kinesis's default HTTP/2 one is refused by local endpoints, and works no better on AWS for these calls.
  // cacheMiddleware: each command's middleware stack is resolved once per environment, not per
  // request; nothing adds middleware to these clients, which no one else holds.
  const kinesis = options.kinesis ?? new KinesisClient({ requestHandler: new NodeHttpHandler(), cacheMiddleware: true })
  const dynamodb = options.dynamodb ?? new DynamoDBClient({ cacheMiddleware: true })
  const margin = options.safetyMarginMs ?? 2_000
  const envLevel = process.env.TROUPE_LOG_LEVEL
  const rateText = process.env.TROUPE_TRACE_SAMPLE_RATE
  const envRate = rateText === undefined || rateText === '' ? undefined : Number(rateText)
  if (envRate !== undefined && !(envRate >= 0 && envRate <= 1)) throw new ConfigError(`TROUPE_TRACE_SAMPLE_RATE must be a number from 0 to 1, got ${JSON.stringify(rateText)}`)
  const system = new AwsSystem({
    // The function's configuration may set the log level (troupe dev passes its --log-level) and the trace sample rate.
    ...(envLevel && isLogLevel(envLevel) ? { logLevel: envLevel } : {}),
    ...(envRate !== undefined ? { traceSampleRate: envRate } : {}),
    ...options,
    ...(stream ? { stream } : {}),
    tableName,
    kinesis,
    dynamodb,
    consume: false,
    timers: false,
  })

  const metrics = options.metrics === false ? undefined : new ActorMetrics()
  const service = (options.metrics === false ? undefined : options.metrics?.service) ?? tableName
  if (metrics) system.on(metrics.listener)
  let requestsBefore = system.requests.snapshot()
  /** What this invocation counted, as EMF lines: written straight to stdout, as CloudWatch reads them whole. */
  const writeMetrics = () => {
    if (!metrics) return
    const requests = system.requests.snapshot()
    const lines = emfLines(service, Date.now(), metrics.take(), requestsSince(requests, requestsBefore), system.backlog.take())
    requestsBefore = requests
    if (lines.length !== 0) process.stdout.write(`${lines.join('\n')}\n`)
  }

  const deadlineOf = (context: LambdaContext) => {
    if (typeof context?.getRemainingTimeInMillis !== 'function') throw new TroupeError('TROUPE_BAD_INVOCATION', "the handler's second argument is no Lambda context: it has no getRemainingTimeInMillis()")
    return Date.now() + Math.max(0, context.getRemainingTimeInMillis() - margin)
  }

  async function batch(event: KinesisStreamEvent, context: LambdaContext): Promise<KinesisBatchResponse> {
    // One shard's records, in order (batch-shape.ts): a batch a mapping never sends is refused whole.
    const { stream, shardId } = checkBatchShape(event.Records)
    const deadline = deadlineOf(context)
    const records = event.Records.map((r) => {
      const arrivedAt = arrivalMs(r.kinesis?.approximateArrivalTimestamp)
      return { sequenceNumber: String(r.kinesis?.sequenceNumber), data: r.kinesis?.data, ...(arrivedAt !== undefined ? { arrivedAt } : {}) }
    })
    const { failedFrom } = await system.host.handle({ stream, shardId, records, deadline })
    return { batchItemFailures: failedFrom === undefined ? [] : [{ itemIdentifier: failedFrom }] }
  }

  async function ask(invocation: AskInvocation, context: LambdaContext): Promise<AskAnswer> {
    const data = invocation.envelope
    const decoded = (options.codec ?? defaultRecordCodec).decode(data)
    if (!decoded.ok) throw new TroupeError('TROUPE_BAD_INVOCATION', `the ask invocation carries no readable message: ${decoded.reason}`)
    const receipt = await system.host.handleDirect(decoded.envelope, deadlineOf(context), invocation.after, invocation.stream, invocation.keepReceipt === true)
    if (receipt === undefined || (receipt.status !== 'done' && receipt.status !== 'dead' && receipt.status !== 'filtered')) {
      return { troupe: 'answer', status: 'unfinished', reason: `message ${decoded.envelope.id} for ${decoded.envelope.type} did not finish in this invocation` }
    }
    const error = receipt.error && { name: receipt.error.name, message: receipt.error.message }
    if (receipt.status === 'done') return { troupe: 'answer', status: 'done', ...(receipt.reply !== undefined ? { reply: receipt.reply } : {}), ...(error ? { error } : {}) }
    return { troupe: 'answer', status: receipt.status, ...(error ? { error } : {}) }
  }

  async function invoked(event: unknown, context: LambdaContext): ReturnType<LambdaHandler> {
    // A message from outside that carries no trace context runs under this invocation's X-Ray trace.
    system.host.outsideTrace = xrayTrace(process.env._X_AMZN_TRACE_ID)
    if (isKinesisEvent(event)) return batch(event, context)
    if (isAskInvocation(event)) return ask(event, context)
    if (isTick(event)) {
      await system.fireDueTimers(deadlineOf(context))
      await system.transport.flush()
      return { troupe: 'ticked' }
    }
    const keys = event !== null && typeof event === 'object' ? Object.keys(event).slice(0, 5).join(', ') : typeof event
    const records = (event as { Records?: unknown } | null)?.Records
    // Records, but none of Kinesis: say what came (an empty list, or another source's).
    const source = Array.isArray(records) ? (records.length === 0 ? ': an empty list of them' : ` from ${JSON.stringify((records[0] as { eventSource?: unknown } | null)?.eventSource ?? 'no eventSource')}`) : ''
    throw new TroupeError('TROUPE_BAD_INVOCATION', `a troupe function takes a Kinesis batch, an ask or a tick; this event has ${keys || 'nothing'}${source}`)
  }

  return async (event, context) => {
    try {
      return await invoked(event, context)
    } finally {
      writeMetrics()
    }
  }
}
