// The events a troupe Lambda is invoked with, and what it answers: a Kinesis batch from the
// event source mapping (shapes as AWS sends them, AWS-SEMANTICS.md §1), an `ask` invoked
// directly, and the scheduled tick that fires due timers. Typed here rather than pulled from
// @types/aws-lambda: the handler reads a handful of fields and checks each.

export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: string
    partitionKey: string
    /** Decimal string of up to 128 digits. */
    sequenceNumber: string
    /** Base64 of the record's bytes. */
    data: string
    /** Epoch seconds, with a millisecond fraction. */
    approximateArrivalTimestamp: number
  }
  eventSource: 'aws:kinesis'
  eventVersion: string
  /** `<shardId>:<sequenceNumber>` */
  eventID: string
  eventName: string
  invokeIdentityArn: string
  awsRegion: string
  /** `arn:aws:kinesis:<region>:<account>:stream/<name>` */
  eventSourceARN: string
}

export interface KinesisStreamEvent {
  Records: KinesisEventRecord[]
}

/** The partial batch response: Lambda checkpoints before the lowest sequence number listed. */
export interface KinesisBatchResponse {
  batchItemFailures: { itemIdentifier: string }[]
}

/** `ask` from an API handler, invoked directly (RequestResponse) instead of through the stream. */
export interface AskInvocation {
  troupe: 'ask'
  /** The envelope as record data (what the stream would carry), base64. */
  envelope: string
  /** Where the asker's last tell to the same instance went: the turn waits until the instance has applied it. */
  after?: ShardPosition
  /** The stream the message goes to when told: a copy of it there is known as the same message. */
  stream?: string
  /**
   * The asker wrote the message's `accepted` entry saying it asks by Invoke, which points readers of
   * the receipt at the instance's item: the answer's final entry may wait there, written later.
   */
  keepReceipt?: boolean
}

/** A record's place in a stream. */
export interface ShardPosition {
  stream: string
  shardId: string
  sequenceNumber: string
  /** Its place in an aggregate record (0 first), when it went in one. */
  member?: number
}

/** What an `ask` invocation answers. */
export type AskAnswer =
  | { troupe: 'answer'; status: 'done'; reply?: string; error?: { name: string; message: string } }
  | { troupe: 'answer'; status: 'dead' | 'filtered'; error?: { name: string; message: string } }
  /** The turn could not finish in this invocation (out of time, a store or stream failure): try again. */
  | { troupe: 'answer'; status: 'unfinished'; reason: string }

/** A tick: fire the timers that are due. From the scheduled rule, or sent by hand. */
export interface TickInvocation {
  troupe: 'tick'
}

/** What EventBridge sends for a scheduled rule. */
export interface ScheduledEvent {
  source: 'aws.events'
  'detail-type': 'Scheduled Event'
}

/** The Lambda context fields the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number
  functionName?: string
  awsRequestId?: string
}

export function isKinesisEvent(event: unknown): event is KinesisStreamEvent {
  const records = (event as { Records?: unknown } | null)?.Records
  return Array.isArray(records) && records.length > 0 && (records[0] as { eventSource?: unknown })?.eventSource === 'aws:kinesis'
}

export function isAskInvocation(event: unknown): event is AskInvocation {
  const e = event as { troupe?: unknown; envelope?: unknown; after?: unknown; stream?: unknown; keepReceipt?: unknown } | null
  return e?.troupe === 'ask' && typeof e.envelope === 'string' && (e.after === undefined || isShardPosition(e.after)) && (e.stream === undefined || (typeof e.stream === 'string' && e.stream.length > 0 && e.stream.length <= 128)) &&
    (e.keepReceipt === undefined || typeof e.keepReceipt === 'boolean')
}

function isShardPosition(value: unknown): value is ShardPosition {
  const p = value as Partial<Record<keyof ShardPosition, unknown>> | null
  return typeof p === 'object' && p !== null && typeof p.stream === 'string' && typeof p.shardId === 'string' && typeof p.sequenceNumber === 'string' && /^[0-9]{1,128}$/.test(p.sequenceNumber) &&
    (p.member === undefined || (Number.isSafeInteger(p.member) && (p.member as number) >= 0))
}

export function isTick(event: unknown): event is TickInvocation | ScheduledEvent {
  const e = event as Record<string, unknown> | null
  return e?.troupe === 'tick' || (e?.source === 'aws.events' && e?.['detail-type'] === 'Scheduled Event')
}

/** The shard of a record, from its `eventID` (`<shardId>:<sequenceNumber>`). */
export function shardOf(record: KinesisEventRecord): string {
  const id = String(record.eventID ?? '')
  const colon = id.lastIndexOf(':')
  return colon > 0 ? id.slice(0, colon) : 'shardId-unknown'
}

/** The stream name of a record, from its `eventSourceARN`. */
export function streamOf(record: KinesisEventRecord): string {
  const arn = String(record.eventSourceARN ?? '')
  const at = arn.lastIndexOf(':stream/')
  return at >= 0 ? arn.slice(at + ':stream/'.length) : arn
}
