// The DynamoDB store: actor state and durable timers in one table (single-table design).
//
// Key design (table keys `pk` S + `sk` S, one local secondary index `byDue` on `pk` + `due` S):
//
//   item            pk                               sk                    due (LSI sort key)
//   actor state     state#<type>#<key>               state                 -     (state, v, at, sv: state version, m: host bookkeeping, ttl once deleted)
//   timer           timers#<shard>                   i#<id>                <dueAt, 16 digits>#<sk>
//   shard lease     lease#<stream>#<shardId>         lease                 -     (owner, expiresAt, checkpoint, ended, parents, wanted)
//   rate bucket     rate#<type>                      bucket                -     (clock, t, rps, burst: a type's rate, dynamodb-type-buckets.ts)
//   type slots      running#<type>                   slots                 -     (used, limit, h:<holder>: a type's concurrency leases, dynamodb-type-slots.ts)
//   side effect     once#<message id>                n#<name>              -     (st, res or kept, at, exp, ttl: a ctx.once record, dynamodb-side-effects.ts)
//   receipt entry   receipt#<message id>             e#<attempt, 6 digits>#<rank>#<status>   -   (actor, key, status, at, attempt, reason, reply, error, exp, ttl)
//   dead letter     deadletters                      i#<message id>        -     (type, deadAt, who, letter: the DeadLetter as superjson; once replayed or taken, deadAt, who, sentAs, ended, ttl)
//
// - State (dynamodb-state-store.ts): one item per actor instance, read with one GetItem and
//   written with one conditional PutItem on its version `v`.
// - Timers (dynamodb-timer-store.ts): spread by a hash of their id over `timerShards` partitions,
//   read through the `byDue` local index (consistent reads) with one Query per shard, no Scan.
// - The table, its index and TTL (dynamodb-table-definition.ts); what the stores share: options,
//   access, paging, DynamoDB's limits (dynamodb-table.ts).
// - Keys longer than DynamoDB allows (2,048 bytes for `pk`, 1,024 for the index key) are
//   replaced by a SHA-256 under a different prefix (`statex#`, `h#`), so keys of any length work
//   and a readable key can never collide with a hashed one. A timer keeps its real id in `id`.
// - Shard leases (dynamodb-leases.ts): one item per Kinesis shard a long-running host reads,
//   changed only by conditional UpdateItems (`owner = me`), holding its checkpoint too.
// - Receipts and dead letters (dynamodb-journal.ts): a partition per message whose entries are
//   keyed by attempt and status, so a rewrite overwrites itself and one Query reads the history;
//   `ttl` (epoch seconds) is for DynamoDB TTL. Dead letters share one partition, keyed by message
//   id; one over 400 KB is kept without its body rather than refused. Long ids: `receiptx#`, `h#`.
// - Items are checked against DynamoDB's 400 KB before they are sent ({@link ItemTooLargeError}).
// - Every read of a whole set pages through `LastEvaluatedKey`. The one Scan is `scan()`, for
//   inspection (listing a type's instances page by page); no runtime path scans.
// - No transactions (dynalite has none, and one conditional write per instance is the design).

import { DynamoDBStateStore } from './dynamodb-state-store.js'
import type { DynamoDBStoreOptions } from './dynamodb-table.js'
import { DynamoDBTimerStore } from './dynamodb-timer-store.js'

export { DynamoDBStateStore, type StatePage } from './dynamodb-state-store.js'
export { DYNAMODB_MAX_ITEM_BYTES, type DynamoDBStoreOptions } from './dynamodb-table.js'
export { createTable, tableDefinition, type CreateTableOptions } from './dynamodb-table-definition.js'
export { DynamoDBTimerStore } from './dynamodb-timer-store.js'

/**
 * Both stores on one table.
 *
 * @example
 * const dynamodb = new DynamoDBClient({ maxAttempts: 3 })
 * await createTable(dynamodb, 'troupe')   // once, or from the deploy template
 * const system = createSystem({ actors, stores: dynamodbStores({ client: dynamodb, tableName: 'troupe' }) })
 */
export function dynamodbStores(options: DynamoDBStoreOptions): { state: DynamoDBStateStore; timers: DynamoDBTimerStore } {
  return { state: new DynamoDBStateStore(options), timers: new DynamoDBTimerStore(options) }
}
