// The scheduled tick: an EventBridge rule on TICK_SCHEDULE, the function as its target with
// TICK_INPUT, and the permission for EventBridge to invoke the function for that rule only.
import { DescribeRuleCommand, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge'
import {
  AddPermissionCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import { TroupeError } from '../core/errors.js'
import type { HostContext } from './host-context.js'
import type { FunctionFound } from './host-function.js'
import { arn, type RoleFound } from './host-role.js'
import { TICK_INPUT, TICK_PERMISSION_ID, TICK_SCHEDULE, TICK_TARGET_ID, tickRuleName, type Stack } from './stack.js'
import { isError } from './steps.js'

export async function deployTick(
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
