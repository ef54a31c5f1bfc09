// troupe/adapters: AWS event shapes → tells. Each adapter is a Lambda handler you export from
// your own function, in front of a system that tells (an AwsSystem with `consume: false`, or
// any System): the event becomes one message per record, typed against the actor's mailbox.
export { fromS3, s3ObjectsCreated } from './s3.js'
export type { S3ObjectCreated } from './s3.js'
export { fromSns, snsNotifications } from './sns.js'
export type { SnsNotification } from './sns.js'
export { fromDynamoDBStream, tableChanges } from './dynamodb-stream.js'
export type { TableChange } from './dynamodb-stream.js'
export { fromEventBridge, bridgeEventOf } from './eventbridge.js'
export type { BridgeEvent } from './eventbridge.js'
export { AdapterSendError } from './deliver.js'
export type { AdapterArgs, AdapterOptions, Delivered, SourceItem, ToMessage } from './deliver.js'
