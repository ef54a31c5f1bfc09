// What an AwsSystem is made with (aws-system.ts): its clients and table, where its messages go
// and how they are put, whether this process runs the turns and fires the timers, and how `ask`
// reaches the host.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { ActorClass } from '../core/actor.js'
import type { Clock } from '../core/clock.js'
import type { Filter } from '../core/filter.js'
import type { Logger, LogLevel } from '../core/logger.js'
import type { ClaimCheckOptions } from '../routing/claim-check.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { RouterOptions } from '../routing/router.js'
import type { Ordering } from '../transport/partition-queue.js'
import type { BacklogMetricsOptions } from './backlog-metrics.js'
import type { HostInvoker } from './lambda-invoker.js'
import type { RequestCounter } from './request-counter.js'
import type { ShardConsumerOptions } from './shard-consumer.js'

export interface AwsSystemOptions {
  actors: readonly ActorClass[]
  filters?: readonly Filter[]
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  /** The table made by `createTable` (state, timers, receipts, dead letters, leases). */
  tableName: string
  /** The stream every message goes to, unless `router` says otherwise. */
  stream?: string
  /** Streams per actor type and priority; `defaultStream` replaces `stream`. */
  router?: Omit<RouterOptions, 'isKeyed'>
  /**
   * Run the actors' turns in this process, reading every shard (a container, `troupe dev`).
   * False when a Lambda is the host and this process only tells, asks and reads.
   * @default true
   */
  consume?: boolean
  /**
   * How `idle()` waits when this process does not consume (`consume: false`) and the host runs
   * elsewhere, as under `troupe dev`'s local Lambda: resolves once that host has nothing left.
   */
  idleHost?: () => Promise<void>
  /**
   * Wait between reads of a shard that had nothing new, in ms (at least 250: Kinesis allows five
   * reads a second per shard, and one is kept for a record this process puts on a shard it reads,
   * which is read at once). Lambda's event source mapping polls once a second. @default 1000
   */
  pollMs?: number
  /**
   * Fire due timers from this process, on its own clock. False in a Lambda, which fires them
   * when a scheduled tick invokes it (`fireDueTimers`). @default the value of `consume`
   */
  timers?: boolean
  /**
   * How often this process looks for due timers that another process set, in ms (its own turns'
   * timers wake it at once). Each look is one Query per timer shard. @default 10_000
   */
  timerTickMs?: number
  /**
   * With `consume`: write each actor type's backlog as this process's host sees it, the gauges the
   * Lambda host writes after each invocation (`Parked`, `OldestParkedAgeMs`, `Running`,
   * `IteratorAgeMs`; README, "Inspecting a running system"), every `everyMs` and once more at stop,
   * as CloudWatch EMF lines (namespace `troupe`, dimensions `Service` and `Actor`) to `write`:
   * stdout unless given, where the CloudWatch agent or a log router that reads EMF makes them
   * metrics. Off unless set (`false` too): a process's stdout is its own. (`createLambdaHandler`'s
   * `metrics` is the Lambda host's own, written per invocation.)
   */
  metrics?: false | BacklogMetricsOptions
  /** Settings of the shard consumer: batch size, lease length, how often checkpoints are written. */
  consumer?: Pick<ShardConsumerOptions, 'batchSize' | 'leaseMs' | 'checkpointEveryMs' | 'startingPosition' | 'owner'>
  /** How long a `tell` waits for others to share its PutRecords call, in ms. @default 10 */
  lingerMs?: number
  /**
   * Per-key order of what this system puts on the stream. `strict` keeps FIFO per instance even
   * when PutRecords fails some records of a call, at one record per key per call; a key's waiting
   * run goes as one aggregate record (see `aggregate`), so a hot key still pays one entry per run.
   * `batched` lets a key's records share a call: a fraction of the calls, but a record that
   * Kinesis fails and that is resent may arrive after a later one of its key.
   * @default 'strict'
   */
  ordering?: Ordering
  /**
   * Send a key's waiting messages as one aggregate record (`strict` ordering). Turn it off while
   * hosts of a version that cannot read aggregate records still consume the stream.
   * @default true
   */
  aggregate?: boolean
  codec?: RecordCodec
  /** @default 24 h */
  receiptTtlMs?: number
  /** Keep receipts for every message, not only those asked for. Each costs a DynamoDB write. @default false */
  receiptsForAll?: boolean
  /**
   * The share of requests whose every message keeps a receipt and a trace link in the table, so
   * `troupe inspect trace` shows them whole on any host (decided by correlation id, alike
   * everywhere; each kept message is a DynamoDB write). Retried and dead-lettered messages keep
   * theirs at any rate. @default 0, or TROUPE_TRACE_SAMPLE_RATE in a Lambda host (troupe dev sets 1)
   */
  traceSampleRate?: number
  /** Instances run at once within a batch; also the host's commits in flight at once, across the batches it runs. @default 32 */
  concurrency?: number
  clock?: Clock
  random?: () => number
  /** @default true unless NODE_ENV is "production" */
  checkSerializable?: boolean
  logLevel?: LogLevel
  /**
   * Where the system's lines go, `ctx.log`'s included. A Powertools for AWS Lambda Logger fits
   * through `fromPowertools(logger)` from `troupe/lambda` (docs/logging.md).
   * @default JSON lines on stderr, at `logLevel` (which a given logger ignores: it has its own)
   */
  logger?: Logger
  /**
   * Counts every request the system's clients send (attached to both as SDK middleware); the
   * counts appear in `inspect().cost`. Pass your own to read it elsewhere too. A client counts
   * for one counter, the last attached: two systems on the same clients count into the second's,
   * so give each system clients of its own, or both the same counter.
   * @default a new counter
   */
  requests?: RequestCounter
  /**
   * `ask` invokes the host function directly (Lambda `Invoke`, RequestResponse) with the
   * message, instead of putting it on the stream and waiting for the receipt: the host runs the
   * turn under the same conditional commit as the stream path and answers with the reply.
   * Make it with `lambdaInvoker(lambdaClient, functionName)`; locally, point the client at
   * `startLocalInvokeServer`. An answer of `unfinished` (the turn
   * could not finish in that invocation) puts the message on the stream, where the host finishes
   * it (a copy of one applied is not applied again), and the ask waits for its receipt for the rest
   * of its time. A function error rejects (`TROUPE_INVOKE_FAILED`), naming the function and the
   * message. No answer in the ask's time (`AskTimeoutError`), or a request that broke off
   * (`TROUPE_INVOKE_UNANSWERED`), puts the message on the stream too: it applies once, whether
   * or not the function ran it, and its receipt says how it ended. A `tell` this
   * system made to the same instance before the `ask` is applied first: the invocation names
   * where the tell went in its shard, and the host waits for the instance to pass it (or answers
   * `unfinished`, and the ask follows the tell on the stream).
   */
  invoke?: HostInvoker
  /**
   * The claim check: bodies larger than `aboveBytes` (default 256 KiB) go to a payload store and
   * travel as a reference, fetched back before their turn (README, "Large messages"). `store`
   * defaults to DynamoDB chunks in this system's table. Every process of the app (tellers and
   * hosts) must have the same setting: a host without it dead-letters the references it gets.
   */
  payloads?: Partial<ClaimCheckOptions>
}
