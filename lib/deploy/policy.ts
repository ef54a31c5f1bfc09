// The host function's permissions: exactly what the handler and its event source mapping call,
// on exactly the deployment's streams, table and log group. One builder for the template (ARNs
// as CloudFormation expressions) and for `troupe deploy` (ARNs as the strings AWS answered).

/** Kinesis actions on the deployment's streams: the mapping reads them, the host writes them. */
export const STREAM_ACTIONS = [
  // read by the event source mapping (it polls with the function's role)
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  // written by the host: messages a turn sends (DescribeStreamSummary above reads the record size)
  'kinesis:PutRecord',
  'kinesis:PutRecords',
] as const

/**
 * The one action without a resource: `kinesis:ListStreams` is account-level (the service
 * authorization reference lists no resource type for it), so IAM takes only `"*"` for it. The
 * event source mapping calls it; it reveals stream names, nothing inside them.
 */
export const ACCOUNT_LEVEL_ACTIONS = ['kinesis:ListStreams'] as const

/** DynamoDB actions on the table and its indexes (state, timers, receipts, dead letters, leases). */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
] as const

/** S3 actions on the claim check's objects in the payload bucket (S3PayloadStore): write a body, read it back. */
export const PAYLOAD_ACTIONS = ['s3:GetObject', 's3:PutObject'] as const

/** CloudWatch Logs actions on the function's own log group. */
export const LOG_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'] as const

export interface PolicyStatement<A> {
  Sid: string
  Effect: 'Allow'
  Action: string[]
  Resource: A[] | '*'
}

export interface PolicyDocument<A> {
  Version: '2012-10-17'
  Statement: PolicyStatement<A>[]
}

/** The resources the host's policy names. `A` is a string ARN, or a CloudFormation expression. */
export interface HostResources<A> {
  streams: readonly A[]
  table: A
  /** Each index of the table (`<table arn>/index/<name>`): Query on an index is authorized on its own ARN. */
  indexes: readonly A[]
  /** The log group, and its streams (`<group arn>:*`). */
  logGroup: readonly A[]
  /** With payloads in S3: the objects under the store's prefix (`<bucket arn>/<prefix>*`), never the bucket itself. */
  payloadObjects?: readonly A[]
}

/** The inline policy of the host's role. */
export function hostPolicy<A>(resources: HostResources<A>): PolicyDocument<A> {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Streams', Effect: 'Allow', Action: [...STREAM_ACTIONS], Resource: [...resources.streams] },
      { Sid: 'ListStreams', Effect: 'Allow', Action: [...ACCOUNT_LEVEL_ACTIONS], Resource: '*' },
      { Sid: 'Table', Effect: 'Allow', Action: [...TABLE_ACTIONS], Resource: [resources.table, ...resources.indexes] },
      { Sid: 'Logs', Effect: 'Allow', Action: [...LOG_ACTIONS], Resource: [...resources.logGroup] },
      ...(resources.payloadObjects?.length ? [{ Sid: 'Payloads', Effect: 'Allow' as const, Action: [...PAYLOAD_ACTIONS], Resource: [...resources.payloadObjects] }] : []),
    ],
  }
}

/** Lets Lambda assume the host's role, and nothing else. */
export function lambdaTrustPolicy() {
  return {
    Version: '2012-10-17' as const,
    Statement: [{ Effect: 'Allow' as const, Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  }
}
