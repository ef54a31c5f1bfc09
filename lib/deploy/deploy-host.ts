// `troupe deploy`, the compute half: the host's role and its least-privilege policy, the
// function, an event source mapping per stream, and the scheduled tick (an EventBridge rule,
// the function as its target, and the permission for EventBridge to invoke it). Each is read
// first and changed only where it differs, so a second deploy of the same thing changes nothing.
import { DescribeRuleCommand, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam'
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  ListEventSourceMappingsCommand,
  RemovePermissionCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import { TroupeError } from '../core/errors.js'
import { codeSha256 } from './zip.js'
import { hostPolicy, lambdaTrustPolicy } from './policy.js'
import {
  HANDLER,
  HOST_POLICY_NAME,
  TICK_INPUT,
  TICK_PERMISSION_ID,
  TICK_SCHEDULE,
  TICK_TARGET_ID,
  hostEnvironment,
  hostRoleName,
  logGroupName,
  mappingSettings,
  tickRuleName,
  type Stack,
} from './stack.js'
import { isError, messageOf, retrying, waitUntil, type Steps } from './steps.js'

export interface HostContext {
  steps: Steps
  region: string
  timeoutMs: number
  firstPollMs: number
  propagationDelaysMs: readonly number[]
}

/** The exact ARNs the host's policy names (what the data half created or found). */
export interface DataArns {
  streams: Map<string, string | undefined>
  table: string | undefined
  indexes: Map<string, string | undefined>
}

export interface DeployedHost {
  roleArn: string
  functionArn: string
  ruleArn: string
  /** The account, from the role's ARN; `<account>` when a dry run found no role. */
  account: string
}

/** A placeholder in ARNs a dry run cannot know yet. */
const UNKNOWN_ACCOUNT = '<account>'

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

// ── the role ────────────────────────────────────────────────────────────────

interface RoleFound {
  arn: string
  account: string
  partition: string
}

async function deployRole(iam: IAMClient, stack: Stack, data: DataArns, context: HostContext): Promise<RoleFound> {
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

// ── the function ────────────────────────────────────────────────────────────

/** The function's ARN, and whether it existed before this deploy (a dry run reads nothing of one that did not). */
interface FunctionFound {
  arn: string
  existed: boolean
}

async function deployFunction(lambda: LambdaClient, stack: Stack, zip: Uint8Array, role: RoleFound, context: HostContext): Promise<FunctionFound> {
  const { steps } = context
  const name = stack.functionName
  const found = await steps.read(`function ${name}`, () =>
    lambda.send(new GetFunctionCommand({ FunctionName: name })).then(
      (out) => out.Configuration,
      (e: unknown) => {
        if (isError(e, 'ResourceNotFoundException')) return undefined
        throw e
      },
    ),
  )
  const config = {
    FunctionName: name,
    Description: `troupe ${stack.name}: stream batches, asks and ticks`,
    Runtime: stack.runtime,
    Handler: HANDLER,
    Role: role.arn,
    MemorySize: stack.memoryMb,
    Timeout: stack.timeoutS,
    Environment: { Variables: hostEnvironment(stack) },
  } as const
  const sha = codeSha256(zip)
  // A new role reaches Lambda seconds after IAM made it; an update waits for the one before it.
  const propagating = (e: unknown) =>
    (isError(e, 'InvalidParameterValueException') && /role|assume|permission/i.test(messageOf(e))) || isError(e, 'ResourceConflictException')
  const untilReady = () => waitForFunction(lambda, name, context)

  if (!found) {
    let functionArn: string | undefined
    await steps.run(
      { resource: 'function', name, action: 'create', detail: `${stack.runtime} ${stack.architecture}, ${stack.memoryMb} MB, ${stack.timeoutS} s, code ${kib(zip.length)} zipped` },
      async () => {
        const out = await retrying(
          () => lambda.send(new CreateFunctionCommand({ ...config, Architectures: [stack.architecture], PackageType: 'Zip', Code: { ZipFile: zip } })),
          propagating,
          context.propagationDelaysMs,
        )
        functionArn = out.FunctionArn
        await untilReady()
      },
    )
    return { arn: functionArn ?? arn(role, 'lambda', context.region, `function:${name}`), existed: false }
  }

  const functionArn = found.FunctionArn ?? arn(role, 'lambda', context.region, `function:${name}`)
  if (!steps.dryRun && (found.State === 'Pending' || found.LastUpdateStatus === 'InProgress')) await untilReady()
  const architecture = found.Architectures?.[0] ?? 'x86_64'
  const codeChanges = [
    ...(found.CodeSha256 !== sha ? [`code ${kib(zip.length)} zipped`] : []),
    ...(architecture !== stack.architecture ? [`architecture ${architecture} → ${stack.architecture}`] : []),
  ]
  if (codeChanges.length === 0) {
    steps.record({ resource: 'function-code', name, action: 'unchanged', detail: `CodeSha256 ${sha}` })
  } else {
    await steps.run({ resource: 'function-code', name, action: 'update', detail: codeChanges.join(', ') }, async () => {
      await retrying(
        () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, Architectures: [stack.architecture] })),
        propagating,
        context.propagationDelaysMs,
      )
      await untilReady()
    })
  }
  const changed = configChanges(found, config)
  if (changed.length === 0) {
    steps.record({ resource: 'function-config', name, action: 'unchanged' })
  } else {
    await steps.run({ resource: 'function-config', name, action: 'update', detail: changed.join(', ') }, async () => {
      await retrying(() => lambda.send(new UpdateFunctionConfigurationCommand(config)), propagating, context.propagationDelaysMs)
      await untilReady()
    })
  }
  return { arn: functionArn, existed: true }
}

/** Waits until the function is Active and no update is in progress; throws when it failed. */
async function waitForFunction(lambda: LambdaClient, name: string, context: HostContext): Promise<void> {
  await waitUntil(
    `function ${name} becoming Active`,
    async () => {
      const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
      if (c.State === 'Failed') throw new TroupeError('TROUPE_DEPLOY', `function ${name} failed to start: ${c.StateReason ?? c.StateReasonCode ?? 'no reason given'}`)
      if (c.LastUpdateStatus === 'Failed') throw new TroupeError('TROUPE_DEPLOY', `the update of function ${name} failed: ${c.LastUpdateStatusReason ?? 'no reason given'}`)
      return c.State === 'Active' && c.LastUpdateStatus !== 'InProgress' ? true : undefined
    },
    { timeoutMs: context.timeoutMs, firstPollMs: Math.max(context.firstPollMs, 100) },
  )
}

function configChanges(
  found: FunctionConfiguration,
  want: { Description: string; Runtime: string; Handler: string; Role: string; MemorySize: number; Timeout: number; Environment: { Variables: Record<string, string> } },
): string[] {
  const changes: string[] = []
  for (const key of ['Runtime', 'Handler', 'Role', 'MemorySize', 'Timeout', 'Description'] as const) {
    if (found[key] !== want[key]) changes.push(`${key} ${found[key] ?? '(none)'} → ${want[key]}`)
  }
  const have = found.Environment?.Variables ?? {}
  const keys = new Set([...Object.keys(have), ...Object.keys(want.Environment.Variables)])
  for (const key of [...keys].sort()) {
    if (have[key] !== want.Environment.Variables[key]) changes.push(`${key} ${have[key] ?? '(unset)'} → ${want.Environment.Variables[key] ?? '(unset)'}`)
  }
  return changes
}

// ── the event source mappings ───────────────────────────────────────────────

async function deployMapping(lambda: LambdaClient, stack: Stack, stream: string, streamArn: string, fn: FunctionFound, context: HostContext): Promise<void> {
  const { steps } = context
  const listed = !fn.existed ? [] : await steps.read(`the event source mappings of ${stack.functionName}`, () =>
    lambda.send(new ListEventSourceMappingsCommand({ FunctionName: stack.functionName, EventSourceArn: streamArn })).then(
      (out) => out.EventSourceMappings ?? [],
      (e: unknown) => {
        if (isError(e, 'ResourceNotFoundException')) return []
        throw e
      },
    ),
  )
  const want = mappingSettings(stack)
  const found = listed.find((m) => m.EventSourceArn === streamArn) ?? listed[0]
  const step = { resource: 'event-source-mapping' as const, name: `${stream} → ${stack.functionName}` }
  if (!found) {
    const retries = want.MaximumRetryAttempts === -1 ? 'retries until done' : `${want.MaximumRetryAttempts} retries`
    const age = want.MaximumRecordAgeInSeconds === -1 ? 'no age limit' : `records up to ${want.MaximumRecordAgeInSeconds} s old`
    const detail = `batch ${want.BatchSize}, window ${want.MaximumBatchingWindowInSeconds} s, ${retries}, ${age}, ReportBatchItemFailures`
    await steps.run({ ...step, action: 'create', detail }, async () => {
      // The role's new policy may not have reached Lambda yet: it checks it can read the stream.
      await retrying(
        () =>
          lambda.send(
            new CreateEventSourceMappingCommand({ FunctionName: stack.functionName, EventSourceArn: streamArn, StartingPosition: 'TRIM_HORIZON', Enabled: true, ...want }),
          ),
        (e) => isError(e, 'InvalidParameterValueException') && /role|permission|access/i.test(messageOf(e)),
        context.propagationDelaysMs,
      )
    })
    return
  }
  const changes: string[] = []
  for (const key of ['BatchSize', 'MaximumBatchingWindowInSeconds', 'ParallelizationFactor', 'MaximumRetryAttempts', 'MaximumRecordAgeInSeconds', 'BisectBatchOnFunctionError'] as const) {
    if (found[key] !== want[key]) changes.push(`${key} ${found[key] ?? '(none)'} → ${want[key]}`)
  }
  const types = [...(found.FunctionResponseTypes ?? [])].sort().join(',')
  if (types !== want.FunctionResponseTypes.join(',')) changes.push(`FunctionResponseTypes [${types}] → [${want.FunctionResponseTypes.join(',')}]`)
  if (found.State === 'Disabled' || found.State === 'Disabling') changes.push(`${found.State} → Enabled`)
  if (changes.length === 0) return steps.record({ ...step, action: 'unchanged', detail: found.UUID })
  await steps.run({ ...step, action: 'update', detail: changes.join(', ') }, async () => {
    await retrying(
      () => lambda.send(new UpdateEventSourceMappingCommand({ UUID: found.UUID, Enabled: true, ...want })),
      // A mapping still Creating or Updating takes no update yet.
      (e) => isError(e, 'ResourceInUseException', 'ResourceConflictException'),
      context.propagationDelaysMs,
    )
  })
}

// ── the tick ────────────────────────────────────────────────────────────────

async function deployTick(
  clients: { lambda: LambdaClient; eventbridge: EventBridgeClient },
  stack: Stack,
  fn: FunctionFound,
  role: RoleFound,
  context: HostContext,
): Promise<string> {
  const functionArn = fn.arn
  const { steps } = context
  const { lambda, eventbridge } = clients
  const ruleName = tickRuleName(stack)
  const description = `troupe ${stack.name}: fires due timers, join deadlines and parked messages`
  const rule = await steps.read(`rule ${ruleName}`, () =>
    eventbridge.send(new DescribeRuleCommand({ Name: ruleName })).catch((e: unknown) => {
      if (isError(e, 'ResourceNotFoundException')) return undefined
      throw e
    }),
  )
  let ruleArn = rule?.Arn
  const ruleStep = { resource: 'tick-rule' as const, name: ruleName }
  if (rule && rule.ScheduleExpression === TICK_SCHEDULE && rule.State === 'ENABLED') {
    steps.record({ ...ruleStep, action: 'unchanged', detail: TICK_SCHEDULE })
  } else {
    const detail = rule ? `${rule.ScheduleExpression} ${rule.State} → ${TICK_SCHEDULE} ENABLED` : TICK_SCHEDULE
    await steps.run({ ...ruleStep, action: rule ? 'update' : 'create', detail }, async () => {
      const out = await eventbridge.send(new PutRuleCommand({ Name: ruleName, ScheduleExpression: TICK_SCHEDULE, State: 'ENABLED', Description: description }))
      ruleArn = out.RuleArn
    })
  }
  ruleArn ??= arn(role, 'events', context.region, `rule/${ruleName}`)

  // EventBridge may invoke the function for this rule, and for nothing else.
  const policy = !fn.existed ? undefined : await steps.read(`the resource policy of ${stack.functionName}`, () =>
    lambda.send(new GetPolicyCommand({ FunctionName: stack.functionName })).then(
      (out) => (out.Policy ? (JSON.parse(out.Policy) as { Statement?: LambdaStatement[] }) : undefined),
      (e: unknown) => {
        if (isError(e, 'ResourceNotFoundException')) return undefined
        throw e
      },
    ),
  )
  const statement = policy?.Statement?.find((s) => s.Sid === TICK_PERMISSION_ID)
  const permissionStep = { resource: 'tick-permission' as const, name: `${ruleName} → ${stack.functionName}` }
  const permits =
    statement?.Effect === 'Allow' &&
    statement.Principal?.Service === 'events.amazonaws.com' &&
    [statement.Action].flat().includes('lambda:InvokeFunction') &&
    statement.Condition?.ArnLike?.['AWS:SourceArn'] === ruleArn
  if (permits) {
    steps.record({ ...permissionStep, action: 'unchanged' })
  } else {
    await steps.run({ ...permissionStep, action: statement ? 'update' : 'create', detail: 'events.amazonaws.com may invoke it, for this rule only' }, async () => {
      if (statement) await lambda.send(new RemovePermissionCommand({ FunctionName: stack.functionName, StatementId: TICK_PERMISSION_ID }))
      await lambda.send(
        new AddPermissionCommand({
          FunctionName: stack.functionName,
          StatementId: TICK_PERMISSION_ID,
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: ruleArn,
        }),
      )
    })
  }

  const targets = rule
    ? await steps.read(`the targets of rule ${ruleName}`, () =>
        eventbridge.send(new ListTargetsByRuleCommand({ Rule: ruleName })).then((out) => out.Targets ?? []),
      )
    : []
  const target = targets.find((t) => t.Id === TICK_TARGET_ID)
  const targetStep = { resource: 'tick-target' as const, name: `${ruleName} → ${stack.functionName}` }
  if (target && target.Arn === functionArn && target.Input === TICK_INPUT) {
    steps.record({ ...targetStep, action: 'unchanged', detail: TICK_INPUT })
  } else {
    await steps.run({ ...targetStep, action: target ? 'update' : 'create', detail: TICK_INPUT }, async () => {
      const out = await eventbridge.send(new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: TICK_TARGET_ID, Arn: functionArn, Input: TICK_INPUT }] }))
      const failed = out.FailedEntries?.[0]
      if ((out.FailedEntryCount ?? 0) > 0) throw new TroupeError('TROUPE_DEPLOY', `EventBridge refused the target: ${failed?.ErrorCode ?? ''} ${failed?.ErrorMessage ?? ''}`.trim())
    })
  }
  return ruleArn
}

interface LambdaStatement {
  Sid?: string
  Effect?: string
  Principal?: { Service?: string }
  Action?: string | string[]
  Condition?: { ArnLike?: Record<string, string> }
}

// ── helpers ─────────────────────────────────────────────────────────────────

/** An ARN in the role's partition and account. */
function arn(role: Pick<RoleFound, 'partition' | 'account'>, service: string, region: string, resource: string): string {
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

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`
}

