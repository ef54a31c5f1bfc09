// `troupe template`: the deployment as a CloudFormation template (JSON). A pure function of the
// options: the resources of lib/deploy/resources.ts (streams, table, log group, role, function,
// mappings, tick, and the payload bucket when the app keeps its payloads in S3), with their
// references written as `Fn::GetAtt`, `Ref` and `Fn::Sub` on the logical ids, so the policy names
// exactly them; the code's location, and the outputs.
import { ConfigError } from '../core/errors.js'
import { deploymentResources, LOGICAL_IDS, PAYLOAD_BUCKET_ID, streamLogicalIds, type CfnReferences, type CfnResourceOf, type CfnValueOf, type PayloadBucketSpec } from './resources.js'
import { resolveStack, type StackOptions } from './stack.js'

export { LOGICAL_IDS, PAYLOAD_BUCKET_ID, streamLogicalIds, type PayloadBucketSpec } from './resources.js'

export type CfnExpression = { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Sub': string }
export type CfnValue = CfnValueOf<CfnExpression>
export type CfnResource = CfnResourceOf<CfnExpression>

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

const ref = (id: string): CfnExpression => ({ Ref: id })
const arnOf = (id: string): CfnExpression => ({ 'Fn::GetAtt': [id, 'Arn'] })
const sub = (text: string): CfnExpression => ({ 'Fn::Sub': text })
const references: CfnReferences<CfnExpression> = { ref, arn: arnOf, sub }

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
  const resources = deploymentResources(stack, { code: codeOf(options), ...(options.payloadBucket ? { payloadBucket: options.payloadBucket } : {}) }, references)
  const payloads = PAYLOAD_BUCKET_ID in resources

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
