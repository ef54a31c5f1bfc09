// Dollars per million messages from what troupe counted (`inspect().cost`, or the metrics the
// Lambda hosts wrote): what scales with messages, priced per million, and apart from it what a
// month of the deployment costs with no messages at all. What `troupe inspect cost` prints.
import type { ApiCounts } from '../metrics/emf.js'
import { fixedMonthly, perMillion, priceUsage, total, type CostLine, type Service } from './bill.js'
import type { PricesInUse } from './price-book.js'
import { addUsage, DEFAULT_LAMBDA, lambdaUsage, usageOfRequests, type LambdaModel } from './usage.js'

export interface MessageCostOptions {
  prices: PricesInUse
  /** How the host function runs; the rest from troupe deploy's defaults. */
  lambda?: Partial<LambdaModel>
  /** Price no Lambda compute: the turns run in a process of your own (a container). @default false, true when the counts say `compute: 'process'` */
  noLambda?: boolean
  /** Provisioned shards of every stream, for the monthly cost. @default 1 */
  shards?: number
  /** How long S3 keeps a payload (the bucket's lifecycle rule). @default 1 */
  s3RetentionDays?: number
}

export interface MessageCost {
  region: string
  /** The date of the prices used. */
  pricesDate: string
  pricesBasis?: string
  /** Prices set by hand over the book. */
  overridden: string[]
  messages: number
  /** What scales with messages: dollars per million, in all and by service. */
  perMillionMessages: { usd: number; byService: Partial<Record<Service, number>> }
  /** Dollars per million messages of each API billed by its requests (Kinesis puts, DynamoDB, S3); Lambda compute is not an API's. */
  perMillionByApi: Record<string, number>
  /** The counted window's usage, priced. */
  lines: CostLine[]
  /** A month with no messages: shard hours and the tick. */
  fixedMonthly: { usd: number; shards: number; lines: CostLine[] }
  /** What the figures rest on that no count showed, one sentence each. */
  assumptions: string[]
}

/**
 * Prices what troupe counted for `messages` messages.
 *
 * @example
 * const cost = await system.inspect().cost
 * const priced = messageCost(cost, { prices: choosePrices({ region: 'eu-west-1', file }) })
 * console.log(`$${priced.perMillionMessages.usd.toFixed(4)} per million messages, $${priced.fixedMonthly.usd.toFixed(2)} a month`)
 */
export function messageCost(counted: { messages: number; byApi: ApiCounts['byApi']; compute?: 'process' | 'lambda' }, options: MessageCostOptions): MessageCost {
  const model: LambdaModel = { ...DEFAULT_LAMBDA, ...options.lambda }
  const { usage: requests, estimated } = usageOfRequests(counted.byApi, { ...(options.s3RetentionDays !== undefined ? { s3RetentionDays: options.s3RetentionDays } : {}) })
  const assumptions = [...estimated]
  let usage = requests
  // Requests counted by a process that reads its streams are a container's (its leases and
  // checkpoints among them): Lambda compute on top would price two hosts at once.
  const ranInProcess = counted.compute === 'process'
  const noLambda = options.noLambda === true || ranInProcess
  if (noLambda) {
    usage = { ...usage, lambdaInvocations: 0, lambdaGbSeconds: 0 }
    assumptions.push(
      ranInProcess
        ? 'no Lambda compute: the turns ran in the process that counted the requests, which reads its streams itself (a container, troupe dev --host process); for the Lambda deploy, inspect troupe dev on its default host'
        : 'no Lambda compute: the turns ran in a process of your own',
    )
  } else {
    // Records on the stream: a record is at least a PUT payload unit, and carries one message or a run of one key's.
    const records = Math.min(counted.messages, requests.kinesisPutPayloadUnits)
    const invocations = Math.ceil(records / model.batchSize) + requests.lambdaInvocations
    usage = addUsage({ ...usage, lambdaInvocations: 0 }, lambdaUsage(invocations, model))
    assumptions.push(
      `Lambda (not counted by the hosts): one invocation per ${model.batchSize} records (full batches; a quiet stream pays up to one per shard a second) and per ask by Invoke, ${model.msPerInvocation} ms each at ${model.memoryMb} MB ${model.architecture}`,
    )
  }
  const lines = priceUsage(usage, options.prices, model)
  const shards = options.shards ?? 1
  const fixed = noLambda ? fixedMonthly({ shards, tick: false }, options.prices, model) : fixedMonthly({ shards }, options.prices, model)
  assumptions.push(`monthly: ${shards} shard${shards === 1 ? '' : 's'} around the clock${noLambda ? '' : ', the tick once a minute'}`)
  if (options.prices.basis) assumptions.push(`prices of ${options.prices.region} are ${options.prices.basis}`)
  return {
    region: options.prices.region,
    pricesDate: options.prices.date,
    ...(options.prices.basis !== undefined ? { pricesBasis: options.prices.basis } : {}),
    overridden: options.prices.overridden,
    messages: counted.messages,
    perMillionMessages: perMillion(lines, counted.messages),
    perMillionByApi: byApi(counted, options),
    lines,
    fixedMonthly: { usd: total(fixed), shards, lines: fixed },
    assumptions,
  }
}

/** Each API's own usage priced, per million messages (Lambda compute left out: it belongs to no API). */
function byApi(counted: { messages: number; byApi: ApiCounts['byApi'] }, options: MessageCostOptions): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [api, c] of Object.entries(counted.byApi)) {
    const { usage } = usageOfRequests({ [api]: c }, { ...(options.s3RetentionDays !== undefined ? { s3RetentionDays: options.s3RetentionDays } : {}) })
    const lines = priceUsage({ ...usage, lambdaInvocations: 0, lambdaGbSeconds: 0 }, options.prices, DEFAULT_LAMBDA)
    if (lines.length !== 0) out[api] = perMillion(lines, counted.messages).usd
  }
  return out
}
