// troupe/aws: the AWS mode as a user runs it. Loads the AWS SDK; the core (`troupe`) does not.
// The hosts' machinery (the durable host, the shard consumer and its leases, the transport, the
// record codec's internals) is not exported: AwsSystem and the Lambda host (troupe/lambda) run
// it. The emulators and fault injection for tests and `troupe dev` are in troupe/local.

// The AWS mode as a System, and the resources it needs
export { AwsSystem } from './aws-system.js'
export type { AwsSystemOptions } from './aws-system.js'
export { ensureResources, ensureStream } from './resources.js'
export type { ResourceOptions } from './resources.js'

// Asking the host function directly (AwsSystem's `invoke`)
export { lambdaInvoker } from './lambda-invoker.js'
export type { HostInvoker, LambdaSender } from './lambda-invoker.js'

// The DynamoDB table (state, timers, receipts, dead letters, leases), and its stores for an embedded system
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
// Types' rate buckets (`policy.throttle` of keyed and stateless actors), one item per type
export { DynamoDBTypeBuckets } from '../store/dynamodb-type-buckets.js'
// Types' concurrency slots (`policy.concurrency`), leased per batch, one item per capped type
export { DynamoDBTypeSlots } from '../store/dynamodb-type-slots.js'
export { DynamoDBSideEffects } from '../store/dynamodb-side-effects.js'

// Large messages: the claim check's options and payload stores
export type { ClaimCheckOptions } from '../routing/claim-check.js'
export { DynamoDBPayloadStore, FolderPayloadStore, MemoryPayloadStore } from '../store/payload-store.js'
export type { PayloadStore } from '../store/payload-store.js'

// What AwsSystemOptions names: routing, send ordering, the limits a host's record codec accepts
export type { RouterOptions } from '../routing/router.js'
export type { Ordering } from '../transport/partition-queue.js'
export { RecordCodec } from '../routing/record-codec.js'
export type { RecordCodecOptions } from '../routing/record-codec.js'

// Kinesis limits
export {
  DEFAULT_MAX_RECORD_BYTES,
  LARGEST_MAX_RECORD_BYTES,
  PARTITION_KEY_MAX_LENGTH,
  PUT_RECORDS_MAX_BYTES,
  PUT_RECORDS_MAX_RECORDS,
} from '../routing/kinesis-limits.js'

// Errors a caller catches, and the dead letter of a record no host could read
export { InvalidEnvelopeError, RecordTooLargeError } from '../routing/record-errors.js'
export { PayloadError } from '../routing/claim-check.js'
export { HeldBackError, SendFailedError } from '../transport/errors.js'
export { UNREADABLE_TYPE } from '../routing/unreadable-record.js'
export type { UnreadableRecord } from '../routing/unreadable-record.js'

// Cost counters, and what they cost in dollars (docs/cost.md)
export { RequestCounter, countRequests } from './request-counter.js'
export type { CountableClient, RequestCount, RequestCounts } from './request-counter.js'
export { messageCost, type MessageCost, type MessageCostOptions } from '../cost/message-cost.js'
export { choosePrices, type PriceChoice, type PricesInUse } from '../cost/price-book.js'
export { PRICES, PRICE_NAMES, type Price, type PriceBook, type PriceName } from '../cost/prices.js'

// Inspecting a system from its table
export { TableInspector, type TableInspectorOptions } from './table-inspector.js'
// What TableInspector reads beside the table on AWS: the hosts' metrics in CloudWatch.
export { CloudWatchMetrics, type CloudWatchMetricsOptions } from '../metrics/cloudwatch-metrics.js'
export type { MetricsSource, TrafficTotal } from '../metrics/metrics-source.js'

// Apps for `troupe dev`, `bundle`, `template` and `deploy`: export default defineApp({ actors, start? }) from troupe.app.ts
export { defineApp } from '../app/define-app.js'
export type { App, AppContext, AppStarted, AppStop } from '../app/define-app.js'
