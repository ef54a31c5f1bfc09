// The table both DynamoDB stores use (see dynamodb.ts for its items): `pk`/`sk` strings, the
// `byDue` local index the timers are read through, on-demand billing, and TTL on `ttl`.

import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { TroupeError } from '../core/errors.js'
import { errorName, sleep } from './dynamodb-table.js'

/** The local index on `pk` + `due` that sorts each timer shard by due time. */
export const DUE_INDEX = 'byDue'

/**
 * Lets DynamoDB delete expired receipts and deleted instances' items (the `ttl` attribute, epoch seconds).
 * Readers filter what TTL has not deleted yet, so a table without it (dynalite has no TTL) is
 * only bigger, never wrong.
 */
async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }))
  } catch (e) {
    // Already on (ValidationException), or an emulator without the operation.
    if (!['ValidationException', 'UnknownOperationException', 'UnrecognizedClientException'].includes(errorName(e) ?? '')) throw e
  }
}

/** The table the stores expect: `pk`/`sk` strings, the `byDue` local index, on-demand billing. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'due', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'due', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  }
}

export interface CreateTableOptions {
  /** Succeed when the table exists already (its keys are not checked). @default true */
  ifNotExists?: boolean
  /** How long to wait for the table to become ACTIVE. @default 60_000 */
  timeoutMs?: number
}

/**
 * Creates the table the DynamoDB stores use and waits until it is ACTIVE.
 *
 * @example
 * await createTable(dynamodb, 'troupe')
 * const stores = dynamodbStores({ client: dynamodb, tableName: 'troupe' })
 */
export async function createTable(client: DynamoDBClient, tableName: string, options: CreateTableOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)))
  } catch (e) {
    if (!(errorName(e) === 'ResourceInUseException' && (options.ifNotExists ?? true))) throw e
  }
  const deadline = Date.now() + timeoutMs
  for (let wait = 10; ; wait = Math.min(wait * 2, 1_000)) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (out.Table?.TableStatus === 'ACTIVE') return enableTtl(client, tableName)
    if (Date.now() + wait > deadline) {
      throw new TroupeError('TROUPE_STORE_NO_TABLE', `DynamoDB table ${tableName} is still ${out.Table?.TableStatus} after ${timeoutMs} ms`)
    }
    await sleep(wait)
  }
}
