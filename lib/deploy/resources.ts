// The resources of a deployment, as CloudFormation resource definitions: the streams, the table
// (tableDefinition's keys and index, TTL on `ttl`, PITR), the log group, the payload bucket when
// the app keeps its payloads in S3 (with a lifecycle rule that expires them), the host's role with
// its least-privilege inline policy, the function, one event source mapping per stream with safe
// settings, and the scheduled tick. Written once for `troupe template`, whose references are Ref,
// Fn::GetAtt and Fn::Sub on the logical ids below, and for troupe/cdk, whose references are CDK
// tokens: so both deploy the same resources with the same properties, and the policy names
// exactly the resources beside it.
import { ConfigError } from '../core/errors.js'
import { tableDefinition } from '../store/dynamodb.js'
import { isS3BucketName } from '../store/s3-bucket-name.js'
import { hostPolicy, lambdaTrustPolicy } from './policy.js'
import { HANDLER, HOST_POLICY_NAME, TICK_INPUT, TICK_SCHEDULE, TICK_TARGET_ID, logGroupName, mappingSettings, tickRuleName, type Stack } from './stack.js'

/** How a definition refers to another resource of the deployment, named by its logical id. */
export interface CfnReferences<R> {
  /** `Ref`: the name of a stream, table, function, log group or bucket. */
  ref(id: string): R
  /** `Fn::GetAtt [id, Arn]`. */
  arn(id: string): R
  /** `Fn::Sub`: `${Id}` and `${Id.Arn}` name resources of the deployment; `${AWS::Region}` and the like are pseudo parameters. */
  sub(text: string): R
}

/** A property value: JSON, with references of type `R` anywhere inside. */
export type CfnValueOf<R> = string | number | boolean | R | CfnValueOf<R>[] | { [key: string]: CfnValueOf<R> }

export interface CfnResourceOf<R> {
  Type: string
  Properties: Record<string, CfnValueOf<R>>
  DependsOn?: string | string[]
  DeletionPolicy?: 'Retain' | 'Delete'
  UpdateReplacePolicy?: 'Retain' | 'Delete'
}

export interface PayloadBucketSpec {
  bucket: string
  /** The store's prefix: the lifecycle rule and the role's grant cover only what is under it. */
  prefix: string
  /** Days the lifecycle rule keeps an object: the claim check's `ttlMs` rounded up to whole days. */
  expireAfterDays: number
}

export interface ResourceOptions<R> {
  /** The function's `Code` property. */
  code: CfnValueOf<R>
  /** The app's payloads are in S3 (S3PayloadStore): the bucket is made, and the role may read and write under its prefix. */
  payloadBucket?: PayloadBucketSpec
}

/** The logical id of the payload bucket, when there is one. */
export const PAYLOAD_BUCKET_ID = 'PayloadBucket'

/** Logical ids of the resources every deployment has. */
export const LOGICAL_IDS = {
  table: 'Table',
  logGroup: 'HostLogGroup',
  role: 'HostRole',
  function: 'HostFunction',
  tickRule: 'TickRule',
  tickPermission: 'TickPermission',
} as const

/**
 * The resources of a checked deployment (`resolveStack`), by logical id, in the order a template
 * lists them; each refers only to resources listed before it.
 *
 * @example
 * const resources = deploymentResources(resolveStack(options), { code: { S3Bucket: 'b', S3Key: 'k' } }, {
 *   ref: (id) => ({ Ref: id }),
 *   arn: (id) => ({ 'Fn::GetAtt': [id, 'Arn'] }),
 *   sub: (text) => ({ 'Fn::Sub': text }),
 * })
 */
export function deploymentResources<R>(stack: Stack, options: ResourceOptions<R>, refs: CfnReferences<R>): Record<string, CfnResourceOf<R>> {
  const ids = LOGICAL_IDS
  const streamIds = streamLogicalIds(stack.streams.map((s) => s.name))
  const definition = tableDefinition(stack.tableName)
  const indexNames = [...(definition.LocalSecondaryIndexes ?? []), ...(definition.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName!)
  const resources: Record<string, CfnResourceOf<R>> = {}

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

  const policy = hostPolicy<R>({
    streams: streamIds.map((id) => refs.arn(id)),
    table: refs.arn(ids.table),
    indexes: indexNames.map((name) => refs.sub(`\${${ids.table}.Arn}/index/${name}`)),
    logGroup: [
      refs.sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${ids.logGroup}}`),
      refs.sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${ids.logGroup}}:*`),
    ],
    ...(payloads ? { payloadObjects: [refs.sub(`\${${PAYLOAD_BUCKET_ID}.Arn}/${payloads.prefix}*`)] } : {}),
  })
  resources[ids.role] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `troupe ${stack.name}: the host function ${stack.functionName}`,
      AssumeRolePolicyDocument: lambdaTrustPolicy() as unknown as CfnValueOf<R>,
      Policies: [{ PolicyName: HOST_POLICY_NAME, PolicyDocument: policy as unknown as CfnValueOf<R> }],
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
      Role: refs.arn(ids.role),
      Code: options.code,
      Environment: {
        // The same variables as hostEnvironment(), as references to the resources.
        Variables: {
          TROUPE_TABLE: refs.ref(ids.table),
          TROUPE_STREAM: refs.ref(streamIds[0]!),
        },
      },
    },
  }

  for (const id of streamIds) {
    resources[`${id}Mapping`] = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: refs.arn(id),
        FunctionName: refs.ref(ids.function),
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
      Targets: [{ Id: TICK_TARGET_ID, Arn: refs.arn(ids.function), Input: TICK_INPUT }],
    },
  }
  resources[ids.tickPermission] = {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: refs.ref(ids.function),
      Principal: 'events.amazonaws.com',
      SourceArn: refs.arn(ids.tickRule),
    },
  }
  return resources
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
