// The list prices troupe's cost figures use, dated, each with the page it was read from. Prices
// change (DynamoDB on-demand halved in November 2024): a user passes a price file of their own
// (`troupe inspect cost --prices file.json`, same shape as PRICES below) or single prices
// (`--price dynamodb.writeRequestUnit=0.7`), see price-book.ts and docs/cost.md.
//
// Only us-east-1 was read price by price. us-east-2 and us-west-2 carry the same list prices for
// every item here (the Step Functions and Kinesis pages show them equal; DynamoDB, Lambda and S3
// have long listed the three alike): they are copies of us-east-1, marked so in `basis`. Any other
// region needs a price file.

/** One price: `usd` per `per` of `unit`. */
export interface Price {
  usd: number
  /** How many units `usd` buys: 1_000_000 for "per million requests". */
  per: number
  unit: string
  /** The page the price was read from. */
  source: string
}

/** The items troupe prices, by name (the name is what `--price name=usd` sets). */
export const PRICE_NAMES = [
  'kinesis.shardHour',
  'kinesis.putPayloadUnit',
  'dynamodb.writeRequestUnit',
  'dynamodb.readRequestUnit',
  'lambda.request',
  'lambda.gbSecond.arm64',
  'lambda.gbSecond.x86_64',
  's3.putRequest',
  's3.getRequest',
  's3.gbMonth',
] as const
export type PriceName = (typeof PRICE_NAMES)[number]

export type RegionPrices = Record<PriceName, Price>

export interface PriceBook {
  /** When the prices were read (YYYY-MM-DD). */
  date: string
  currency: 'USD'
  regions: Record<string, RegionPrices & { basis?: string }>
}

const KINESIS = 'https://aws.amazon.com/kinesis/data-streams/pricing/'
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/'
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/'
const S3 = 'https://aws.amazon.com/s3/pricing/'

const US_EAST_1: RegionPrices = {
  // Provisioned mode. Reading records (GetRecords) is free; a Lambda event source mapping reads for nothing.
  'kinesis.shardHour': { usd: 0.015, per: 1, unit: 'shard hour', source: KINESIS },
  // A PUT payload unit is each started 25 KB of a record.
  'kinesis.putPayloadUnit': { usd: 0.014, per: 1_000_000, unit: 'PUT payload unit', source: KINESIS },
  // After the cut of 1 November 2024 (was $1.25 and $0.25). Standard table class, single region.
  'dynamodb.writeRequestUnit': { usd: 0.625, per: 1_000_000, unit: 'write request unit (1 KB)', source: DYNAMODB },
  'dynamodb.readRequestUnit': { usd: 0.125, per: 1_000_000, unit: 'read request unit (4 KB strongly consistent, 8 KB eventually)', source: DYNAMODB },
  'lambda.request': { usd: 0.2, per: 1_000_000, unit: 'invocation', source: LAMBDA },
  // The first tier (the first 7.5 billion arm64 / 6 billion x86 GB-seconds a month).
  'lambda.gbSecond.arm64': { usd: 0.0000133334, per: 1, unit: 'GB-second (arm64)', source: LAMBDA },
  'lambda.gbSecond.x86_64': { usd: 0.0000166667, per: 1, unit: 'GB-second (x86_64)', source: LAMBDA },
  // S3 Standard: PUT, COPY, POST, LIST; GET, SELECT; storage for the first 50 TB.
  's3.putRequest': { usd: 0.005, per: 1_000, unit: 'PUT request', source: S3 },
  's3.getRequest': { usd: 0.0004, per: 1_000, unit: 'GET request', source: S3 },
  's3.gbMonth': { usd: 0.023, per: 1, unit: 'GB-month (Standard)', source: S3 },
}

/**
 * The built-in price book. Free tiers are left out: they are per account, not per workload.
 */
export const PRICES: PriceBook = {
  date: '2026-12-05',
  currency: 'USD',
  regions: {
    'us-east-1': US_EAST_1,
    'us-east-2': { ...US_EAST_1, basis: 'the us-east-1 list prices' },
    'us-west-2': { ...US_EAST_1, basis: 'the us-east-1 list prices' },
  },
}

/** The region priced when none is named. */
export const DEFAULT_PRICE_REGION = 'us-east-1'
