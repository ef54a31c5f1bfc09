// The payload store: where the claim check (lib/routing/claim-check.ts) keeps message bodies too
// large for a Kinesis record, each under a key derived from its message id, and where the DynamoDB
// journal keeps dead letters too large for an item (lib/store/dynamodb-journal.ts). A port with four
// implementations: in memory (tests), a local folder (a process that restarts), and DynamoDB
// chunks in the app's own table (the AWS mode, and the local servers) here; objects in an S3
// bucket in s3-payload-store.ts (`troupe/payloads-s3`), apart so that only an app that uses it
// bundles @aws-sdk/client-s3.
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { ConfigError, TroupeError } from '../core/errors.js'
import { batchDelete } from './dynamodb-batch-writes.js'
import { TableAccess, type DynamoDBStoreOptions } from './dynamodb-table.js'

/** Where large bodies are kept out of line. Every call is idempotent: a key is written with the same bytes again. */
export interface PayloadStore {
  /**
   * Keeps `data` under `key` until at least `expiresAt` (epoch ms). `Infinity` keeps it until it
   * is deleted: the DynamoDB journal's dead letters, which live until they are taken.
   */
  put(key: string, data: Uint8Array, expiresAt: number): Promise<void>
  /** The bytes put under `key`, or undefined when there are none (never put, or expired). */
  get(key: string): Promise<Uint8Array | undefined>
  /**
   * Forgets `key` (nothing under it is fine). The DynamoDB journal calls it when a dead letter it
   * kept here is taken or replaced; a store without it keeps those bytes until its own expiry.
   */
  delete?(key: string): Promise<void>
}

/** In a Map: for tests and a single process. */
export class MemoryPayloadStore implements PayloadStore {
  private readonly items = new Map<string, { data: Uint8Array; expiresAt: number }>()
  async put(key: string, data: Uint8Array, expiresAt: number): Promise<void> {
    this.items.set(key, { data: new Uint8Array(data), expiresAt })
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const item = this.items.get(key)
    if (item && item.expiresAt < Date.now()) this.items.delete(key)
    return item && item.expiresAt >= Date.now() ? item.data : undefined
  }
  async delete(key: string): Promise<void> {
    this.items.delete(key)
  }
  get size(): number {
    return this.items.size
  }
}

/** One file per payload in a folder (made if missing); expiry is left to whoever cleans the folder. */
export class FolderPayloadStore implements PayloadStore {
  constructor(readonly folder: string) {
    if (typeof folder !== 'string' || folder === '') throw new ConfigError('FolderPayloadStore needs a folder path')
    mkdirSync(folder, { recursive: true })
  }
  private file(key: string): string {
    return join(this.folder, encodeURIComponent(key))
  }
  async put(key: string, data: Uint8Array): Promise<void> {
    const file = this.file(key)
    // Written aside, then renamed: a reader never sees half a payload.
    writeFileSync(`${file}.${process.pid}.tmp`, data)
    renameSync(`${file}.${process.pid}.tmp`, file)
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.file(key)
    return existsSync(file) ? readFileSync(file) : undefined
  }
  async delete(key: string): Promise<void> {
    rmSync(this.file(key), { force: true })
  }
}

/** Bytes per DynamoDB item: well under the 400 KB item with its keys and attributes. */
const CHUNK_BYTES = 350 * 1024

/**
 * In the app's table, as items `payload#<key>` / `c#<n>` of at most 350 KB each, with the table's
 * `ttl` (none for `expiresAt: Infinity`). Chunk 0 says how many there are; a reader that finds
 * fewer (a writer that died half way) reads nothing, and the sender, which only sends once every
 * chunk is written, never sent it.
 */
export class DynamoDBPayloadStore implements PayloadStore {
  private readonly table: TableAccess
  constructor(options: DynamoDBStoreOptions) {
    this.table = new TableAccess(options)
  }

  async put(key: string, data: Uint8Array, expiresAt: number): Promise<void> {
    const count = Math.max(1, Math.ceil(data.byteLength / CHUNK_BYTES))
    // Kept until deleted: no `ttl`, which DynamoDB's TTL would read as a time.
    const ttl: Record<string, AttributeValue> = Number.isFinite(expiresAt) ? { ttl: { N: String(Math.ceil(expiresAt / 1000)) } } : {}
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const item: Record<string, AttributeValue> = {
          pk: { S: `payload#${key}` },
          sk: { S: `c#${String(i).padStart(6, '0')}` },
          data: { B: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) },
          ...ttl,
        }
        if (i === 0) item.chunks = { N: String(count) }
        return this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item })))
      }),
    )
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const parts: Uint8Array[] = []
    let count: number | undefined
    for await (const page of this.table.query({
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
      ExpressionAttributeValues: { ':pk': { S: `payload#${key}` }, ':c': { S: 'c#' } },
      ConsistentRead: this.table.consistentRead,
    })) {
      for (const item of page) {
        if (item.sk?.S === 'c#000000') count = Number(item.chunks?.N)
        if (Number(item.ttl?.N ?? Infinity) * 1000 < Date.now()) return undefined // expired, not yet deleted
        parts.push(item.data?.B ?? new Uint8Array())
      }
    }
    if (count === undefined || parts.length === 0) return undefined
    if (parts.length !== count) throw new TroupeError('TROUPE_PAYLOAD_INCOMPLETE', `payload ${key} has ${parts.length} of its ${count} chunks`)
    return Buffer.concat(parts)
  }

  /** Deletes every chunk: one Query for their keys, then BatchWriteItem, 25 a call, unprocessed keys sent again. */
  async delete(key: string): Promise<void> {
    const keys: Record<string, AttributeValue>[] = []
    for await (const page of this.table.query({
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
      ExpressionAttributeValues: { ':pk': { S: `payload#${key}` }, ':c': { S: 'c#' } },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: this.table.consistentRead,
    })) {
      keys.push(...page)
    }
    await batchDelete(this.table, keys, `chunks of payload ${key}`)
  }
}
