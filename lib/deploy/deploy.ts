// `troupe deploy`: creates or updates a deployment with the SDK, in order — streams, table,
// role and policy, function, event source mappings, tick — reading each resource first and
// changing it only where it differs from the plan, so running it twice changes nothing the
// second time. Under `dryRun` only the reads are sent, and the report says what would change.
// The same resources and settings as `buildTemplate` (both come from stack.ts and policy.ts).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import type { IAMClient } from '@aws-sdk/client-iam'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { ConfigError } from '../core/errors.js'
import { deployStreams, deployTable } from './deploy-data.js'
import { deployHost } from './deploy-host.js'
import { resolveStack, type Stack, type StackOptions } from './stack.js'
import { Steps, type DeployProgress, type DeployStep } from './steps.js'

export type { DeployAction, DeployProgress, DeployResource, DeployStep } from './steps.js'

export interface DeployPlan {
  stack: StackOptions
  /** The deployment package (`troupe bundle`'s lambda.zip). */
  zip: Uint8Array
}

export interface DeployClients {
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  iam: IAMClient
  lambda: LambdaClient
  eventbridge: EventBridgeClient
}

export interface DeployOptions {
  /** Read only, and report what would change. @default false */
  dryRun?: boolean
  /** Told as each step starts changing something and as each step is done. */
  onProgress?: (progress: DeployProgress) => void
  /** The longest wait for one resource to become ready (a stream, the table, the function). @default 300_000 */
  timeoutMs?: number
  /** First wait between polls of a resource being made; doubles up to a second. @default 10 */
  firstPollMs?: number
  /**
   * Waits between retries of a call IAM's eventual consistency fails (a new role not yet
   * assumable by Lambda, a new policy not yet seen by the event source mapping).
   * @default [1000, 2000, 3000, 5000, 8000, 10000, 10000, 10000, 10000]
   */
  propagationDelaysMs?: readonly number[]
}

export interface DeployReport {
  dryRun: boolean
  region: string
  /** From the role's ARN; `<account>` when a dry run found no role. */
  account: string
  roleArn: string
  functionArn: string
  tickRuleArn: string
  stack: Stack
  steps: DeployStep[]
  /** Steps that created or updated something (or would, under a dry run). */
  changes: number
}

const DEFAULT_PROPAGATION_DELAYS_MS = [1_000, 2_000, 3_000, 5_000, 8_000, 10_000, 10_000, 10_000, 10_000]

/**
 * Creates or updates everything a deployment needs, idempotently.
 *
 * @example
 * const report = await deploy(
 *   { stack: { name: 'shop', streams: [{ name: 'shop', shards: 2 }], tableName: 'shop', functionName: 'shop' }, zip },
 *   { kinesis, dynamodb, iam, lambda, eventbridge },
 *   { onProgress: (p) => p.done && console.error(`${p.resource} ${p.name}: ${p.action}`) },
 * )
 */
export async function deploy(plan: DeployPlan, clients: DeployClients, options: DeployOptions = {}): Promise<DeployReport> {
  const stack = resolveStack(plan.stack)
  if (!(plan.zip instanceof Uint8Array) || plan.zip.length === 0) throw new ConfigError('DeployPlan.zip must be the deployment package (the bytes of lambda.zip)')
  const region = await regionOf(clients)
  const steps = new Steps(options.dryRun ?? false, options.onProgress)
  const context = {
    steps,
    region,
    timeoutMs: options.timeoutMs ?? 300_000,
    firstPollMs: options.firstPollMs ?? 10,
    propagationDelaysMs: options.propagationDelaysMs ?? DEFAULT_PROPAGATION_DELAYS_MS,
  }
  const streams = await deployStreams(clients.kinesis, stack, context)
  const table = await deployTable(clients.dynamodb, stack, context)
  const host = await deployHost(clients, stack, plan.zip, { streams, table: table.arn, indexes: table.indexes }, context)
  return {
    dryRun: steps.dryRun,
    region,
    account: host.account,
    roleArn: host.roleArn,
    functionArn: host.functionArn,
    tickRuleArn: host.ruleArn,
    stack,
    steps: steps.list,
    changes: steps.list.filter((s) => s.action === 'create' || s.action === 'update').length,
  }
}

/** Every client must be for the same region: the policy names one region's resources. */
async function regionOf(clients: DeployClients): Promise<string> {
  const regions = new Map<string, string>()
  for (const [name, client] of Object.entries(clients) as [string, { config: { region: unknown } }][]) {
    const region = client?.config?.region
    const value = typeof region === 'function' ? await (region as () => Promise<string>)() : region
    if (typeof value !== 'string' || value === '') throw new ConfigError(`the ${name} client has no region: set AWS_REGION or pass --region`)
    regions.set(name, value)
  }
  const distinct = new Set(regions.values())
  if (distinct.size > 1) {
    throw new ConfigError(`the clients are for different regions (${[...regions].map(([n, r]) => `${n} ${r}`).join(', ')}); a deployment lives in one`)
  }
  return [...distinct][0]!
}
