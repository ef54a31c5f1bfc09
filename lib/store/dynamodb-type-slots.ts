// Types' concurrency slots in the troupe table: one item per capped type (`running#<type>` /
// `slots`) holding `used`, the slots its leases hold, and each lease as an attribute of its own
// (`h:<holder>` = { n: slots, e: expiry in epoch ms }), with the limit and the type's name for those
// who read the table. Every change is one UpdateItem whose condition is the limit:
//
//   take      SET used = used + n, h:me = {n, e}  IF used <= limit - n
//             (with reclaim: REMOVE h:x … and used - Σx.n, IF each h:x is still as read)
//   renew     SET h:me.e = :e                     IF attribute_exists(h:me)
//   release   SET used = used - n REMOVE h:me     IF h:me.n = n
//
// so hosts that take at once are served one after the other, none waits on a read, and `used` is
// always the sum of the leases. A take that fails learns the item from the failure
// (ReturnValuesOnConditionCheckFailure) where DynamoDB sends it; the local emulator does not,
// and the caller reads it. The item is apart from every instance's item: no commit meets it.
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import type { SlotLease, TypeSlots, TypeSlotStore } from './index.js'
import { TableAccess, errorName, type DynamoDBStoreOptions } from './dynamodb-table.js'

const SLOTS_SK = 'slots'
/** The start of a lease's attribute name; the rest is its holder. */
const LEASE_PREFIX = 'h:'

export class DynamoDBTypeSlots implements TypeSlotStore {
  private readonly table: TableAccess

  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async take(type: string, lease: SlotLease, limit: number, reclaim: readonly SlotLease[]): Promise<{ taken: boolean; slots?: TypeSlots }> {
    // More than the limit is never free, not even on a type without an item (which the condition lets through).
    if (lease.count > limit) return { taken: false }
    const reclaimed = reclaim.reduce((n, r) => n + r.count, 0)
    const names: Record<string, string> = { '#used': 'used', '#limit': 'limit', '#t': 't', ...(reclaim.length !== 0 ? { '#n': 'n', '#e': 'e' } : {}) }
    const values: Record<string, AttributeValue> = { ':zero': num(0), ':delta': num(lease.count - reclaimed), ':max': num(limit - lease.count + reclaimed), ':limit': num(limit), ':t': { S: type } }
    const set = ['#used = if_not_exists(#used, :zero) + :delta', '#limit = :limit', '#t = :t']
    const conditions = ['(attribute_not_exists(#used) OR #used <= :max)']
    if (lease.count !== 0) {
      names['#me'] = LEASE_PREFIX + lease.holder
      values[':lease'] = { M: { n: num(lease.count), e: num(lease.expiresAt) } }
      set.push('#me = :lease')
      conditions.push('attribute_not_exists(#me)')
    }
    const remove: string[] = []
    reclaim.forEach((r, i) => {
      names[`#r${i}`] = LEASE_PREFIX + r.holder
      values[`:n${i}`] = num(r.count)
      values[`:e${i}`] = num(r.expiresAt)
      remove.push(`#r${i}`)
      conditions.push(`#r${i}.#n = :n${i} AND #r${i}.#e = :e${i}`)
    })
    try {
      const out = await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: slotsKey(type),
            UpdateExpression: `SET ${set.join(', ')}${remove.length !== 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      )
      return { taken: true, ...(out.Attributes ? { slots: slotsOf(out.Attributes) } : {}) }
    } catch (e) {
      if (errorName(e) !== 'ConditionalCheckFailedException') throw e
      const item = (e as { Item?: Record<string, AttributeValue> }).Item
      return { taken: false, ...(item ? { slots: slotsOf(item) } : {}) }
    }
  }

  async renew(type: string, holder: string, expiresAt: number): Promise<boolean> {
    try {
      await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: slotsKey(type),
            UpdateExpression: 'SET #me.#e = :e',
            ConditionExpression: 'attribute_exists(#me)',
            ExpressionAttributeNames: { '#me': LEASE_PREFIX + holder, '#e': 'e' },
            ExpressionAttributeValues: { ':e': num(expiresAt) },
          }),
        ),
      )
      return true
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return false
      throw e
    }
  }

  async release(type: string, holder: string, count: number): Promise<TypeSlots | undefined> {
    try {
      const out = await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: slotsKey(type),
            UpdateExpression: 'SET #used = #used - :n REMOVE #me',
            ConditionExpression: '#me.#n = :n',
            ExpressionAttributeNames: { '#used': 'used', '#me': LEASE_PREFIX + holder, '#n': 'n' },
            ExpressionAttributeValues: { ':n': num(count) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      )
      return out.Attributes ? slotsOf(out.Attributes) : undefined
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return undefined
      throw e
    }
  }

  async read(type: string): Promise<TypeSlots | undefined> {
    const out = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: slotsKey(type), ConsistentRead: this.table.consistentRead })))
    return out.Item?.used?.N === undefined ? undefined : slotsOf(out.Item)
  }
}

/** The key of a type's slots item. Type names are letters, digits, `_`, `-` and `.`: no escaping needed. */
export function slotsKey(type: string): { pk: { S: string }; sk: { S: string } } {
  return { pk: { S: `${SLOTS_PK_PREFIX}${type}` }, sk: { S: SLOTS_SK } }
}

/** The start of a slots item's partition key; the rest is the type. */
export const SLOTS_PK_PREFIX = 'running#'

/** A slots item as the port gives it. */
export function slotsOf(item: Record<string, AttributeValue>): TypeSlots {
  const leases: SlotLease[] = []
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(LEASE_PREFIX) || value.M === undefined) continue
    leases.push({ holder: name.slice(LEASE_PREFIX.length), count: Number(value.M.n?.N ?? 0), expiresAt: Number(value.M.e?.N ?? 0) })
  }
  return { limit: Number(item.limit?.N ?? 0), used: Number(item.used?.N ?? 0), leases }
}

function num(n: number): { N: string } {
  return { N: String(n) }
}
