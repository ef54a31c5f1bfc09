// The records of `ctx.once` side effects in the troupe table, one item per message and name:
//
//   item          pk                   sk          attributes
//   side effect   once#<message id>    n#<name>    actor, key (the instance's; absent on older records),
//                                                  st (started | done), res? (superjson), kept? (overflow key),
//                                                  lost? (why a result that ran was not recorded), at, exp (ms), ttl (s),
//                                                  pin (the letter's deadAt) while pinned
//
// A message that dies has its records pinned: a Query of its partition and an UpdateItem per
// record, which sets `exp` to never and removes `ttl`, so a replay of its letter, however late,
// finds them. Its replay unpins them (those a later death pinned stay).
//
// A result is one PutItem; an at-most-once claim is one PutItem on the condition that no live
// record is there, which on failure returns the record that was (no read needed). A read is
// strongly consistent whatever the store's `consistentRead`: a run on another host right after a
// record was written must see it.
// Keys longer than DynamoDB allows are hashed under other prefixes (`oncex#`, `h#`), as receipts'.
import { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { StoreConflictError, TroupeError } from '../core/errors.js'
import { PINNED_UNTIL, type SideEffectRecord, type SideEffectStore } from './index.js'
import { DYNAMODB_MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, TableAccess, errorName, isTooLarge, itemBytes, sha256, type DynamoDBStoreOptions } from './dynamodb-table.js'

type Item = Record<string, AttributeValue>

export class DynamoDBSideEffects implements SideEffectStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async get(messageId: string, name: string, now: number): Promise<SideEffectRecord | undefined> {
    const out = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: sideEffectKey(messageId, name), ConsistentRead: true })))
    return live(out.Item, now)
  }

  async put(record: SideEffectRecord): Promise<void> {
    await this.write(record, undefined)
  }

  async claim(record: SideEffectRecord, now: number): Promise<SideEffectRecord | undefined> {
    try {
      await this.write(record, now)
      return undefined
    } catch (e) {
      if (errorName(e) !== 'ConditionalCheckFailedException') throw e
      // DynamoDB returns the item that failed the condition; an emulator that does not is read.
      const there = live((e as { Item?: Item }).Item, now) ?? (await this.get(record.messageId, record.name, now))
      // The record that failed the condition expired before it could be read: the claim lost to it all the same.
      if (there === undefined) throw new StoreConflictError(`side effect ${record.name} of message ${record.messageId}`, undefined)
      return there
    }
  }

  async pin(messageId: string, deadAt: number): Promise<void> {
    await this.eachRecord(messageId, (Key) =>
      // Only a later death moves a pin: a late copy of an older letter's write leaves it where it is.
      this.updateIf(Key, 'SET #exp = :never, #pin = :deadAt REMOVE #ttl', 'attribute_exists(pk) AND (attribute_not_exists(#pin) OR #pin < :deadAt)', { '#exp': 'exp', '#pin': 'pin', '#ttl': 'ttl' }, { ':never': { N: String(PINNED_UNTIL) }, ':deadAt': { N: String(deadAt) } }),
    )
  }

  async unpin(messageId: string, deadAt: number, expiresAt: number): Promise<void> {
    await this.eachRecord(messageId, (Key) =>
      this.updateIf(Key, 'SET #exp = :exp, #ttl = :ttl REMOVE #pin', '#pin = :deadAt', { '#exp': 'exp', '#pin': 'pin', '#ttl': 'ttl' }, {
        ':exp': { N: String(expiresAt) },
        ':ttl': { N: String(Math.ceil(expiresAt / 1000)) },
        ':deadAt': { N: String(deadAt) },
      }),
    )
  }

  /** Runs `change` on the key of every record of the message (they share its partition). */
  private async eachRecord(messageId: string, change: (key: Item) => Promise<void>): Promise<void> {
    const { pk } = sideEffectKey(messageId, '')
    let after: Item | undefined
    do {
      const page = await this.table.send((c) =>
        c.send(new QueryCommand({ TableName: this.table.name, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'pk, sk', ConsistentRead: true, ...(after ? { ExclusiveStartKey: after } : {}) })),
      )
      await Promise.all((page.Items ?? []).map((item) => change({ pk: item.pk!, sk: item.sk! })))
      after = page.LastEvaluatedKey
    } while (after !== undefined)
  }

  /** One UpdateItem, left undone when its condition fails (the record went, or another death pinned it). */
  private async updateIf(Key: Item, UpdateExpression: string, ConditionExpression: string, names: Record<string, string>, values: Item): Promise<void> {
    try {
      await this.table.send((c) => c.send(new UpdateItemCommand({ TableName: this.table.name, Key, UpdateExpression, ConditionExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values })))
    } catch (e) {
      if (errorName(e) !== 'ConditionalCheckFailedException') throw e
    }
  }

  /** One PutItem; with `claimAt`, only where no record live at that time is. */
  private async write(record: SideEffectRecord, claimAt: number | undefined): Promise<void> {
    const item = sideEffectItem(record)
    const bytes = itemBytes(item)
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw tooLarge(record, bytes)
    const condition =
      claimAt === undefined
        ? {}
        : {
            ConditionExpression: 'attribute_not_exists(pk) OR #exp <= :now',
            ExpressionAttributeNames: { '#exp': 'exp' },
            ExpressionAttributeValues: { ':now': { N: String(claimAt) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
          }
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...condition })))
    } catch (e) {
      if (isTooLarge(e)) throw tooLarge(record, bytes)
      throw e
    }
  }
}

/** The key of a message's side effect. */
export function sideEffectKey(messageId: string, name: string): { pk: { S: string }; sk: { S: string } } {
  const pk = `once#${messageId}`
  const sk = `n#${name}`
  return {
    pk: { S: Buffer.byteLength(pk) <= MAX_PARTITION_KEY_BYTES ? pk : `oncex#${sha256(messageId).toString('hex')}` },
    sk: { S: Buffer.byteLength(sk) <= MAX_SORT_KEY_BYTES ? sk : `h#${sha256(name).toString('hex')}` },
  }
}

function sideEffectItem(r: SideEffectRecord): Item {
  const item: Item = {
    ...sideEffectKey(r.messageId, r.name),
    m: { S: r.messageId },
    n: { S: r.name },
    actor: { S: r.actor },
    st: { S: r.status },
    at: { N: String(r.at) },
    exp: { N: String(r.expiresAt) },
    // TTL deletes in whole seconds: rounded up, so it never deletes a record early.
    ttl: { N: String(Math.ceil(r.expiresAt / 1000)) },
  }
  // Prefixed, so the key of an unkeyed actor ('') is no empty attribute.
  if (r.key !== undefined) item.key = { S: `k#${r.key}` }
  if (r.result !== undefined) item.res = { S: r.result }
  if (r.kept !== undefined) item.kept = { S: r.kept }
  if (r.unrecorded !== undefined) item.lost = { S: r.unrecorded }
  return item
}

/** The record an item holds, if it is one and still live at `now`. */
function live(item: Item | undefined, now: number): SideEffectRecord | undefined {
  if (item?.m?.S === undefined || item.n?.S === undefined) return undefined
  const expiresAt = Number(item.exp?.N)
  if (!(expiresAt > now)) return undefined
  const status = item.st?.S
  if (status !== 'started' && status !== 'done') return undefined
  const record: SideEffectRecord = { messageId: item.m.S, name: item.n.S, actor: item.actor?.S ?? '', status, at: Number(item.at?.N ?? 0), expiresAt }
  if (item.key?.S !== undefined) record.key = item.key.S.startsWith('k#') ? item.key.S.slice(2) : item.key.S
  if (item.res?.S !== undefined) record.result = item.res.S
  if (item.kept?.S !== undefined) record.kept = item.kept.S
  if (item.lost?.S !== undefined) record.unrecorded = item.lost.S
  if (item.pin?.N !== undefined) record.pinnedBy = Number(item.pin.N)
  return record
}

function tooLarge(r: SideEffectRecord, bytes: number): TroupeError {
  return new TroupeError(
    'TROUPE_ONCE_TOO_LARGE',
    `the result of ctx.once('${r.name}') in ${r.actor}'s turn on message ${r.messageId} is ${(bytes / 1024).toFixed(1)} KB recorded; DynamoDB items hold 400 KB — return less from the side effect (large results belong in S3, with their key in the result)`,
  )
}
