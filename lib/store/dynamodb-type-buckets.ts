// Types' rate buckets in the troupe table: one item per throttled type (`rate#<type>` / `bucket`)
// holding the bucket's clock (lib/hosts/durable/type-bucket.ts has what it means), and its rate
// for those who read the table. Each change is one UpdateItem whose condition says which side of
// the floor the clock stands on: moving it on is `SET clock = clock + :by` (DynamoDB adds exactly,
// in decimal), so hosts that claim at once are served one after the other and none waits on a
// read; the first claim makes the item. The item is apart from every instance's item: a claim
// never conflicts with a commit.
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import type { BucketRate, TypeBucketStore } from './index.js'
import { TableAccess, errorName, type DynamoDBStoreOptions } from './dynamodb-table.js'

const BUCKET_SK = 'bucket'

export class DynamoDBTypeBuckets implements TypeBucketStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async advance(type: string, byMs: number, floorMs: number, rate: BucketRate): Promise<number | undefined> {
    try {
      // A type's first claim makes its item: a bucket that was never drawn on is full.
      const out = await this.update(type, rate, 'SET #clock = if_not_exists(#clock, :floor) + :by', 'attribute_not_exists(#clock) OR #clock >= :floor', { ':by': num(byMs), ':floor': num(floorMs) }, 'UPDATED_OLD')
      return out?.clock?.N === undefined ? floorMs : Number(out.clock.N)
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return undefined
      throw e
    }
  }

  async restart(type: string, toMs: number, floorMs: number, rate: BucketRate): Promise<boolean> {
    try {
      await this.update(type, rate, 'SET #clock = :to', '#clock < :floor', { ':to': num(toMs), ':floor': num(floorMs) }, 'NONE')
      return true
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return false
      throw e
    }
  }

  async read(type: string): Promise<({ clockMs: number } & BucketRate) | undefined> {
    const out = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: bucketKey(type), ConsistentRead: this.table.consistentRead })))
    const item = out.Item
    if (item?.clock?.N === undefined) return undefined
    return { clockMs: Number(item.clock.N), ratePerSecond: Number(item.rps?.N ?? 0), burst: Number(item.burst?.N ?? 0) }
  }

  private async update(
    type: string,
    rate: BucketRate,
    set: string,
    condition: string,
    values: Record<string, AttributeValue>,
    returnValues: 'UPDATED_OLD' | 'NONE',
  ): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.table.send((c) =>
      c.send(
        new UpdateItemCommand({
          TableName: this.table.name,
          Key: bucketKey(type),
          UpdateExpression: `${set}, #t = :t, #rps = :rps, #burst = :burst`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#clock': 'clock', '#t': 't', '#rps': 'rps', '#burst': 'burst' },
          ExpressionAttributeValues: { ...values, ':t': { S: type }, ':rps': num(rate.ratePerSecond), ':burst': num(rate.burst) },
          ReturnValues: returnValues,
        }),
      ),
    )
    return out.Attributes
  }
}

/** The key of a type's bucket item. Type names are letters, digits, `_`, `-` and `.`: no escaping needed. */
export function bucketKey(type: string): { pk: { S: string }; sk: { S: string } } {
  return { pk: { S: `rate#${type}` }, sk: { S: BUCKET_SK } }
}

function num(n: number): { N: string } {
  return { N: String(n) }
}
