// buildTemplate: the CloudFormation template of a deployment, as a pure function. Its structure,
// a policy that names only the template's own resources, and the mapping settings that keep a
// poison record from holding a shard.
import t from 'tap'
import { ConfigError } from '../../lib/core/errors.js'
import { ACCOUNT_LEVEL_ACTIONS, LOG_ACTIONS, PAYLOAD_ACTIONS, STREAM_ACTIONS, TABLE_ACTIONS } from '../../lib/deploy/policy.js'
import { buildTemplate, streamLogicalIds, type CfnResource, type CfnTemplate } from '../../lib/deploy/template.js'
import { tableDefinition } from '../../lib/store/dynamodb.js'

const base = {
  name: 'shop',
  streams: [
    { name: 'shop', shards: 2 },
    { name: 'shop-urgent', shards: 1 },
  ],
  tableName: 'shop-table',
  functionName: 'shop-host',
}

const ofType = (template: CfnTemplate, type: string): [string, CfnResource][] => Object.entries(template.Resources).filter(([, r]) => r.Type === type)
const props = (template: CfnTemplate, id: string): Record<string, any> => template.Resources[id]!.Properties as Record<string, any>

/** The logical ids an expression refers to (Ref, Fn::GetAtt, ${Id} and ${Id.Attr} in Fn::Sub). */
function referencedIds(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return []
  const v = value as Record<string, unknown>
  if (typeof v.Ref === 'string') return [v.Ref]
  if (Array.isArray(v['Fn::GetAtt'])) return [String(v['Fn::GetAtt'][0])]
  if (typeof v['Fn::Sub'] === 'string') {
    return [...v['Fn::Sub'].matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!.split('.')[0]!).filter((id) => !id.startsWith('AWS::'))
  }
  return []
}

t.test('the template has the streams, the table, the role, the function, a mapping per stream and the tick', async (t) => {
  const template = buildTemplate(base)
  t.equal(template.AWSTemplateFormatVersion, '2010-09-09')
  t.same(JSON.parse(JSON.stringify(template)), template, 'plain JSON')
  const types = Object.values(template.Resources)
    .map((r) => r.Type)
    .sort()
  t.same(types, [
    'AWS::DynamoDB::Table',
    'AWS::Events::Rule',
    'AWS::IAM::Role',
    'AWS::Kinesis::Stream',
    'AWS::Kinesis::Stream',
    'AWS::Lambda::EventSourceMapping',
    'AWS::Lambda::EventSourceMapping',
    'AWS::Lambda::Function',
    'AWS::Lambda::Permission',
    'AWS::Logs::LogGroup',
  ])
  const streams = ofType(template, 'AWS::Kinesis::Stream')
  t.same(
    streams.map(([id, r]) => [id, r.Properties.Name, r.Properties.ShardCount]),
    [
      ['StreamShop', 'shop', 2],
      ['StreamShopUrgent', 'shop-urgent', 1],
    ],
  )
  for (const [, r] of streams) t.equal(r.DeletionPolicy, 'Retain', 'a stream outlives its stack')
  // Every Ref and GetAtt points at a resource or parameter of this template.
  const ids = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})])
  const walk = (value: unknown): void => {
    for (const id of referencedIds(value)) t.ok(ids.has(id), `${id} is in the template`)
    if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) walk(v)
  }
  walk(template.Resources)
  walk(template.Outputs)
})

t.test('the table has exactly the keys and index of tableDefinition, on-demand, TTL on ttl and PITR on', async (t) => {
  const template = buildTemplate(base)
  const [[id, table]] = ofType(template, 'AWS::DynamoDB::Table') as [[string, CfnResource]]
  const want = tableDefinition('shop-table')
  const p = props(template, id)
  t.equal(p.TableName, 'shop-table')
  t.equal(p.BillingMode, 'PAY_PER_REQUEST')
  t.same(p.AttributeDefinitions, want.AttributeDefinitions)
  t.same(p.KeySchema, want.KeySchema)
  t.same(p.LocalSecondaryIndexes, want.LocalSecondaryIndexes)
  t.same(p.TimeToLiveSpecification, { AttributeName: 'ttl', Enabled: true })
  t.same(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true })
  t.equal(table.DeletionPolicy, 'Retain', "the table (every actor's state) outlives its stack")
  t.same(props(buildTemplate({ ...base, pointInTimeRecovery: false }), id).PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: false })
})

t.test("the role's policy names only this template's streams, table, index and log group", async (t) => {
  const template = buildTemplate(base)
  const role = props(template, 'HostRole')
  t.same(role.AssumeRolePolicyDocument.Statement, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }])
  t.equal(role.Policies.length, 1)
  const statements: { Sid: string; Action: string[]; Resource: unknown }[] = role.Policies[0].PolicyDocument.Statement
  const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]))
  t.same(Object.keys(bySid).sort(), ['ListStreams', 'Logs', 'Streams', 'Table'])

  t.same(bySid.Streams!.Action, [...STREAM_ACTIONS])
  for (const action of ['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:PutRecords', 'kinesis:PutRecord']) {
    t.ok(bySid.Streams!.Action.includes(action), action)
  }
  t.same(bySid.Streams!.Resource, [{ 'Fn::GetAtt': ['StreamShop', 'Arn'] }, { 'Fn::GetAtt': ['StreamShopUrgent', 'Arn'] }])

  t.same(bySid.Table!.Action, [...TABLE_ACTIONS])
  t.same(bySid.Table!.Resource, [{ 'Fn::GetAtt': ['Table', 'Arn'] }, { 'Fn::Sub': '${Table.Arn}/index/byDue' }])

  t.same(bySid.Logs!.Action, [...LOG_ACTIONS])
  t.same(bySid.Logs!.Resource, [
    { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${HostLogGroup}' },
    { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${HostLogGroup}:*' },
  ])
  t.equal(props(template, 'HostLogGroup').LogGroupName, '/aws/lambda/shop-host', "the function's own log group")

  // The one "*": kinesis:ListStreams is account-level, IAM takes no other resource for it.
  t.same(bySid.ListStreams!.Action, [...ACCOUNT_LEVEL_ACTIONS])
  t.equal(bySid.ListStreams!.Resource, '*')
  for (const s of statements) {
    for (const action of s.Action) t.notMatch(action, /\*/, `${action} is one action, not a wildcard`)
    if (s.Sid === 'ListStreams') continue
    t.ok(Array.isArray(s.Resource), `${s.Sid} names its resources`)
    for (const r of s.Resource as unknown[]) {
      t.not(r, '*', `${s.Sid} has no "*" resource`)
      t.ok(referencedIds(r).length > 0, `${s.Sid}: ${JSON.stringify(r)} refers to a resource of the template`)
    }
  }
})

t.test('payloads in S3: the bucket with a lifecycle rule that expires them, and the role may only get and put under its prefix', async (t) => {
  t.equal(buildTemplate(base).Resources.PayloadBucket, undefined, 'no bucket for an app that keeps its payloads elsewhere')
  t.notOk(JSON.stringify(buildTemplate(base)).includes('s3:'), 'and no S3 action')

  const template = buildTemplate({ ...base, payloadBucket: { bucket: 'shop-payloads', prefix: 'troupe-payloads/', expireAfterDays: 8 } })
  const bucket = template.Resources.PayloadBucket!
  t.equal(bucket.Type, 'AWS::S3::Bucket')
  t.equal(bucket.DeletionPolicy, 'Retain', 'kept: it holds bodies of messages still in the streams')
  t.same(bucket.Properties.LifecycleConfiguration, { Rules: [{ Id: 'troupe-payloads-expire', Status: 'Enabled', Prefix: 'troupe-payloads/', ExpirationInDays: 8 }] })
  t.match(bucket.Properties, { BucketName: 'shop-payloads', PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true } })
  t.same(template.Outputs.PayloadBucket?.Value, { Ref: 'PayloadBucket' })

  const statements: { Sid: string; Action: string[]; Resource: unknown[] }[] = props(template, 'HostRole').Policies[0].PolicyDocument.Statement
  t.same(statements.map((s) => s.Sid).sort(), ['ListStreams', 'Logs', 'Payloads', 'Streams', 'Table'])
  const payloads = statements.find((s) => s.Sid === 'Payloads')!
  t.same(payloads.Action, [...PAYLOAD_ACTIONS])
  t.same(payloads.Action, ['s3:GetObject', 's3:PutObject'], 'reading and writing objects, nothing else: no listing, no deleting, nothing on the bucket')
  t.same(payloads.Resource, [{ 'Fn::Sub': '${PayloadBucket.Arn}/troupe-payloads/*' }], "the objects under the store's prefix in this template's bucket")
  t.same(referencedIds(payloads.Resource[0]), ['PayloadBucket'])
  for (const s of statements) if (s.Sid !== 'Payloads') t.notOk(s.Action.some((a) => a.startsWith('s3:')), `${s.Sid} has no S3 action`)

  const whole = buildTemplate({ ...base, payloadBucket: { bucket: 'shop-payloads', prefix: '', expireAfterDays: 1 } })
  t.same(whole.Resources.PayloadBucket!.Properties.LifecycleConfiguration, { Rules: [{ Id: 'troupe-payloads-expire', Status: 'Enabled', ExpirationInDays: 1 }] }, 'no prefix: the rule covers the bucket')

  const cases: [Record<string, unknown>, RegExp][] = [
    [{ bucket: 'Shop_Payloads', prefix: '', expireAfterDays: 1 }, /payloadBucket\.bucket must be an S3 bucket name .*"Shop_Payloads"/],
    [{ bucket: 'shop-payloads', prefix: 'a/*', expireAfterDays: 1 }, /payloadBucket\.prefix must be a key prefix without \* \? \$/],
    [{ bucket: 'shop-payloads', prefix: '${AWS::AccountId}', expireAfterDays: 1 }, /payloadBucket\.prefix/],
    [{ bucket: 'shop-payloads', prefix: '', expireAfterDays: 0 }, /payloadBucket\.expireAfterDays must be a whole number of days from 1 up, got 0/],
  ]
  for (const [payloadBucket, message] of cases) t.throws(() => buildTemplate({ ...base, payloadBucket } as never), message, JSON.stringify(payloadBucket))
})

t.test('the function: nodejs24.x, index.handler, the table and default stream in its environment', async (t) => {
  const template = buildTemplate({ ...base, memoryMb: 1024, timeoutS: 120, codeS3: { bucket: 'artifacts', key: 'shop/lambda.zip' } })
  const fn = props(template, 'HostFunction')
  t.equal(fn.FunctionName, 'shop-host')
  t.equal(fn.Runtime, 'nodejs24.x')
  t.equal(fn.Handler, 'index.handler')
  t.same(fn.Architectures, ['arm64'])
  t.equal(fn.MemorySize, 1024)
  t.equal(fn.Timeout, 120)
  t.same(fn.Role, { 'Fn::GetAtt': ['HostRole', 'Arn'] })
  t.same(fn.Environment.Variables, { TROUPE_TABLE: { Ref: 'Table' }, TROUPE_STREAM: { Ref: 'StreamShop' } })
  t.same(fn.Code, { S3Bucket: 'artifacts', S3Key: 'shop/lambda.zip' })
  t.equal(template.Parameters, undefined)
  t.equal(template.Resources.HostFunction!.DependsOn, 'HostLogGroup', 'the log group (with its retention) comes first')
})

t.test('each stream gets a mapping with ReportBatchItemFailures, bisect, bounded retries and age', async (t) => {
  const template = buildTemplate(base)
  const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping')
  t.equal(mappings.length, 2)
  t.same(
    mappings.map(([, m]) => m.Properties.EventSourceArn),
    [{ 'Fn::GetAtt': ['StreamShop', 'Arn'] }, { 'Fn::GetAtt': ['StreamShopUrgent', 'Arn'] }],
  )
  for (const [id, m] of mappings) {
    t.same(
      m.Properties,
      {
        EventSourceArn: m.Properties.EventSourceArn,
        FunctionName: { Ref: 'HostFunction' },
        StartingPosition: 'TRIM_HORIZON',
        Enabled: true,
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        ParallelizationFactor: 1,
        MaximumRetryAttempts: -1,
        MaximumRecordAgeInSeconds: -1,
        BisectBatchOnFunctionError: false,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
      id,
    )
  }
  const tuned = ofType(buildTemplate({ ...base, batchSize: 500, maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 600 }), 'AWS::Lambda::EventSourceMapping')
  t.match(tuned[0]![1].Properties, { BatchSize: 500, MaximumRetryAttempts: 3, MaximumRecordAgeInSeconds: 600, ParallelizationFactor: 1 })
})

t.test('a rule ticks the function every minute, and may invoke it', async (t) => {
  const template = buildTemplate(base)
  const rule = props(template, 'TickRule')
  t.equal(rule.ScheduleExpression, 'rate(1 minute)')
  t.equal(rule.State, 'ENABLED')
  t.equal(rule.Name, 'shop-tick')
  t.same(rule.Targets, [{ Id: 'troupe-host', Arn: { 'Fn::GetAtt': ['HostFunction', 'Arn'] }, Input: '{"troupe":"tick"}' }])
  t.same(JSON.parse(rule.Targets[0].Input), { troupe: 'tick' }, 'what the handler takes as a tick')
  t.same(props(template, 'TickPermission'), {
    Action: 'lambda:InvokeFunction',
    FunctionName: { Ref: 'HostFunction' },
    Principal: 'events.amazonaws.com',
    SourceArn: { 'Fn::GetAtt': ['TickRule', 'Arn'] },
  })
})

t.test("the code's location: S3, a local zip for `aws cloudformation package`, or parameters", async (t) => {
  t.same(props(buildTemplate({ ...base, codePath: 'build/lambda.zip' }), 'HostFunction').Code, 'build/lambda.zip')
  const parameterized = buildTemplate(base)
  t.same(props(parameterized, 'HostFunction').Code, { S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'CodeS3Key' } })
  t.same(Object.keys(parameterized.Parameters ?? {}), ['CodeS3Bucket', 'CodeS3Key'])
  t.throws(() => buildTemplate({ ...base, codePath: 'x.zip', codeS3: { bucket: 'b', key: 'k' } }), /codeS3 or codePath, not both/)
})

t.test('options are checked, with the field and the reason in the message', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maximumRetryAttempts: -2 }, /maximumRetryAttempts must be a whole number from 0 to 10000 \(-1 for no bound/],
    [{ maximumRecordAgeInSeconds: 0 }, /maximumRecordAgeInSeconds must be a whole number from 60 to 604800/],
    [{ maximumRecordAgeInSeconds: 30 }, /from 60 to 604800/],
    [{ parallelizationFactor: 2 }, /parallelizationFactor must be 1 \(a copy of a message is recognised by its shard's fence/],
    [{ batchSize: 0 }, /batchSize must be a whole number from 1 to 10000/],
    [{ parallelizationFactor: 11 }, /parallelizationFactor/],
    [{ memoryMb: 64 }, /memoryMb must be a whole number from 128 to 10240/],
    [{ timeoutS: 901 }, /timeoutS/],
    [{ logRetentionDays: 2 }, /logRetentionDays must be one of 1, 3, 5/],
    [{ architecture: 'mips' }, /architecture must be 'arm64' or 'x86_64'/],
    [{ runtime: 'nodejs20.x' }, /runtime must be one of nodejs24\.x, nodejs22\.x, got "nodejs20\.x"/],
    [{ tableName: 'ab' }, /tableName must be a DynamoDB table name/],
    [{ functionName: 'a b' }, /functionName must be a Lambda function name/],
    [{ streams: [] }, /at least one stream/],
    [{ streams: [{ name: 'a', shards: 1 }, { name: 'a', shards: 1 }] }, /lists a twice/],
    [{ streams: [{ name: 'a', shards: 0 }] }, /streams\[0\]\.shards must be a whole number from 1/],
  ]
  for (const [change, message] of cases) {
    t.throws(() => buildTemplate({ ...base, ...change } as typeof base), message, JSON.stringify(change))
  }
  t.throws(() => buildTemplate({ ...base, batchSize: 0 }), ConfigError)
})

t.test('stream logical ids come from the names, numbered when two come out the same', async (t) => {
  t.same(streamLogicalIds(['troupe', 'troupe-urgent', 'troupe.urgent', 'a_b']), ['StreamTroupe', 'StreamTroupeUrgent', 'StreamTroupeUrgent2', 'StreamAB'])
})
