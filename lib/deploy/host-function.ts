// The host's function: created with the bundle, or its code and configuration updated where
// they differ, each change waited on until the function is Active again.
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import { TroupeError } from '../core/errors.js'
import type { HostContext } from './host-context.js'
import { arn, type RoleFound } from './host-role.js'
import { HANDLER, hostEnvironment, type Stack } from './stack.js'
import { isError, messageOf, retrying, waitUntil } from './steps.js'
import { codeSha256 } from './zip.js'

/** The function's ARN, and whether it existed before this deploy (a dry run reads nothing of one that did not). */
export interface FunctionFound {
  arn: string
  existed: boolean
}

export async function deployFunction(lambda: LambdaClient, stack: Stack, zip: Uint8Array, role: RoleFound, context: HostContext): Promise<FunctionFound> {
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

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`
}
