// Dollars for the aws suite: each rep's counted units (Kinesis PUT payload units and DynamoDB
// request units, counted per request by troupe's RequestCounter) and its host invocations, priced
// with troupe's price book (lib/cost, us-east-1 list prices) the way `troupe inspect cost` prices
// a deployment. Per million messages (W4S: per million sagas), and a month's standing costs apart.
import { fixedMonthly, perMillion, priceUsage, total } from '../lib/cost/bill.js'
import { choosePrices } from '../lib/cost/price-book.js'
import { DEFAULT_LAMBDA, lambdaUsage, NO_USAGE, type LambdaModel } from '../lib/cost/usage.js'
import { SHARDS } from './systems/aws-settings.js'

/** The prices of every figure of the bench. */
export const BENCH_PRICES = choosePrices({ region: 'us-east-1' })

/** How the host's invocations were known: measured in the Lambda path, or modelled. */
export interface Invocations {
  /** Host invocations per message (or per saga). */
  perMessage: number
  /** Billed ms of one invocation. */
  msPerInvocation: number
  /** True when both came from running the host as a Lambda (troupe-lambda); else a model. */
  measured: boolean
}

/**
 * Invocations a Lambda deployment would make for what an in-process consumer did: each batch it
 * handled at least once, and no invocation carries more than the mapping's batch size
 * (`troupe deploy`'s 100 records), at the assumed duration (lib/cost/usage.ts).
 */
export function modelledInvocations(batches: number, records: number, messages: number, model: LambdaModel = DEFAULT_LAMBDA): Invocations {
  return { perMessage: Math.max(batches, Math.ceil(records / model.batchSize)) / messages, msPerInvocation: model.msPerInvocation, measured: false }
}

/** Units per message of a rep, as costMetrics (systems/aws-cost.ts) writes them. */
export interface UnitsPerMessage {
  kinesis_put_units_per_msg: number
  dynamodb_wru_per_msg: number
  dynamodb_rru_per_msg: number
}

/**
 * A rep's dollars: per million messages in all and by service, and the monthly standing cost of
 * the bench's stream ({@link SHARDS} shards) with the tick.
 */
export function repDollars(units: UnitsPerMessage, invocations: Invocations, model: LambdaModel = DEFAULT_LAMBDA): Record<string, number> {
  const million = 1_000_000
  const usage = {
    ...NO_USAGE,
    kinesisPutPayloadUnits: units.kinesis_put_units_per_msg * million,
    dynamodbWriteRequestUnits: units.dynamodb_wru_per_msg * million,
    dynamodbReadRequestUnits: units.dynamodb_rru_per_msg * million,
    ...lambdaUsage(invocations.perMessage * million, { ...model, msPerInvocation: invocations.msPerInvocation }),
  }
  const per = perMillion(priceUsage(usage, BENCH_PRICES, model), million)
  return {
    usd_per_million_msgs: round(per.usd),
    usd_kinesis_per_million_msgs: round(per.byService.Kinesis ?? 0),
    usd_dynamodb_per_million_msgs: round(per.byService.DynamoDB ?? 0),
    usd_lambda_per_million_msgs: round(per.byService.Lambda ?? 0),
    lambda_invocations_per_msg: round(invocations.perMessage),
    lambda_ms_per_invocation: round(invocations.msPerInvocation),
    lambda_measured: invocations.measured ? 1 : 0,
    usd_fixed_per_month: round(total(fixedMonthly({ shards: SHARDS }, BENCH_PRICES, model))),
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6
}
