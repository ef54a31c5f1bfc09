// The event source mapping from one stream to the host's function, with the batch settings of
// mappingSettings (stack.ts); one left disabled is enabled again.
import {
  CreateEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import type { HostContext } from './host-context.js'
import type { FunctionFound } from './host-function.js'
import { mappingSettings, type Stack } from './stack.js'
import { isError, messageOf, retrying } from './steps.js'

export async function deployMapping(lambda: LambdaClient, stack: Stack, stream: string, streamArn: string, fn: FunctionFound, context: HostContext): Promise<void> {
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
