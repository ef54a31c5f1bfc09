// TroupeDeployment: what `troupe template` makes, as a CDK construct. The resources and their
// properties come from the same definitions (lib/deploy/resources.ts), made here as CfnResources
// of this construct, so a stack that uses it deploys what the template deploys: the streams, the
// table, the log group, the payload bucket when the app has one, the role with its least-privilege
// policy, the function, a mapping per stream, and the tick. CDK names the logical ids; the
// physical names are the deployment's, as in the template. The code is troupe's bundle of the app
// unless given; the alarms are the construct's own.
import { CfnResource, Names, type CfnDeletionPolicy } from 'aws-cdk-lib/core'
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch'
import { Table, type ITable } from 'aws-cdk-lib/aws-dynamodb'
import { Role, type IRole } from 'aws-cdk-lib/aws-iam'
import { Stream, type IStream } from 'aws-cdk-lib/aws-kinesis'
import { Function as LambdaFunction, type Code, type IFunction } from 'aws-cdk-lib/aws-lambda'
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'
import { ConfigError } from '../core/errors.js'
import { DEFAULT_STREAM, appStreams } from '../deploy/app-deployment.js'
import { deploymentResources, LOGICAL_IDS, PAYLOAD_BUCKET_ID, streamLogicalIds, type CfnValueOf } from '../deploy/resources.js'
import { resolveStack, type Stack, type StackOptions } from '../deploy/stack.js'
import { tableDefinition } from '../store/dynamodb.js'
import { troupeAlarms, type TroupeAlarmOptions } from './alarms.js'
import { bundledCode } from './bundle-code.js'
import type { TroupeAppFile } from './load-app.js'
import { cdkReferences } from './references.js'

export interface TroupeDeploymentProps extends Omit<StackOptions, 'name' | 'streams' | 'tableName' | 'functionName'> {
  /** The app, from {@link loadTroupeApp}: its streams, runtime and payload bucket, and the file bundled. */
  readonly app: TroupeAppFile
  /** Names the deployment: the tick rule `<name>-tick`, and the table and the function unless they are given. */
  readonly name: string
  /** @default name */
  readonly tableName?: string
  /** @default name */
  readonly functionName?: string
  /** The default stream (TROUPE_STREAM); the app's router adds the others. @default the app's `stream`, else 'troupe' */
  readonly stream?: string
  /** Shards of each stream. @default 1 */
  readonly shards?: number
  /**
   * The function's code: a zip in S3 or an asset (`Code.fromAsset('.troupe/build/lambda.zip')`
   * after `troupe bundle`). @default troupe's bundle of the app, built now for `runtime`
   */
  readonly code?: Code
  /** Where troupe's bundle is built when `code` is not given. @default .troupe/cdk/<the construct's unique id> */
  readonly bundleDir?: string
  /** Alarms on the iterator age and on dead letters (and, when asked, on how long a message waits parked). @default no alarms */
  readonly alarms?: TroupeAlarmOptions
}

/**
 * A troupe deployment in a CDK stack.
 *
 * @example
 * const analytics = await loadTroupeApp('troupe.app.ts')
 * const troupe = new TroupeDeployment(stack, 'Analytics', { app: analytics, name: 'analytics', shards: 2, alarms: { actions: [new SnsAction(topic)] } })
 * troupe.function.grantInvoke(apiFunction)    // the API asks by Invoke
 */
export class TroupeDeployment extends Construct {
  /** The deployment as checked, every default filled in. */
  readonly settings: Stack
  /** Every resource by its logical id in `troupe template` (`Table`, `HostFunction`, `StreamTroupe`…), for overrides. */
  readonly resources: Readonly<Record<string, CfnResource>>
  /** The streams, the default first (`streams[0].grantWrite(producer)` for a producer that puts records itself). */
  readonly streams: readonly IStream[]
  /** The table of state, timers, receipts and dead letters. */
  readonly table: ITable
  /** The host function (`function.grantInvoke(api)` for an API that asks by Invoke). */
  readonly function: IFunction
  /** The host's role, whose inline policy is the least-privilege one; a grant to it adds a policy beside that one. */
  readonly role: IRole
  /** The claim check's bucket, when the app keeps its payloads in S3. */
  readonly payloadBucket: IBucket | undefined
  /** The alarms `alarms` asked for. */
  readonly alarms: readonly Alarm[]

  constructor(scope: Construct, id: string, props: TroupeDeploymentProps) {
    super(scope, id)
    const { app, name, tableName = name, functionName = name, stream, shards = 1, code, bundleDir, alarms, runtime = app.app.runtime, ...tuning } = props
    const streams = appStreams(app.app, stream ?? app.app.stream ?? DEFAULT_STREAM)
    this.settings = propsChecked(() => resolveStack({ ...tuning, ...(runtime ? { runtime } : {}), name, tableName, functionName, streams: streams.map((s) => ({ name: s, shards })) }))

    const functionCode = code ?? bundledCode(app.file, { runtime: this.settings.runtime, outDir: bundleDir ?? `.troupe/cdk/${Names.uniqueId(this)}` })
    const made = new Map<string, CfnResource>()
    const definitions = deploymentResources(
      this.settings,
      {
        code: codeLocation(this, functionCode),
        ...(app.payloadBucket ? { payloadBucket: app.payloadBucket } : {}),
      },
      cdkReferences(made),
    )
    for (const [logicalId, definition] of Object.entries(definitions)) {
      const resource = new CfnResource(this, logicalId, { type: definition.Type, properties: definition.Properties })
      if (definition.DeletionPolicy) resource.cfnOptions.deletionPolicy = definition.DeletionPolicy as CfnDeletionPolicy
      if (definition.UpdateReplacePolicy) resource.cfnOptions.updateReplacePolicy = definition.UpdateReplacePolicy as CfnDeletionPolicy
      for (const dependency of [definition.DependsOn ?? []].flat()) resource.addResourceDependency(made.get(dependency)!)
      made.set(logicalId, resource)
    }
    this.resources = Object.fromEntries(made)
    // An asset's path in the function's metadata, for tools that run it locally (sam local invoke).
    functionCode.bindToResource(made.get(LOGICAL_IDS.function)!)

    // Handles for grants and references elsewhere in the stack; they make no resources.
    const arn = (logicalId: string) => made.get(logicalId)!.getAtt('Arn').toString()
    this.streams = streamLogicalIds(this.settings.streams.map((s) => s.name)).map((logicalId) => Stream.fromStreamArn(this, `${logicalId}Ref`, arn(logicalId)))
    this.table = Table.fromTableAttributes(this, 'TableRef', {
      tableArn: arn(LOGICAL_IDS.table),
      localIndexes: (tableDefinition(this.settings.tableName).LocalSecondaryIndexes ?? []).map((i) => i.IndexName!),
    })
    this.function = LambdaFunction.fromFunctionAttributes(this, 'FunctionRef', { functionArn: arn(LOGICAL_IDS.function), sameEnvironment: true })
    this.role = Role.fromRoleArn(this, 'RoleRef', arn(LOGICAL_IDS.role))
    this.payloadBucket = made.has(PAYLOAD_BUCKET_ID) ? Bucket.fromBucketArn(this, 'PayloadBucketRef', arn(PAYLOAD_BUCKET_ID)) : undefined
    this.alarms = alarms ? troupeAlarms(this, { functionName: this.settings.functionName, service: this.settings.tableName }, alarms) : []
  }
}

/** The function's Code property from a CDK Code: only a zip in S3 (an asset is one) holds troupe's bundle. */
function codeLocation(scope: Construct, code: Code): CfnValueOf<never> {
  const { s3Location } = code.bind(scope)
  if (!s3Location) throw new ConfigError('TroupeDeploymentProps.code must be a zip in S3 or an asset (Code.fromAsset, Code.fromBucket): the host is a bundle of several files, not inline code or an image')
  return { S3Bucket: s3Location.bucketName, S3Key: s3Location.objectKey, ...(s3Location.objectVersion ? { S3ObjectVersion: s3Location.objectVersion } : {}) }
}

/** Runs resolveStack, its errors said in the construct's props. */
function propsChecked(check: () => Stack): Stack {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw new ConfigError(
      error.message
        .replace(/^\[TROUPE_[A-Z_]+\] /, '')
        .replace(/StackOptions\.streams\[\d+\]\.shards /, 'TroupeDeploymentProps.shards ')
        .replace('StackOptions.', 'TroupeDeploymentProps.'),
    )
  }
}
