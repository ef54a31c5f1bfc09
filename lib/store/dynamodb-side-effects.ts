// The records of `ctx.once` side effects in the troupe table, one item per message and name:
//
//   item          pk                   sk          attributes
//   side effect   once#<message id>    n#<name>    actor, key (the instance's; absent on older records),
//                                                  st (started | done), res? (superjson), kept? (overflow key),
//                                                  lost? (why a result that ran was not recorded), at, exp (ms), ttl (s)
//
// A result is one PutItem; an at-most-once claim is one PutItem on the condition that no live
// record is there, which on failure returns the record that was (no read needed). A read is
// strongly consistent whatever the store's `consistentRead`: a run on another host right after a
// record was written must see it.
// Keys longer than DynamoDB allows are hashed under other prefixes (`oncex#`, `h#`), as receipts'.
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { StoreConflictError, TroupeError } from '../core/errors.js'
import type { SideEffectRecord, SideEffectStore } from './index.js'
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
  return record
}

function tooLarge(r: SideEffectRecord, bytes: number): TroupeError {
  return new TroupeError(
    'TROUPE_ONCE_TOO_LARGE',
    `the result of ctx.once('${r.name}') in ${r.actor}'s turn on message ${r.messageId} is ${(bytes / 1024).toFixed(1)} KB recorded; DynamoDB items hold 400 KB — return less from the side effect (large results belong in S3, with their key in the result)`,
  )
}
