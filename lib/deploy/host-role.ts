// The host's role: assumed by Lambda only, with an inline policy naming exactly the streams, the
// table and its indexes, and the log group the function uses. Its ARN gives the partition and
// account the other ARNs of a deploy are made in.
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam'
import type { DataArns, HostContext } from './host-context.js'
import { hostPolicy, lambdaTrustPolicy } from './policy.js'
import { HOST_POLICY_NAME, hostRoleName, logGroupName, type Stack } from './stack.js'
import { isError } from './steps.js'

/** A placeholder in ARNs a dry run cannot know yet. */
const UNKNOWN_ACCOUNT = '<account>'

export interface RoleFound {
  arn: string
  account: string
  partition: string
}

export async function deployRole(iam: IAMClient, stack: Stack, data: DataArns, context: HostContext): Promise<RoleFound> {
  const { steps, region } = context
  const roleName = hostRoleName(stack, region)
  const trust = JSON.stringify(lambdaTrustPolicy())
  const found = await steps.read(`role ${roleName}`, () =>
    iam.send(new GetRoleCommand({ RoleName: roleName })).then(
      (out) => out.Role,
      (e: unknown) => {
        if (isError(e, 'NoSuchEntityException', 'NoSuchEntity')) return undefined
        throw e
      },
    ),
  )
  let roleArn = found?.Arn
  if (!found) {
    await steps.run({ resource: 'role', name: roleName, action: 'create', detail: 'assumed by Lambda only' }, async () => {
      const out = await iam.send(
        new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trust, Description: `troupe ${stack.name}: the host function ${stack.functionName}` }),
      )
      roleArn = out.Role?.Arn
    })
  } else if (!samePolicy(decodePolicy(found.AssumeRolePolicyDocument), JSON.parse(trust))) {
    await steps.run({ resource: 'role', name: roleName, action: 'update', detail: 'trust: Lambda only' }, async () => {
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: trust }))
    })
  } else {
    steps.record({ resource: 'role', name: roleName, action: 'unchanged' })
  }
  const parts = (roleArn ?? `arn:aws:iam::${UNKNOWN_ACCOUNT}:role/${roleName}`).split(':')
  const role: RoleFound = { arn: roleArn ?? parts.join(':'), partition: parts[1] ?? 'aws', account: parts[4] ?? UNKNOWN_ACCOUNT }

  const policy = hostPolicy<string>({
    streams: stack.streams.map((s) => data.streams.get(s.name) ?? arn(role, 'kinesis', region, `stream/${s.name}`)),
    table: data.table ?? arn(role, 'dynamodb', region, `table/${stack.tableName}`),
    indexes: [...data.indexes].map(([name, indexArn]) => indexArn ?? arn(role, 'dynamodb', region, `table/${stack.tableName}/index/${name}`)),
    logGroup: [arn(role, 'logs', region, `log-group:${logGroupName(stack)}`), arn(role, 'logs', region, `log-group:${logGroupName(stack)}:*`)],
  })
  const current = found
    ? await steps.read(`policy ${HOST_POLICY_NAME} of role ${roleName}`, () =>
        iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: HOST_POLICY_NAME })).then(
          (out) => decodePolicy(out.PolicyDocument),
          (e: unknown) => {
            if (isError(e, 'NoSuchEntityException', 'NoSuchEntity')) return undefined
            throw e
          },
        ),
      )
    : undefined
  const step = { resource: 'role-policy' as const, name: `${roleName}/${HOST_POLICY_NAME}` }
  if (current !== undefined && samePolicy(current, policy)) {
    steps.record({ ...step, action: 'unchanged' })
  } else {
    const what = `${stack.streams.length === 1 ? 'the stream' : `${stack.streams.length} streams`}, the table and its index, the log group`
    await steps.run({ ...step, action: current === undefined ? 'create' : 'update', detail: what }, async () => {
      await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: HOST_POLICY_NAME, PolicyDocument: JSON.stringify(policy) }))
    })
  }
  return role
}

/** An ARN in the role's partition and account. */
export function arn(role: Pick<RoleFound, 'partition' | 'account'>, service: string, region: string, resource: string): string {
  return `arn:${role.partition}:${service}:${region}:${role.account}:${resource}`
}

/** IAM answers policy documents URL-encoded. */
function decodePolicy(text: string | undefined): unknown {
  if (text === undefined) return undefined
  return JSON.parse(decodeURIComponent(text))
}

/** Two policies say the same (IAM may answer `"x"` where `["x"]` was written). */
export function samePolicy(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && !Array.isArray(b)) return a.length === 1 && samePolicy(a[0], b)
  if (!Array.isArray(a) && Array.isArray(b)) return b.length === 1 && samePolicy(a, b[0])
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => samePolicy(x, b[i]))
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && samePolicy((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}
