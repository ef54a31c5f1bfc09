// troupe/aws: the AWS mode's pieces. Loads the AWS SDK; the core (`troupe`) does not.

// The DynamoDB store (actor state and durable timers, one table)
export {
  DYNAMODB_MAX_ITEM_BYTES,
  DynamoDBStateStore,
  DynamoDBTimerStore,
  ItemTooLargeError,
  createTable,
  dynamodbStores,
  tableDefinition,
} from '../store/dynamodb.js'
export type { CreateTableOptions, DynamoDBStoreOptions } from '../store/dynamodb.js'

// Cost counters
export { RequestCounter, countRequests } from './request-counter.js'
export type { CountableClient, RequestCount, RequestCounts } from './request-counter.js'

// The local AWS (dynalite + kinesalite or kinesis-local on 127.0.0.1)
export { clients, startLocalStack } from './local-stack.js'
export type { LocalClientOptions, LocalKinesis, LocalStack, LocalStackOptions } from './local-stack.js'
