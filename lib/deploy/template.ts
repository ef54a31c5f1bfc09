// `troupe template`: the deployment as a CloudFormation template (JSON). A pure function of the
// options: the streams, the table (tableDefinition's keys and index, TTL on `ttl`, PITR), the log
// group, the host's role with a least-privilege inline policy, the function, one event source
// mapping per stream with safe settings, the scheduled tick, and, when the app keeps its payloads
// in S3, their bucket with a lifecycle rule that expires them. ARNs come from `Fn::GetAtt`,
// `Ref` and `Fn::Sub` on the resources themselves, so the policy names exactly them.
import { ConfigError } from '../core/errors.js'
import { tableDefinition } from '../store/dynamodb.js'
import { isS3BucketName } from '../store/s3-bucket-name.js'
import { hostPolicy, lambdaTrustPolicy } from './policy.js'
import {
  HANDLER,
  HOST_POLICY_NAME,
  TICK_INPUT,
  TICK_SCHEDULE,
  TICK_TARGET_ID,
  logGroupName,
  mappingSettings,
  resolveStack,
  tickRuleName,
  type StackOptions,
} from './stack.js'

export type CfnExpression = { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Sub': string }
export type CfnValue = string | number | boolean | CfnExpression | CfnValue[] | { [key: string]: CfnValue }

export interface CfnResource {
  Type: string
  Properties: Record<string, CfnValue>
  DependsOn?: string | string[]
  DeletionPolicy?: 'Retain' | 'Delete'
  UpdateReplacePolicy?: 'Retain' | 'Delete'
}

export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09'
  Description: string
  Parameters?: Record<string, { Type: string; Description: string }>
  Resources: Record<string, CfnResource>
  Outputs: Record<string, { Description: string; Value: CfnValue }>
}

export interface TemplateOptions extends StackOptions {
  /** Where the zipped bundle is in S3. */
  codeS3?: { bucket: string; key: string }
  /**
   * A local path to the zip instead, for `aws cloudformation package`, which uploads it and
   * writes the S3 location in its place. Without this or `codeS3`, the template takes the
   * location as the parameters `CodeS3Bucket` and `CodeS3Key`.
   */
  codePath?: string
  /** The app's payloads are in S3 (S3PayloadStore): the bucket is made, and the role may read and write under its prefix. */
  payloadBucket?: PayloadBucketSpec
}

export interface PayloadBucketSpec {
  bucket: string
  /** The store's prefix: the lifecycle rule and the role's grant cover only what is under it. */
  prefix: string
  /** Days the lifecycle rule keeps an object: the claim check's `ttlMs` rounded up to whole days. */
  expireAfterDays: number
}

/** The logical id of the payload bucket, when there is one. */
export const PAYLOAD_BUCKET_ID = 'PayloadBucket'

/** Logical ids of the resources every template has. */
export const LOGICAL_IDS = {
  table: 'Table',
  logGroup: 'HostLogGroup',
  role: 'HostRole',
  function: 'HostFunction',
  tickRule: 'TickRule',
  tickPermission: 'TickPermission',
} as const

const ref = (id: string): CfnExpression => ({ Ref: id })
const arnOf = (id: string): CfnExpression => ({ 'Fn::GetAtt': [id, 'Arn'] })
const sub = (text: string): CfnExpression => ({ 'Fn::Sub': text })

/**
 * Builds the CloudFormation template of a deployment. Deploy it with
 * `aws cloudformation deploy --capabilities CAPABILITY_IAM` (the role's name is generated).
 *
 * @example
 * const template = buildTemplate({
 *   name: 'shop', streams: [{ name: 'shop', shards: 2 }], tableName: 'shop', functionName: 'shop',
 *   codeS3: { bucket: 'my-artifacts', key: 'shop/lambda.zip' },
 * })
 * writeFileSync('shop.template.json', JSON.stringify(template, null, 2))
 */
export function buildTemplate(options: TemplateOptions): CfnTemplate {
  const stack = resolveStack(options)
  const ids = LOGICAL_IDS
  const streamIds = streamLogicalIds(stack.streams.map((s) => s.name))
  const definition = tableDefinition(stack.tableName)
  const indexNames = [...(definition.LocalSecondaryIndexes ?? []), ...(definition.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName!)
  const resources: Record<string, CfnResource> = {}

  for (const [i, s] of stack.streams.entries()) {
    resources[streamIds[i]!] = {
      Type: 'AWS::Kinesis::Stream',
      // The stream holds messages not yet handled: a stack update or deletion keeps it.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { Name: s.name, ShardCount: s.shards, StreamModeDetails: { StreamMode: 'PROVISIONED' }, RetentionPeriodHours: 24 },
    }
  }

  resources[ids.table] = {
    Type: 'AWS::DynamoDB::Table',
    // The table holds every actor's state: a stack update or deletion keeps it.
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      TableName: stack.tableName,
      BillingMode: definition.BillingMode!,
      AttributeDefinitions: definition.AttributeDefinitions!.map((a) => ({ AttributeName: a.AttributeName!, AttributeType: a.AttributeType! })),
      KeySchema: definition.KeySchema!.map((k) => ({ AttributeName: k.AttributeName!, KeyType: k.KeyType! })),
      LocalSecondaryIndexes: (definition.LocalSecondaryIndexes ?? []).map((index) => ({
        IndexName: index.IndexName!,
        KeySchema: index.KeySchema!.map((k) => ({ AttributeName: k.AttributeName!, KeyType: k.KeyType! })),
        Projection: { ProjectionType: index.Projection!.ProjectionType! },
      })),
      // Receipts and joined forks carry `ttl` (epoch seconds); readers filter what TTL has not deleted yet.
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: stack.pointInTimeRecovery },
    },
  }

  resources[ids.logGroup] = {
    Type: 'AWS::Logs::LogGroup',
    Properties: { LogGroupName: logGroupName(stack), RetentionInDays: stack.logRetentionDays },
  }

  const payloads = options.payloadBucket && checkPayloadBucket(options.payloadBucket)
  if (payloads) {
    resources[PAYLOAD_BUCKET_ID] = {
      Type: 'AWS::S3::Bucket',
      // It holds the bodies of messages still in the streams: a stack update or deletion keeps it.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: payloads.bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        // S3 has no expiry per object: this rule is what deletes payloads (S3PayloadStore reads an expired one as gone until then).
        LifecycleConfiguration: {
          Rules: [{ Id: 'troupe-payloads-expire', Status: 'Enabled', ...(payloads.prefix ? { Prefix: payloads.prefix } : {}), ExpirationInDays: payloads.expireAfterDays }],
        },
      },
    }
  }

  const policy = hostPolicy<CfnExpression>({
    streams: streamIds.map(arnOf),
    table: arnOf(ids.table),
    indexes: indexNames.map((name) => sub(`\${${ids.table}.Arn}/index/${name}`)),
    logGroup: [
      sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${ids.logGroup}}`),
      sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${ids.logGroup}}:*`),
    ],
    ...(payloads ? { payloadObjects: [sub(`\${${PAYLOAD_BUCKET_ID}.Arn}/${payloads.prefix}*`)] } : {}),
  })
  resources[ids.role] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `troupe ${stack.name}: the host function ${stack.functionName}`,
      AssumeRolePolicyDocument: lambdaTrustPolicy() as unknown as CfnValue,
      Policies: [{ PolicyName: HOST_POLICY_NAME, PolicyDocument: policy as unknown as CfnValue }],
    },
  }

  resources[ids.function] = {
    Type: 'AWS::Lambda::Function',
    // The log group exists (with its retention) before the function can write to it.
    DependsOn: ids.logGroup,
    Properties: {
      FunctionName: stack.functionName,
      Description: `troupe ${stack.name}: stream batches, asks and ticks`,
      Runtime: stack.runtime,
      Handler: HANDLER,
      Architectures: [stack.architecture],
      MemorySize: stack.memoryMb,
      Timeout: stack.timeoutS,
      Role: arnOf(ids.role),
      Code: codeOf(options),
      Environment: {
        // The same variables as hostEnvironment(), as references to the resources.
        Variables: {
          TROUPE_TABLE: ref(ids.table),
          TROUPE_STREAM: ref(streamIds[0]!),
        },
      },
    },
  }

  for (const id of streamIds) {
    resources[`${id}Mapping`] = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: arnOf(id),
        FunctionName: ref(ids.function),
        StartingPosition: 'TRIM_HORIZON',
        Enabled: true,
        ...mappingSettings(stack),
      },
    }
  }

  resources[ids.tickRule] = {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: tickRuleName(stack),
      Description: `troupe ${stack.name}: fires due timers, join deadlines and parked messages`,
      ScheduleExpression: TICK_SCHEDULE,
      State: 'ENABLED',
      Targets: [{ Id: TICK_TARGET_ID, Arn: arnOf(ids.function), Input: TICK_INPUT }],
    },
  }
  resources[ids.tickPermission] = {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: ref(ids.function),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ids.tickRule),
    },
  }

  const template: CfnTemplate = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `troupe ${stack.name}: ${stack.streams.length} Kinesis stream${stack.streams.length === 1 ? '' : 's'}, a DynamoDB table and the host function, ticked every minute`,
    Resources: resources,
    Outputs: {
      FunctionArn: { Description: 'the host function', Value: arnOf(ids.function) },
      TableName: { Description: 'the DynamoDB table (TROUPE_TABLE)', Value: ref(ids.table) },
      StreamName: { Description: 'the default stream (TROUPE_STREAM)', Value: ref(streamIds[0]!) },
      RoleArn: { Description: "the host function's role", Value: arnOf(ids.role) },
      ...(payloads ? { PayloadBucket: { Description: "the claim check's S3 bucket (S3PayloadStore)", Value: ref(PAYLOAD_BUCKET_ID) } } : {}),
    },
  }
  if (!options.codeS3 && options.codePath === undefined) {
    template.Parameters = {
      CodeS3Bucket: { Type: 'String', Description: 'the S3 bucket holding the zipped bundle (troupe bundle makes it)' },
      CodeS3Key: { Type: 'String', Description: 'the key of the zipped bundle in that bucket' },
    }
  }
  return template
}

/**
 * Logical ids for the streams, from their names: `Stream` + the name's letters and digits
 * (`troupe-urgent` → `StreamTroupeUrgent`), numbered when two names come out the same.
 */
export function streamLogicalIds(names: readonly string[]): string[] {
  const used = new Set<string>(Object.values(LOGICAL_IDS))
  return names.map((name) => {
    const words = name.split(/[^a-zA-Z0-9]+/).filter(Boolean)
    const base = `Stream${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`
    let id = base
    for (let n = 2; used.has(id) || used.has(`${id}Mapping`); n++) id = `${base}${n}`
    used.add(id)
    used.add(`${id}Mapping`)
    return id
  })
}

function checkPayloadBucket(spec: PayloadBucketSpec): PayloadBucketSpec {
  if (!isS3BucketName(spec.bucket)) {
    throw new ConfigError(`TemplateOptions.payloadBucket.bucket must be an S3 bucket name (3–63 of a-z 0-9 . -), got ${JSON.stringify(spec.bucket)}`)
  }
  // The prefix goes into an ARN and a Fn::Sub: no wildcards, no substitutions.
  if (typeof spec.prefix !== 'string' || /[*?$]/.test(spec.prefix)) throw new ConfigError(`TemplateOptions.payloadBucket.prefix must be a key prefix without * ? $, got ${JSON.stringify(spec.prefix)}`)
  if (!Number.isSafeInteger(spec.expireAfterDays) || spec.expireAfterDays < 1) {
    throw new ConfigError(`TemplateOptions.payloadBucket.expireAfterDays must be a whole number of days from 1 up, got ${spec.expireAfterDays}`)
  }
  return spec
}

function codeOf(options: TemplateOptions): CfnValue {
  if (options.codeS3 && options.codePath !== undefined) throw new ConfigError('TemplateOptions: give codeS3 or codePath, not both')
  if (options.codeS3) {
    const { bucket, key } = options.codeS3
    if (!bucket || !key) throw new ConfigError(`TemplateOptions.codeS3 needs a bucket and a key, got ${JSON.stringify(options.codeS3)}`)
    return { S3Bucket: bucket, S3Key: key }
  }
  if (options.codePath !== undefined) {
    if (!options.codePath) throw new ConfigError('TemplateOptions.codePath is empty')
    return options.codePath
  }
  return { S3Bucket: ref('CodeS3Bucket'), S3Key: ref('CodeS3Key') }
}
