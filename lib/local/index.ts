// troupe/local: the emulators, for tests and `troupe dev`; nothing here runs in production. The
// local AWS (dynalite, kinesalite or kinesis-local on 127.0.0.1), the Lambda event source mapping
// and execution environments as AWS runs them, the Lambda Invoke API, the wait until all of it is
// idle, and the PutRecords failures the emulators never produce. Production code (the Lambda
// host, AwsSystem, the durable host, transport and stores) never imports from here.

// The local AWS: DynamoDB and Kinesis servers, and clients pointed at them
export { clients, startLocalStack } from './local-stack.js'
export type { LocalClientOptions, LocalKinesis, LocalStack, LocalStackOptions } from './local-stack.js'

// The local Lambda: execution environments in child processes, on the runtime's Node
export { LocalFunction, MAX_SYNC_PAYLOAD_BYTES, RequestTooLargeError } from './local-function.js'
export type { DeployOptions, EnvironmentInfo, FunctionErrorPayload, FunctionFailure, InvokeOptions, InvokeResult, KillOptions, LocalFunctionOptions, LocalFunctionStats, LogSource } from './local-function.js'
export { runtimeNode } from './runtime-node.js'
export type { RuntimeNodeOptions } from './runtime-node.js'

// The Kinesis event source mapping, with AWS's batching, retries, record age, bisect and checkpoints
export { LocalEventSourceMapping } from './local-event-source-mapping.js'
export type {
  BatchReport,
  CheckpointStore,
  FunctionResponseType,
  LocalEventSourceMappingOptions,
  LocalEventSourceMappingStats,
  OnFailureRecord,
} from './local-event-source-mapping.js'

// The Lambda Invoke API, and a client for it
export { startLocalInvokeServer } from './local-invoke-server.js'
export type { LocalInvokeServer, LocalInvokeServerOptions } from './local-invoke-server.js'
export { localLambdaClient } from './local-lambda-client.js'

// Waiting until the local Lambda path has nothing left to do
export { settleLocalLambda } from './settle-local-lambda.js'
export type { LocalLambdaPath, SettleOptions } from './settle-local-lambda.js'
export { NotIdleError } from './not-idle-error.js'

// Fault injection: PutRecords partial failures and throttles the emulators never produce
export { injectPutRecordsFaults } from './fault-injection.js'
export type { FaultInjection, FaultRecord, PutRecordsFaultCode, PutRecordsFaults } from './fault-injection.js'

// CloudWatch's ListMetrics and GetMetricData over EMF lines, to read metrics as on AWS
export { startLocalCloudWatch } from './local-cloudwatch.js'
export type { LocalCloudWatch, LocalCloudWatchOptions } from './local-cloudwatch.js'
