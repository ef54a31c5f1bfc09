// troupe/lambda: what a user's Lambda function needs: the host handler, the event shapes it
// takes, the bundler that builds it, and its logs through a Powertools Logger. The local Lambda
// that runs it on a machine (execution environments, the event source mapping, the Invoke API)
// is in troupe/local.
export { createLambdaHandler } from './handler.js'
export type { LambdaHandler, LambdaHostOptions } from './handler.js'
export { isAskInvocation, isKinesisEvent, isTick } from '../platform/lambda-events.js'
export type { AskAnswer, AskInvocation, KinesisBatchResponse, KinesisEventRecord, KinesisStreamEvent, LambdaContext, ScheduledEvent, TickInvocation } from '../platform/lambda-events.js'
export { bundleHandler } from '../deploy/bundle-handler.js'
export type { BundleOptions, BundleResult, EsbuildPlugin } from '../deploy/bundle-handler.js'
export { fromPowertools } from './powertools.js'
export type { PowertoolsLogger } from './powertools.js'
