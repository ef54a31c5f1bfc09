// troupe/aws: the AWS mode's pieces. Loads the AWS SDK; the core (`troupe`) does not.

// The DynamoDB store (actor state and durable timers, one table)
export {
  DYNAMODB_MAX_ITEM_BYTES,
  DynamoDBStateStore,
  DynamoDBTimerStore,
  createTable,
  dynamodbStores,
  tableDefinition,
} from '../store/dynamodb.js'
export type { CreateTableOptions, DynamoDBStoreOptions } from '../store/dynamodb.js'
export { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
export type { DynamoDBJournalOptions } from '../store/dynamodb-journal.js'

// Cost counters
export { RequestCounter, countRequests } from './request-counter.js'
export type { CountableClient, RequestCount, RequestCounts } from './request-counter.js'

// The local AWS (dynalite + kinesalite or kinesis-local on 127.0.0.1)
export { clients, startLocalStack } from './local-stack.js'
export type { LocalClientOptions, LocalKinesis, LocalStack, LocalStackOptions } from './local-stack.js'

// Routing: message → stream and partition key; envelope ⇄ Kinesis record (host-neutral, no SDK)
export {
  DEFAULT_MAX_RECORD_BYTES,
  LARGEST_MAX_RECORD_BYTES,
  PARTITION_KEY_MAX_LENGTH,
  PUT_RECORDS_MAX_BYTES,
  PUT_RECORDS_MAX_RECORDS,
} from '../routing/kinesis-limits.js'
export { Router, fitPartitionKey, partitionKeyOf } from '../routing/router.js'
export type { Route, RouterOptions } from '../routing/router.js'
export { RecordCodec, decodeRecord, defaultRecordCodec, encodeRecord } from '../routing/record-codec.js'
export type { DecodeAllResult, DecodeResult, EncodedRecord, RecordCodecOptions } from '../routing/record-codec.js'
export { InvalidEnvelopeError, RecordTooLargeError } from '../routing/record-errors.js'
export { UNREADABLE_TYPE } from '../routing/unreadable-record.js'
export type { UnreadableRecord } from '../routing/unreadable-record.js'
export { ClaimCheck, PAYLOAD_FIELD, PayloadError } from '../routing/claim-check.js'
export type { ClaimCheckOptions } from '../routing/claim-check.js'
export { DynamoDBPayloadStore, FolderPayloadStore, MemoryPayloadStore } from '../store/payload-store.js'
export type { PayloadStore } from '../store/payload-store.js'

// The Kinesis transport (PutRecords batches, per-record retry, per-key order)
export { KinesisTransport } from '../transport/kinesis.js'
export type {
  FailedResult,
  KinesisTransportOptions,
  KinesisTransportStats,
  SendReport,
  SendResult,
  SentResult,
} from '../transport/kinesis.js'
export type { Ordering } from '../transport/partition-queue.js'
export { HeldBackError, SendFailedError } from '../transport/errors.js'

// Fault injection for tests: PutRecords partial failures and throttles the emulators never produce
export { injectPutRecordsFaults } from './fault-injection.js'
export type { FaultInjection, FaultRecord, PutRecordsFaultCode, PutRecordsFaults } from './fault-injection.js'

// The shard consumer for long-running hosts: every shard of some streams, leases and checkpoints in the table
export { ShardConsumer } from './shard-consumer.js'
export type {
  IdleOptions,
  ShardBatch,
  ShardConsumerOptions,
  ShardHandler,
  ShardHandlerResult,
  ShardRecord,
  ShardStats,
  StartingPosition,
} from './shard-consumer.js'
export { DynamoDBLeaseStore, LeaseLostError, SHARD_END } from '../store/dynamodb-leases.js'
export type { Lease } from '../store/dynamodb-leases.js'

// The AWS mode as a System, the durable host it runs batches on, and the resources it needs
export { AwsSystem } from './aws-system.js'
export type { AwsSystemOptions } from './aws-system.js'
export { lambdaInvoker } from './lambda-invoker.js'
export type { HostInvoker } from './lambda-invoker.js'
export { DurableHost } from '../hosts/durable/durable-host.js'
export type { BatchResult, DurableBatch, DurableHostOptions, DurableRecord } from '../hosts/durable/durable-host.js'
export { ensureResources, ensureStream } from './resources.js'
export type { ResourceOptions } from './resources.js'

// Apps for `troupe dev`: export default defineApp({ actors, start? }) from troupe.app.ts
export { defineApp } from '../cli/app.js'
export type { App, AppContext, AppStarted, AppStop } from '../cli/app.js'
export { TableInspector, type TableInspectorOptions } from '../inspect/table-inspector.js'
