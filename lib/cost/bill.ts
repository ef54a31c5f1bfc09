// Usage times prices: dollars per item, per service, per million messages, and apart from them
// what a deployment pays whether messages flow or not (shard hours, the tick).
import type { PricesInUse } from './price-book.js'
import type { PriceName, RegionPrices } from './prices.js'
import { lambdaUsage, NO_USAGE, type LambdaModel, type Usage } from './usage.js'

/** The DynamoDB store's timer shards by default: a tick Queries each. */
const DEFAULT_TIMER_SHARDS = 8

/** A month as AWS prices hours: 730. */
export const HOURS_PER_MONTH = 730
/** troupe's tick (an EventBridge rule, `rate(1 minute)`) invokes the host once a minute. */
export const TICKS_PER_MONTH = HOURS_PER_MONTH * 60

export type Service = 'Kinesis' | 'DynamoDB' | 'Lambda' | 'S3'

export interface CostLine {
  service: Service
  item: PriceName
  units: number
  usd: number
}

const ITEMS: [keyof Usage, Service, (p: RegionPrices, model: Pick<LambdaModel, 'architecture'>) => PriceName][] = [
  ['kinesisPutPayloadUnits', 'Kinesis', () => 'kinesis.putPayloadUnit'],
  ['dynamodbWriteRequestUnits', 'DynamoDB', () => 'dynamodb.writeRequestUnit'],
  ['dynamodbReadRequestUnits', 'DynamoDB', () => 'dynamodb.readRequestUnit'],
  ['lambdaInvocations', 'Lambda', () => 'lambda.request'],
  ['lambdaGbSeconds', 'Lambda', (_p, m) => (m.architecture === 'x86_64' ? 'lambda.gbSecond.x86_64' : 'lambda.gbSecond.arm64')],
  ['s3PutRequests', 'S3', () => 's3.putRequest'],
  ['s3GetRequests', 'S3', () => 's3.getRequest'],
  ['s3GbMonths', 'S3', () => 's3.gbMonth'],
]

/** What a usage costs, one line per item used. */
export function priceUsage(usage: Usage, prices: PricesInUse, model: Pick<LambdaModel, 'architecture'>): CostLine[] {
  const lines: CostLine[] = []
  for (const [field, service, name] of ITEMS) {
    const units = usage[field]
    if (units === 0) continue
    const item = name(prices.prices, model)
    const p = prices.prices[item]
    lines.push({ service, item, units, usd: (units * p.usd) / p.per })
  }
  return lines
}

/** Lines scaled to a million messages: dollars per million by service, and their sum. */
export function perMillion(lines: readonly CostLine[], messages: number): { usd: number; byService: Partial<Record<Service, number>> } {
  const byService: Partial<Record<Service, number>> = {}
  let usd = 0
  if (messages <= 0) return { usd, byService }
  for (const l of lines) {
    const x = (l.usd / messages) * 1e6
    byService[l.service] = (byService[l.service] ?? 0) + x
    usd += x
  }
  return { usd, byService }
}

/** What runs whether messages flow or not. */
export interface Standing {
  /** Provisioned shards over every stream. */
  shards: number
  /** The host's tick: one invocation a minute, at the model's duration. @default true */
  tick?: boolean
  /**
   * Read units a tick spends looking for due timers: one strongly consistent Query per timer
   * shard, each at least a unit. @default 8 (the DynamoDB store's `timerShards`)
   */
  tickReadUnits?: number
}

/** A month of standing costs: shard hours, and the tick's invocations. */
export function fixedMonthly(standing: Standing, prices: PricesInUse, model: LambdaModel): CostLine[] {
  const lines: CostLine[] = []
  const shardHours = standing.shards * HOURS_PER_MONTH
  if (shardHours > 0) lines.push({ service: 'Kinesis', item: 'kinesis.shardHour', units: shardHours, usd: (shardHours * prices.prices['kinesis.shardHour'].usd) / prices.prices['kinesis.shardHour'].per })
  if (standing.tick !== false) {
    const ticks = lambdaUsage(TICKS_PER_MONTH, model)
    const usage = { ...NO_USAGE, ...ticks, dynamodbReadRequestUnits: TICKS_PER_MONTH * (standing.tickReadUnits ?? DEFAULT_TIMER_SHARDS) }
    lines.push(...priceUsage(usage, prices, model))
  }
  return lines
}

/** The sum of some lines. */
export function total(lines: readonly CostLine[]): number {
  return lines.reduce((n, l) => n + l.usd, 0)
}
