// S3 event notifications → tells: one message per object created.
import type { S3Event, S3EventRecord } from 'aws-lambda'
import type { ActorClass } from '../core/actor.js'
import type { System } from '../core/system.js'
import { allOrThrow, deliver, type AdapterArgs, type Delivered, type SourceItem } from './deliver.js'

/** An object created in a bucket, as the S3 adapter hands it to an actor. */
export interface S3ObjectCreated {
  bucket: string
  /** The object key, decoded (S3 sends it URL-encoded, spaces as `+`). */
  key: string
  size: number
  eTag: string
  versionId?: string
  /** Orders events of one key: a larger sequencer is a later event. */
  sequencer: string
  /** `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, … */
  eventName: string
  /** ISO 8601. */
  eventTime: string
  region: string
}

/** The records of an S3 event, each an object created, or skipped (other events), or refused (an undecodable key). */
export function s3ObjectsCreated(event: S3Event): SourceItem<S3ObjectCreated>[] {
  // A bucket's test event (`s3:TestEvent`, sent when notifications are set up) has no Records.
  const records: S3EventRecord[] = Array.isArray(event?.Records) ? event.Records : []
  return records.map((r, i) => {
    const record = r.s3?.object?.sequencer ? `${r.s3.bucket?.name}/${r.s3.object.sequencer}` : `record ${i}`
    const correlationId = r.responseElements?.['x-amz-request-id'] ?? record
    if (typeof r.eventName !== 'string' || !r.eventName.startsWith('ObjectCreated:')) return { record, correlationId, skip: true }
    try {
      const { bucket, object } = r.s3
      const item: S3ObjectCreated = {
        bucket: bucket.name,
        key: decodeURIComponent(object.key.replace(/\+/g, ' ')),
        size: object.size ?? 0,
        eTag: object.eTag ?? '',
        sequencer: object.sequencer,
        eventName: r.eventName,
        eventTime: r.eventTime,
        region: r.awsRegion,
        ...(object.versionId ? { versionId: object.versionId } : {}),
      }
      return { record, correlationId, item }
    } catch (error) {
      return { record, correlationId, error: new Error(`S3 record ${i} (${r.eventName}) is malformed: ${(error as Error).message}`) }
    }
  })
}

/**
 * A Lambda handler for S3 event notifications: tells `actor` one message per object created
 * (other events are skipped), with the S3 request id as the correlation id. Throws when a send
 * failed, so Lambda retries the event; a record the actor's schema refuses is logged, not retried.
 *
 * @example
 * const system = new AwsSystem({ actors, kinesis, dynamodb, tableName, stream, consume: false })
 * export const handler = fromS3(system, ObjectCreated)                       // mailbox: S3ObjectCreated
 * export const thumbnails = fromS3(system, MakeThumbnail, { map: (o) => ({ path: `${o.bucket}/${o.key}` }) })
 */
export function fromS3<C extends ActorClass>(system: System, actor: C, ...[options]: AdapterArgs<S3ObjectCreated, C>): (event: S3Event) => Promise<Delivered> {
  return async (event) => allOrThrow('s3', actor, await deliver('s3', system, actor, s3ObjectsCreated(event), options))
}
