// Actor state in the DynamoDB table (see dynamodb.ts for the whole table): one item per actor
// instance, so instances spread over partitions and a turn costs one GetItem and one conditional
// PutItem (`v` is the optimistic-concurrency version). `sk` is the constant `state` so that items
// belonging to the same instance (an outbox that spills over, a dedupe set) can later sit beside it
// under the same `pk`. In `<type>`, `%` and `#` are escaped (%25, %23) so `a#b`/`c` and `a`/`b#c`
// never share a key; `<key>` is the last part and kept as is. The state is the superjson text the
// runtime gives, never re-encoded; `sv` is the version of the actor's code whose shape it has
// (absent: 1). A `pk` longer than DynamoDB allows is a SHA-256 under `statex#`.
// The one Scan is `scan()`, for inspection (listing a type's instances page by page).

import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
  type PutItemCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb'
import { ConfigError, ItemTooLargeError, StoreConflictError } from '../core/errors.js'
import { isWellFormed, quoted } from '../core/validate.js'
import type { StateStore, StoredInstance } from './index.js'
import { DYNAMODB_MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, TableAccess, errorName, isTooLarge, itemBytes, sha256, type DynamoDBStoreOptions } from './dynamodb-table.js'

const STATE_SK = 'state'

/** Actor state in DynamoDB: one item per instance, written with a conditional PutItem on its version. */
export class DynamoDBStateStore implements StateStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async get(type: string, key: string): Promise<StoredInstance | undefined> {
    const out = await this.table.send((c) =>
      c.send(new GetItemCommand({ TableName: this.table.name, Key: stateKey(type, key), ConsistentRead: this.table.consistentRead })),
    )
    return out.Item && toInstance(out.Item)
  }

  /**
   * Loads many instances in as few requests as DynamoDB allows (BatchGetItem, 100 keys a call, four
   * calls at once, unprocessed keys retried with backoff). Answers in the order asked, `undefined` where none.
   */
  async getMany(refs: readonly { type: string; key: string }[]): Promise<(StoredInstance | undefined)[]> {
    const byPk = new Map<string, Record<string, AttributeValue>>()
    for (const r of refs) {
      const k = stateKey(r.type, r.key)
      byPk.set(k.pk.S, k)
    }
    const found = new Map<string, StoredInstance>()
    for (const item of await this.table.batchGet([...byPk.values()], 'keys')) found.set(item.pk!.S!, toInstance(item))
    return refs.map((r) => found.get(stateKey(r.type, r.key).pk.S))
  }

  async put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined, expectedUpdatedAt?: number): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...stateKey(type, key),
      // The names again, readable, for listing a type's instances (a hashed pk hides them).
      t: { S: type },
      k: { S: key },
      state: { S: value.state },
      v: { N: String(value.version) },
      at: { N: String(value.updatedAt) },
    }
    // The state's version, absent for version 1 (and on every item written before versions).
    if (value.stateVersion !== undefined) item.sv = { N: String(value.stateVersion) }
    if (value.meta !== undefined) item.m = { S: value.meta }
    if (value.expiresAt !== undefined) item.ttl = { N: String(Math.ceil(value.expiresAt / 1000)) }
    const bytes = itemBytes(item)
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw new ItemTooLargeError('state', describe(type, key), bytes)
    const condition: Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
          }
    if (expectedVersion !== undefined && expectedUpdatedAt !== undefined) {
      condition.ConditionExpression += ' AND #at = :at'
      condition.ExpressionAttributeNames!['#at'] = 'at'
      condition.ExpressionAttributeValues![':at'] = { N: String(expectedUpdatedAt) }
    }
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...condition })))
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') throw new StoreConflictError(`${type}#${key}`, expectedVersion)
      if (isTooLarge(e)) throw new ItemTooLargeError('state', describe(type, key), bytes)
      throw e
    }
  }

  async delete(type: string, key: string): Promise<void> {
    await this.table.send((c) => c.send(new DeleteItemCommand({ TableName: this.table.name, Key: stateKey(type, key) })))
  }

  /**
   * One page of a type's instances, for inspection: a Scan filtered on the type, read until
   * `limit` instances are found or the table ends, never more than one page in memory.
   * `after` is the `next` of the page before; `next` is undefined on the last page.
   */
  async scan(type: string | undefined, options: { limit?: number; after?: string; search?: string } = {}): Promise<StatePage> {
    const limit = Math.max(1, options.limit ?? 50)
    const items: StatePage['items'] = []
    let start = options.after === undefined ? undefined : cursorKey(options.after)
    do {
      const out = await this.table.send((c) =>
        c.send(new ScanCommand({
          TableName: this.table.name,
          Limit: limit - items.length,
          ConsistentRead: this.table.consistentRead,
          ...scanFilter(type, options.search),
          ...(start ? { ExclusiveStartKey: start } : {}),
        })),
      )
      for (const item of out.Items ?? []) items.push({ type: item.t?.S ?? '', key: item.k?.S ?? '', stored: toInstance(item) })
      start = out.LastEvaluatedKey
    } while (start && items.length < limit)
    return { items, ...(start ? { next: Buffer.from(JSON.stringify(start)).toString('base64url') } : {}) }
  }
}

/** The key a page's `next` holds; anything else is refused, naming it, before it reaches DynamoDB. */
function cursorKey(after: string): Record<string, AttributeValue> {
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'))
  } catch {
    key = undefined
  }
  const k = key as { pk?: { S?: unknown }; sk?: { S?: unknown } } | undefined
  if (typeof k?.pk?.S !== 'string' || typeof k.sk?.S !== 'string') throw new ConfigError(`after: ${JSON.stringify(after)} is not a cursor of this listing; pass the 'next' of the page before`)
  return key as Record<string, AttributeValue>
}

function scanFilter(type: string | undefined, search: string | undefined): Pick<ScanCommandInput, 'FilterExpression' | 'ExpressionAttributeValues'> {
  const conditions = ['sk = :sk', type === undefined ? 'attribute_exists(t)' : 't = :t']
  const values: Record<string, AttributeValue> = { ':sk': { S: STATE_SK } }
  if (type !== undefined) values[':t'] = { S: type }
  if (search !== undefined && search !== '') {
    conditions.push('contains(k, :s)')
    values[':s'] = { S: search }
  }
  return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values }
}

/** A page of instances read from the table. */
export interface StatePage {
  items: { type: string; key: string; stored: StoredInstance }[]
  /** Pass as `after` for the next page; undefined on the last. */
  next?: string
}

function stateKey(type: string, key: string): { pk: { S: string }; sk: { S: string } } {
  // Every way in (a pause, a state read, an eviction) meets this: a lone surrogate would name another key's item.
  if (!isWellFormed(key)) throw new ConfigError(`the key of ${type} must be well-formed UTF-16 (no lone surrogate, which DynamoDB cannot keep apart from another key), got ${quoted(key)}`)
  const escapedType = type.replace(/%/g, '%25').replace(/#/g, '%23')
  const readable = `state#${escapedType}#${key}`
  const pk = Buffer.byteLength(readable) <= MAX_PARTITION_KEY_BYTES ? readable : `statex#${sha256(`${escapedType}#${key}`).toString('hex')}`
  return { pk: { S: pk }, sk: { S: STATE_SK } }
}

function toInstance(item: Record<string, AttributeValue>): StoredInstance {
  const instance: StoredInstance = { state: item.state?.S ?? '', version: Number(item.v?.N), updatedAt: Number(item.at?.N) }
  if (item.sv !== undefined) {
    // Only a positive whole number is a version: anything else (written by another tool) is named, never read as 1.
    const n = item.sv.N
    if (n !== undefined && /^[1-9][0-9]{0,15}$/.test(n) && Number.isSafeInteger(Number(n))) instance.stateVersion = Number(n)
    else instance.unreadableVersion = JSON.stringify(item.sv)
  }
  if (item.m?.S !== undefined) instance.meta = item.m.S
  if (item.ttl?.N !== undefined) instance.expiresAt = Number(item.ttl.N) * 1000
  return instance
}

/** `type#key` for messages, with a very long key cut short. */
function describe(type: string, key: string): string {
  return `${type}#${key.length > 120 ? `${key.slice(0, 120)}… (${key.length} characters)` : key}`
}
