// What a workload used, in the units AWS bills, from the requests troupe counted per API (and
// the billed units it counted with them: billed-units.ts), plus the Lambda compute, which no
// request count shows and so comes from a model (measured durations where there are some).
// Every figure that is a guess rather than a count is named in `estimated`.
import { STACK_DEFAULTS } from '../deploy/stack.js'
import type { ApiCounts } from '../metrics/emf.js'
import { PUT_PAYLOAD_UNIT_BYTES, unitKind } from './billed-units.js'

/** Units of each priced item. */
export interface Usage {
  kinesisPutPayloadUnits: number
  dynamodbWriteRequestUnits: number
  dynamodbReadRequestUnits: number
  lambdaInvocations: number
  lambdaGbSeconds: number
  s3PutRequests: number
  s3GetRequests: number
  s3GbMonths: number
}

export const NO_USAGE: Usage = {
  kinesisPutPayloadUnits: 0,
  dynamodbWriteRequestUnits: 0,
  dynamodbReadRequestUnits: 0,
  lambdaInvocations: 0,
  lambdaGbSeconds: 0,
  s3PutRequests: 0,
  s3GetRequests: 0,
  s3GbMonths: 0,
}

/** How the host function runs: `troupe deploy`'s defaults, and a duration per invocation. */
export interface LambdaModel {
  /** @default 512 (troupe deploy's) */
  memoryMb: number
  /** @default 'arm64' (troupe deploy's) */
  architecture: 'arm64' | 'x86_64'
  /** Records a stream batch carries at most. @default 100 (troupe deploy's) */
  batchSize: number
  /** Billed milliseconds of one invocation (a batch, an ask, a tick), measured or assumed. @default 100 */
  msPerInvocation: number
}

/**
 * What one invocation is assumed to take when nothing measured it: a batch of 100 records that
 * loads its instances in one BatchGetItem, commits each (concurrently) and puts what its turns
 * sent, at DynamoDB's and Kinesis's single-digit milliseconds a request. The bench's Lambda path
 * measures it (bench/README.md, "Cost").
 */
export const ASSUMED_MS_PER_INVOCATION = 100

export const DEFAULT_LAMBDA: LambdaModel = {
  memoryMb: STACK_DEFAULTS.memoryMb,
  architecture: STACK_DEFAULTS.architecture,
  batchSize: STACK_DEFAULTS.batchSize,
  msPerInvocation: ASSUMED_MS_PER_INVOCATION,
}

/** S3 operations priced at the PUT tier and the GET tier; others (DeleteObject) are free. */
const S3_PUT = /^S3\.(PutObject|CopyObject|PostObject|ListObjects(V2)?|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)$/
const S3_GET = /^S3\.(GetObject|HeadObject|SelectObjectContent)$/

export interface RequestUsage {
  usage: Usage
  /** What was guessed, for people: each a sentence. */
  estimated: string[]
}

/**
 * Usage from counted requests: Kinesis PUT payload units, DynamoDB request units and S3 requests.
 * Lambda is left at zero here (see {@link lambdaUsage}), except the Invoke requests a caller made
 * (each an invocation of the host function). S3 storage is what was put, kept `s3RetentionDays`.
 */
export function usageOfRequests(byApi: ApiCounts['byApi'], options: { s3RetentionDays?: number } = {}): RequestUsage {
  const usage = { ...NO_USAGE }
  const estimated = new Set<string>()
  let s3Bytes = 0
  for (const [api, c] of Object.entries(byApi)) {
    const kind = unitKind(api)
    const units = c.units ?? 0
    if (kind === 'put-payload') {
      if (units > 0) usage.kinesisPutPayloadUnits += units
      else {
        // Base64 grows data by 4/3; each call carries at least one record.
        usage.kinesisPutPayloadUnits += Math.max(c.requests, Math.ceil((c.requestBytes * 0.75) / PUT_PAYLOAD_UNIT_BYTES))
        estimated.add('Kinesis PUT payload units from the bytes put (the hosts counted no units)')
      }
    } else if (kind === 'write' || kind === 'read') {
      const field = kind === 'write' ? 'dynamodbWriteRequestUnits' : 'dynamodbReadRequestUnits'
      if (units > 0) usage[field] += units
      else if (c.requests > 0) {
        usage[field] += c.requests
        estimated.add('DynamoDB request units as one per request (the hosts counted no units)')
      }
    } else if (S3_PUT.test(api)) {
      usage.s3PutRequests += c.requests
      if (api === 'S3.PutObject' || api === 'S3.UploadPart') s3Bytes += c.requestBytes
    } else if (S3_GET.test(api)) usage.s3GetRequests += c.requests
    else if (api === 'Lambda.Invoke') usage.lambdaInvocations += c.requests
  }
  const days = options.s3RetentionDays ?? 1
  if (s3Bytes > 0) {
    usage.s3GbMonths = (s3Bytes / 1024 ** 3) * (days / 30)
    estimated.add(`S3 storage as the bytes put, kept ${days} day${days === 1 ? '' : 's'}`)
  }
  return { usage, estimated: [...estimated] }
}

/** Lambda requests and GB-seconds of `invocations` under a model. */
export function lambdaUsage(invocations: number, model: LambdaModel): Pick<Usage, 'lambdaInvocations' | 'lambdaGbSeconds'> {
  return { lambdaInvocations: invocations, lambdaGbSeconds: invocations * (model.msPerInvocation / 1000) * (model.memoryMb / 1024) }
}

/** Two usages added. */
export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  const out = { ...a }
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] += b[k] ?? 0
  return out
}
