// The same work priced for troupe's alternatives, for the cost table of bench/REPORT.md: AWS
// Lambda durable functions, Step Functions standard workflows, and the hand-written Kinesis +
// Lambda + DynamoDB pipeline (the bench's hand-lambda, modelled where the run has no reps of it).
// Each is a model, with its sources and the assumption it rests on, priced with troupe's price
// book (us-east-1) for what the book has and with the list prices cited below for the rest.
//
// The work: W1, W2 and W2D are a counter update per message (one hot key, 1,000 keys x 5,
// all-distinct keys); W4S is a saga: a fork of 2 children and a join that sums their replies.
// What triggers a workflow (API Gateway, EventBridge Pipes from a stream) is priced for none of
// them; each is given its cheapest natural shape.
import { perMillion, priceUsage } from '../lib/cost/bill.js'
import { DEFAULT_LAMBDA, lambdaUsage, NO_USAGE, type Usage } from '../lib/cost/usage.js'
import { BENCH_PRICES } from './cost.js'

/**
 * Lambda durable functions: $8.00 per million durable operations (starting an execution, each
 * step, each wait), $0.25 per GB of data written (checkpoints), Lambda compute billed as usual.
 * Sources: https://aws.amazon.com/lambda/pricing/ ("Durable Functions"), read through
 * api-evangelist/aws-lambda plans/aws-lambda-plans-pricing.yml (harvested from that page
 * 2026-09-20: "Durable Functions operations … $8.00/M"); AWS's example there prices 1M executions
 * of 4 operations at $32. Data retained ($0.15 per GB-month, same page) is left out: a short
 * saga's checkpoints are a few hundred bytes.
 */
export const DURABLE_FUNCTIONS = { usdPerMillionOperations: 8, usdPerGbWritten: 0.25, source: 'https://aws.amazon.com/lambda/pricing/' } as const

/**
 * Step Functions standard workflows: $0.025 per 1,000 state transitions (us-east-1); "Step
 * Functions counts a state transition each time a step of your workflow is executed".
 * Source: https://aws.amazon.com/step-functions/pricing/
 */
export const STEP_FUNCTIONS = { usdPerMillionTransitions: 25, source: 'https://aws.amazon.com/step-functions/pricing/' } as const

/** A trivial task's billed duration (one DynamoDB call or none, warm): peers' functions do no more. */
const TASK_MS = 10
/** DynamoDB answers in single-digit milliseconds: a request in a sequence costs this much wall time. */
const REQUEST_MS = 5
/** Checkpoint bytes per durable operation: the step's result or the execution's input, JSON. */
const CHECKPOINT_BYTES = 150

export interface PeerCost {
  peer: string
  /** Dollars per million messages (W4S: per million sagas). */
  usd: number
  /** What the figure rests on. */
  assumption: string
  source: string
}

type Work = 'counter' | 'saga'
const workOf = (workload: string): Work | undefined => (workload === 'W4S' ? 'saga' : ['W1', 'W2', 'W2D'].includes(workload) ? 'counter' : undefined)

/** Usage of the price book's items per unit of work, priced per million. */
function priced(perUnit: Partial<Usage>): number {
  const usage = { ...NO_USAGE }
  for (const [k, v] of Object.entries(perUnit) as [keyof Usage, number][]) usage[k] = v * 1_000_000
  return perMillion(priceUsage(usage, BENCH_PRICES, DEFAULT_LAMBDA), 1_000_000).usd
}

/** `invocations` of `ms` each, at troupe deploy's memory and architecture, as usage per unit. */
const lambda = (invocations: number, ms: number) => lambdaUsage(invocations, { ...DEFAULT_LAMBDA, msPerInvocation: ms })

export function durableFunctions(workload: string): PeerCost | undefined {
  const work = workOf(workload)
  if (!work) return undefined
  // A counter update: an execution per message, one step doing DynamoDB UpdateItem ADD (1 write unit).
  // A saga: start, two child steps run in parallel, one step joining them (parallel() may add
  // operations of its own for its branches: this is the least a fork of 2 and a join can be).
  const operations = work === 'counter' ? 2 : 4
  const other = work === 'counter' ? priced({ dynamodbWriteRequestUnits: 1, ...lambda(1, TASK_MS * 2) }) : priced(lambda(1, TASK_MS * 3))
  const usd = operations * DURABLE_FUNCTIONS.usdPerMillionOperations + (operations * CHECKPOINT_BYTES * 1e6 / 1024 ** 3) * DURABLE_FUNCTIONS.usdPerGbWritten + other
  const what = work === 'counter' ? 'an execution per message: start + 1 step (DynamoDB UpdateItem ADD, 1 WRU) = 2 durable operations' : 'start + 2 parallel child steps + 1 joining step = 4 durable operations (the least; parallel() may add its own)'
  return { peer: 'Lambda durable functions', usd, assumption: `${what}, ${CHECKPOINT_BYTES} B written per operation, one invocation of ${work === 'counter' ? TASK_MS * 2 : TASK_MS * 3} ms at ${DEFAULT_LAMBDA.memoryMb} MB ${DEFAULT_LAMBDA.architecture}`, source: DURABLE_FUNCTIONS.source }
}

export function stepFunctions(workload: string): PeerCost | undefined {
  const work = workOf(workload)
  if (!work) return undefined
  // A counter update: one Task state calling DynamoDB UpdateItem directly (no Lambda).
  // A saga: a Parallel state, a Lambda Task in each of its 2 branches, a Lambda Task that joins.
  const transitions = work === 'counter' ? 1 : 4
  const other = work === 'counter' ? priced({ dynamodbWriteRequestUnits: 1 }) : priced(lambda(3, TASK_MS))
  const usd = transitions * STEP_FUNCTIONS.usdPerMillionTransitions + other
  const what = work === 'counter' ? 'an execution per message with 1 Task state (DynamoDB UpdateItem, a direct integration, 1 WRU) = 1 transition' : 'Parallel (1) + a Lambda Task in each of 2 branches (2) + a joining Lambda Task (1) = 4 transitions, 3 invocations of 10 ms'
  return { peer: 'Step Functions standard', usd, assumption: what, source: STEP_FUNCTIONS.source }
}

/**
 * The hand-written pipeline's Lambda: an event source mapping batch of 100 records, each handled
 * in turn with two DynamoDB requests (GetItem, PutItem), so a batch runs 200 requests in sequence.
 */
export const HAND_LAMBDA_MS_PER_INVOCATION = DEFAULT_LAMBDA.batchSize * 2 * REQUEST_MS

/**
 * The hand-written pipeline as a model. A counter: PutRecord per message (1 PUT payload unit),
 * GetItem (strongly consistent, 1 RRU) and PutItem (1 WRU) per record (what bench/systems/hand-lambda.ts
 * does, measured in W1 and W2). A saga: 4 records (the job, 2 children, the join) and a join item
 * (PutItem; each child's UpdateItem ADD with ALL_NEW, the last one sees 2 of 2 and puts the join),
 * no dedupe and no deadline: 4 PUT payload units, 3 WRU.
 */
export function handLambdaModel(workload: string): PeerCost | undefined {
  const work = workOf(workload)
  if (!work) return undefined
  const records = work === 'counter' ? 1 : 4
  const usd = priced({
    kinesisPutPayloadUnits: records,
    dynamodbWriteRequestUnits: work === 'counter' ? 1 : 3,
    dynamodbReadRequestUnits: work === 'counter' ? 1 : 0,
    ...lambda(records / DEFAULT_LAMBDA.batchSize, HAND_LAMBDA_MS_PER_INVOCATION),
  })
  const what =
    work === 'counter'
      ? 'per message: PutRecord (1 PUT payload unit), GetItem consistent (1 RRU) + PutItem (1 WRU)'
      : 'per saga: 4 records (job, 2 children, join), a join item written 3 times (PutItem, 2 UpdateItem ADD), no dedupe, no deadline'
  return { peer: 'hand-written Lambda + DynamoDB (model)', usd, assumption: `${what}; batches of ${DEFAULT_LAMBDA.batchSize} records at ${HAND_LAMBDA_MS_PER_INVOCATION} ms (2 requests of ${REQUEST_MS} ms per record, in turn)`, source: 'bench/systems/hand-lambda.ts' }
}

/** Every peer's cost of a workload, in table order. */
export function peerCosts(workload: string): PeerCost[] {
  return [handLambdaModel(workload), durableFunctions(workload), stepFunctions(workload)].filter((p): p is PeerCost => p !== undefined)
}
