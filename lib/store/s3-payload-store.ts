// The payload store on S3: the claim check's bodies as objects in a bucket, for bodies larger
// than a few DynamoDB chunks are worth, or an app that wants them out of its table. In a module
// of its own (`troupe/payloads-s3`), so an app that keeps its payloads elsewhere never bundles
// @aws-sdk/client-s3.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { ConfigError, TroupeError } from '../core/errors.js'
import type { PayloadStore } from './payload-store.js'
import { isS3BucketName } from './s3-bucket-name.js'
import { boundIdleRequests } from './request-idle-timeout.js'

export interface S3PayloadStoreOptions {
  /** Your client, for the bucket's region (on AWS, credentials from the function's role). */
  client: S3Client
  bucket: string
  /**
   * Put before every key: payloads are `<prefix>msg/<message id>`, and the bucket's lifecycle
   * rule expires what is under it (see {@link S3PayloadStore}).
   * @default 'troupe-payloads/'
   */
  prefix?: string
}

/** The prefix when none is given (and so the prefix of `troupe template`'s lifecycle rule and grant). */
export const DEFAULT_S3_PAYLOAD_PREFIX = 'troupe-payloads/'
/** Object metadata (`x-amz-meta-expires-at`): when the payload may be forgotten, epoch ms. */
const EXPIRES_AT = 'expires-at'

/**
 * One object per payload, under `<prefix><key>`. S3 has no expiry per object: a bucket lifecycle
 * rule on the prefix deletes payloads (`troupe template` makes the bucket with one, of
 * `payloads.ttlMs` rounded up to whole days), and until it runs `get` reads an object past its
 * `expiresAt` (kept as object metadata) as gone, as the DynamoDB store does with its `ttl`.
 *
 * The function's role needs `s3:PutObject` and `s3:GetObject` on `<bucket>/<prefix>*` (what
 * `troupe template` grants, and nothing more). Without `s3:ListBucket`, S3 answers a missing key
 * with 403 AccessDenied instead of 404: the store reports it as a store error (the record is
 * delivered again) rather than as a payload that is gone (a dead letter).
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { S3PayloadStore } from 'troupe/payloads-s3'
 *
 * export default defineApp({
 *   actors,
 *   payloads: { store: new S3PayloadStore({ client: new S3Client({}), bucket: 'my-app-payloads' }) },
 * })
 */
export class S3PayloadStore implements PayloadStore {
  readonly client: S3Client
  readonly bucket: string
  readonly prefix: string

  constructor(options: S3PayloadStoreOptions) {
    if (typeof options?.client?.send !== 'function') throw new ConfigError('S3PayloadStore needs client: an S3Client from @aws-sdk/client-s3')
    if (!isS3BucketName(options.bucket)) {
      throw new ConfigError(`S3PayloadStore.bucket must be an S3 bucket name (3–63 of a-z 0-9 . -), got ${JSON.stringify(options.bucket)}`)
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new ConfigError(`S3PayloadStore.prefix must be a string, got ${typeof options.prefix}`)
    this.client = options.client
    // A read or write that falls silent fails instead of holding the batch that waits for it.
    boundIdleRequests(options.client)
    this.bucket = options.bucket
    this.prefix = options.prefix ?? DEFAULT_S3_PAYLOAD_PREFIX
  }

  async put(key: string, data: Uint8Array, expiresAt: number): Promise<void> {
    const Key = this.prefix + key
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.byteLength, Metadata: { [EXPIRES_AT]: String(expiresAt) } }))
    } catch (error) {
      throw this.failed('PutObject', Key, error)
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.prefix + key
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }))
      const data = await out.Body!.transformToByteArray()
      const expiresAt = Number(out.Metadata?.[EXPIRES_AT] ?? Infinity)
      return expiresAt < Date.now() ? undefined : data // expired, not yet deleted by the lifecycle rule
    } catch (error) {
      if ((error as { name?: unknown }).name === 'NoSuchKey') return undefined
      throw this.failed('GetObject', Key, error)
    }
  }

  private failed(operation: string, key: string, error: unknown): TroupeError {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return new TroupeError('TROUPE_PAYLOAD_STORE', `${operation} of s3://${this.bucket}/${key} failed (${reason})`, { cause: error })
  }
}
