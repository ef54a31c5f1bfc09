// `troupe deploy`, the compute half: the host's role and its least-privilege policy, the
// function, an event source mapping per stream, and the scheduled tick (an EventBridge rule,
// the function as its target, and the permission for EventBridge to invoke it). Each is read
// first and changed only where it differs, so a second deploy of the same thing changes nothing.
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import type { IAMClient } from '@aws-sdk/client-iam'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import type { DataArns, HostContext } from './host-context.js'
import { deployFunction } from './host-function.js'
import { deployMapping } from './host-mapping.js'
import { arn, deployRole } from './host-role.js'
import { deployTick } from './host-tick.js'
import type { Stack } from './stack.js'

export type { DataArns, HostContext } from './host-context.js'
export { samePolicy } from './host-role.js'

export interface DeployedHost {
  roleArn: string
  functionArn: string
  ruleArn: string
  /** The account, from the role's ARN; `<account>` when a dry run found no role. */
  account: string
}

export async function deployHost(
  clients: { iam: IAMClient; lambda: LambdaClient; eventbridge: EventBridgeClient },
  stack: Stack,
  zip: Uint8Array,
  data: DataArns,
  context: HostContext,
): Promise<DeployedHost> {
  const role = await deployRole(clients.iam, stack, data, context)
  const fn = await deployFunction(clients.lambda, stack, zip, role, context)
  for (const stream of stack.streams) {
    await deployMapping(clients.lambda, stack, stream.name, data.streams.get(stream.name) ?? arn(role, 'kinesis', context.region, `stream/${stream.name}`), fn, context)
  }
  const ruleArn = await deployTick(clients, stack, fn, role, context)
  return { roleArn: role.arn, functionArn: fn.arn, ruleArn, account: role.account }
}
