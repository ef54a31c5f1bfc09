// DynamoDB stream records → tells: one message per item change, with the partial batch
// response, so Lambda retries from the first record that could not be sent.
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb'
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda'
import type { ActorClass } from '../core/actor.js'
import type { System } from '../core/system.js'
import { deliver, type AdapterArgs, type Delivered, type SourceItem } from './deliver.js'

/** An item's change, as the DynamoDB stream adapter hands it to an actor; images are plain values. */
export interface TableChange<Item = Record<string, unknown>> {
  /** The table's name, from the stream's ARN. */
  table: string
  event: 'INSERT' | 'MODIFY' | 'REMOVE'
  keys: Record<string, unknown>
  /** Present when the stream's view type includes new images (absent on REMOVE). */
  newImage?: Item
  /** Present when the stream's view type includes old images (absent on INSERT). */
  oldImage?: Item
  /** Orders changes of one item. */
  sequenceNumber: string
  eventId: string
  /** When the change was made, epoch milliseconds (the stream gives seconds). */
  at?: number
}

function plain(image: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  // The stream's attribute values are the SDK's own shape, with binary as base64 text.
  return image === undefined ? undefined : unmarshall(image as Record<string, SdkAttributeValue>)
}

function tableOf(arn: string | undefined): string {
  // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<time>
  return /:table\/([^/]+)/.exec(arn ?? '')?.[1] ?? ''
}

/** The changes of a stream batch, each converted or refused with the reason. */
export function tableChanges(event: DynamoDBStreamEvent): (SourceItem<TableChange> & { sequenceNumber: string | undefined })[] {
  const records: DynamoDBRecord[] = Array.isArray(event?.Records) ? event.Records : []
  return records.map((r, i) => {
    const sequenceNumber = r?.dynamodb?.SequenceNumber
    const record = r?.eventID ?? `record ${i}`
    const base = { record, correlationId: record, sequenceNumber }
    if (!r?.dynamodb || !r.eventName || !sequenceNumber) return { ...base, error: new Error(`stream record ${i} has no dynamodb, eventName or SequenceNumber`) }
    try {
      const { Keys, NewImage, OldImage, ApproximateCreationDateTime } = r.dynamodb
      const newImage = plain(NewImage)
      const oldImage = plain(OldImage)
      const item: TableChange = {
        table: tableOf(r.eventSourceARN),
        event: r.eventName,
        keys: plain(Keys) ?? {},
        sequenceNumber,
        eventId: record,
        ...(newImage ? { newImage } : {}),
        ...(oldImage ? { oldImage } : {}),
        ...(ApproximateCreationDateTime !== undefined ? { at: Math.round(ApproximateCreationDateTime * 1000) } : {}),
      }
      return { ...base, item }
    } catch (error) {
      return { ...base, error: new Error(`stream record ${record} cannot be read: ${(error as Error).message}`) }
    }
  })
}

/**
 * A Lambda handler for a DynamoDB stream's event source mapping (with `ReportBatchItemFailures`):
 * tells `actor` one message per change, in stream order, with the record's eventID as the
 * correlation id. It answers the partial batch response: the first record whose send failed,
 * so Lambda delivers exactly the rest again. A record that can never become a message (the
 * actor's schema refuses it, a number beyond JavaScript's precision) is logged and passed over,
 * so it cannot hold the shard.
 *
 * @example
 * export const handler = fromDynamoDBStream(system, OrderChanged, {
 *   map: (c) => ({ orderId: String(c.keys.orderId), status: c.newImage?.status as string | undefined }),
 * })
 */
export function fromDynamoDBStream<C extends ActorClass>(
  system: System,
  actor: C,
  ...[options]: AdapterArgs<TableChange, C>
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse & { delivered: Delivered }> {
  return async (event) => {
    const changes = tableChanges(event)
    const delivered = await deliver('dynamodb-stream', system, actor, changes, options)
    const failed = new Set(delivered.failed.map((f) => f.record))
    const first = changes.find((c) => failed.has(c.record))
    return { batchItemFailures: first?.sequenceNumber ? [{ itemIdentifier: first.sequenceNumber }] : [], delivered }
  }
}
