// deploy(): the streams and the table on the local servers (kinesalite, dynalite), the IAM,
// Lambda and EventBridge calls caught as the SDK would send them (fixtures/control-plane.ts).
// A first deploy creates everything with the settings asked; a second changes nothing; a
// changed option changes only what it touches; a dry run only reads.
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import t from 'tap'
import { clients as localClients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { deploy, type DeployClients, type DeployProgress } from '../../lib/deploy/deploy.js'
import type { StackOptions } from '../../lib/deploy/stack.js'
import { zip } from '../../lib/deploy/zip.js'
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { ControlPlane, isMutation } from './fixtures/control-plane.js'

let stack: LocalStack | undefined
let data: ReturnType<typeof localClients>
t.before(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  stack = await startLocalStack()
  data = localClients(stack)
})
t.teardown(async () => {
  data?.kinesis.destroy()
  data?.dynamodb.destroy()
  await stack?.stop()
})

const code = zip([{ name: 'index.mjs', data: 'export const handler = async () => ({})\n' }])
const fast = { firstPollMs: 5, propagationDelaysMs: [0, 0, 0] }

function setup(name: string, extra: Partial<StackOptions> = {}) {
  const plane = new ControlPlane()
  const clients: DeployClients = { ...data, ...plane.clients() }
  const options: StackOptions = {
    name,
    streams: [
      { name, shards: 2 },
      { name: `${name}-urgent`, shards: 1 },
    ],
    tableName: `${name}-table`,
    functionName: `${name}-host`,
    ...extra,
  }
  return { plane, clients, options }
}

/** The commands sent after the last `command` (from `from` on): its polls, and the one after them. */
function pollsAfter(plane: ControlPlane, command: string, from = 0): string[] {
  const sent = plane.sent.slice(from).map((r) => r.command)
  const rest = sent.slice(sent.lastIndexOf(command) + 1)
  const next = rest.findIndex((c) => c !== 'GetFunctionConfiguration')
  return next === -1 ? rest : rest.slice(0, next + 1)
}

/** The fake's function stays unready for two reads: deploy's wait reads it a third time, then goes on with `next`. */
const polledUntilReady = (next: string) => ['GetFunctionConfiguration', 'GetFunctionConfiguration', 'GetFunctionConfiguration', next]

async function streamOf(name: string) {
  return (await data.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary!
}

t.test('a first deploy creates everything, in order, with the settings asked for', async (t) => {
  const { plane, clients, options } = setup('first')
  const progress: DeployProgress[] = []
  const report = await deploy({ stack: options, zip: code }, clients, { ...fast, onProgress: (p) => progress.push(p) })

  // The streams and the table, on the local servers.
  const main = await streamOf('first')
  const urgent = await streamOf('first-urgent')
  t.equal(main.OpenShardCount, 2)
  t.equal(urgent.OpenShardCount, 1)
  const table = (await data.dynamodb.send(new DescribeTableCommand({ TableName: 'first-table' }))).Table!
  t.same(
    table.KeySchema?.map((k) => k.AttributeName),
    ['pk', 'sk'],
  )
  t.equal(table.LocalSecondaryIndexes?.[0]?.IndexName, 'byDue')

  t.same(
    report.steps.map((s) => `${s.resource}:${s.action}`),
    [
      'stream:create',
      'stream:create',
      'table:create',
      'table-ttl:skipped', // dynalite describes TTL but has no UpdateTimeToLive
      'table-pitr:skipped', // nor a backups API
      'role:create',
      'role-policy:create',
      'function:create',
      'event-source-mapping:create',
      'event-source-mapping:create',
      'tick-rule:create',
      'tick-permission:create',
      'tick-target:create',
    ],
  )
  t.equal(report.changes, 11)
  t.equal(report.region, 'us-east-1')
  t.equal(report.account, '123456789012')
  t.ok(
    progress.some((p) => !p.done && p.resource === 'function'),
    'a change is told as it starts',
  )

  t.same(pollsAfter(plane, 'CreateFunction'), polledUntilReady('CreateEventSourceMapping'), 'deploy polled the new function until it was Active, and only then made its mappings')
  t.same(
    plane.unready,
    [
      { name: 'first-host', seen: 'Pending' },
      { name: 'first-host', seen: 'Pending' },
    ],
    'it saw the function Pending twice',
  )

  t.same(plane.mutations(), [
    'CreateRole',
    'PutRolePolicy',
    'CreateFunction',
    'CreateEventSourceMapping',
    'CreateEventSourceMapping',
    'PutRule',
    'AddPermission',
    'PutTargets',
  ])

  const role = plane.last('CreateRole')!.input
  t.equal(role.RoleName, 'first-us-east-1')
  t.same(JSON.parse(role.AssumeRolePolicyDocument).Statement, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }])

  // The policy names exactly the ARNs the local servers gave, and the function's log group.
  const policy = JSON.parse(plane.last('PutRolePolicy')!.input.PolicyDocument)
  const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]))
  t.same(bySid.Streams.Resource, [main.StreamARN, urgent.StreamARN])
  t.match(main.StreamARN, /^arn:aws:kinesis:us-east-1:\d+:stream\/first$/)
  t.same(bySid.Table.Resource, [table.TableArn, table.LocalSecondaryIndexes![0]!.IndexArn])
  t.same(bySid.Logs.Resource, ['arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/first-host', 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/first-host:*'])
  t.same(bySid.ListStreams.Resource, '*')
  for (const s of policy.Statement) if (s.Sid !== 'ListStreams') t.notOk(s.Resource.includes('*'), `${s.Sid}: no "*"`)

  const fn = plane.last('CreateFunction')!.input
  t.match(fn, {
    FunctionName: 'first-host',
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Role: 'arn:aws:iam::123456789012:role/first-us-east-1',
    MemorySize: 512,
    Timeout: 60,
    Architectures: ['arm64'],
    Environment: { Variables: { TROUPE_TABLE: 'first-table', TROUPE_STREAM: 'first' } },
  })
  t.same(Buffer.from(fn.Code.ZipFile), code, 'the package as given')

  const mappings = plane.all('CreateEventSourceMapping')
  t.same(
    mappings.map((m) => m.input.EventSourceArn),
    [main.StreamARN, urgent.StreamARN],
  )
  for (const m of mappings) {
    t.same(m.input, {
      FunctionName: 'first-host',
      EventSourceArn: m.input.EventSourceArn,
      StartingPosition: 'TRIM_HORIZON',
      Enabled: true,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    })
    // …and that is what goes on the wire.
    t.equal(m.http.method, 'POST')
    t.equal(m.http.path, '/2015-03-31/event-source-mappings')
    t.match(JSON.parse(m.http.body), { BisectBatchOnFunctionError: false, FunctionResponseTypes: ['ReportBatchItemFailures'], MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1 })
  }

  t.same(plane.last('PutRule')!.input, {
    Name: 'first-tick',
    ScheduleExpression: 'rate(1 minute)',
    State: 'ENABLED',
    Description: 'troupe first: fires due timers, join deadlines and parked messages',
  })
  const ruleArn = 'arn:aws:events:us-east-1:123456789012:rule/first-tick'
  t.same(plane.last('AddPermission')!.input, {
    FunctionName: 'first-host',
    StatementId: 'troupe-tick',
    Action: 'lambda:InvokeFunction',
    Principal: 'events.amazonaws.com',
    SourceArn: ruleArn,
  })
  t.same(plane.last('PutTargets')!.input, {
    Rule: 'first-tick',
    Targets: [{ Id: 'troupe-host', Arn: 'arn:aws:lambda:us-east-1:123456789012:function:first-host', Input: '{"troupe":"tick"}' }],
  })
  t.equal(report.functionArn, 'arn:aws:lambda:us-east-1:123456789012:function:first-host')
  t.equal(report.tickRuleArn, ruleArn)

  t.test('deployed again, nothing changes', async (t) => {
    const before = plane.sent.length
    const again = await deploy({ stack: options, zip: code }, clients, fast)
    t.equal(again.changes, 0)
    t.same(
      again.steps.filter((s) => s.action !== 'unchanged' && s.action !== 'skipped'),
      [],
    )
    t.same(
      plane.sent.slice(before).filter((r) => isMutation(r.command)),
      [],
      'only reads were sent',
    )
    t.equal((await streamOf('first')).OpenShardCount, 2)
  })

  t.test('a changed setting updates only what it touches', async (t) => {
    const before = plane.sent.length
    const changed = await deploy({ stack: { ...options, memoryMb: 1024, maximumRetryAttempts: 3 }, zip: code }, clients, fast)
    t.same(
      changed.steps.filter((s) => s.action === 'update').map((s) => `${s.resource}: ${s.detail}`),
      [
        'function-config: MemorySize 512 → 1024',
        'event-source-mapping: MaximumRetryAttempts -1 → 3',
        'event-source-mapping: MaximumRetryAttempts -1 → 3',
      ],
    )
    const sent = plane.sent.slice(before).filter((r) => isMutation(r.command))
    t.same(
      sent.map((r) => r.command),
      ['UpdateFunctionConfiguration', 'UpdateEventSourceMapping', 'UpdateEventSourceMapping'],
    )
    t.equal(sent[0]!.input.MemorySize, 1024)
    t.same(pollsAfter(plane, 'UpdateFunctionConfiguration', before), polledUntilReady('ListEventSourceMappings'), 'deploy polled until the update was done, and only then went on')
    t.match(sent[1]!.input, { MaximumRetryAttempts: 3, BisectBatchOnFunctionError: false, FunctionResponseTypes: ['ReportBatchItemFailures'] })
    t.ok(sent[1]!.input.UUID, 'the mapping found by ListEventSourceMappings')
  })

  t.test('new code updates the code only', async (t) => {
    const before = plane.sent.length
    const newCode = zip([{ name: 'index.mjs', data: 'export const handler = async () => ({ v: 2 })\n' }])
    const changed = await deploy({ stack: { ...options, memoryMb: 1024, maximumRetryAttempts: 3 }, zip: newCode }, clients, fast)
    t.equal(changed.changes, 1)
    const sent = plane.sent.slice(before).filter((r) => isMutation(r.command))
    t.same(
      sent.map((r) => r.command),
      ['UpdateFunctionCode'],
    )
    t.same(Buffer.from(sent[0]!.input.ZipFile), newCode)
    t.same(sent[0]!.input.Architectures, ['arm64'])
    t.same(pollsAfter(plane, 'UpdateFunctionCode', before), polledUntilReady('ListEventSourceMappings'), 'deploy polled until the new code was in')
  })

  t.test('an update still in progress when deploy starts is waited for before deploy updates the function', async (t) => {
    // Another deploy's update, left running: the function answers InProgress and refuses updates.
    await clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'first-host', Timeout: 30 }))
    const before = plane.sent.length
    const unready = plane.unready.length
    const changed = await deploy({ stack: { ...options, memoryMb: 1024, maximumRetryAttempts: 3 }, zip: code }, clients, fast)
    const updates = changed.steps.filter((s) => s.action === 'update')
    t.same(
      updates.map((s) => s.resource),
      ['function-code', 'function-config'],
    )
    t.equal(updates[1]!.detail, 'Timeout 30 → 60')
    t.same(
      plane.sent.slice(before).map((r) => r.command).slice(0, 5),
      ['GetRole', 'GetRolePolicy', 'GetFunction', 'GetFunctionConfiguration', 'GetFunctionConfiguration'],
      'GetFunction found it InProgress; deploy read it until it was done',
    )
    t.same(
      plane.unready.slice(unready).map((u) => u.seen),
      ['InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress'],
      'the update in progress, then its own two updates, each seen InProgress twice',
    )
    t.same(
      plane.sent.slice(before).filter((r) => isMutation(r.command)).map((r) => r.command),
      ['UpdateFunctionCode', 'UpdateFunctionConfiguration'],
      'each update sent once: none was refused for one in progress',
    )
  })
})

t.test('a dry run reads, reports what it would make, and changes nothing', async (t) => {
  const { plane, clients, options } = setup('dry')
  const lines: string[] = []
  const report = await deploy({ stack: options, zip: code }, clients, { ...fast, dryRun: true, onProgress: (p) => lines.push(`${p.done}:${p.dryRun}:${p.resource}:${p.action}`) })
  t.equal(report.dryRun, true)
  t.same(
    report.steps.map((s) => `${s.resource}:${s.action}`),
    [
      'stream:create',
      'stream:create',
      'table:create',
      'table-ttl:create',
      'table-pitr:create',
      'role:create',
      'role-policy:create',
      'function:create',
      'event-source-mapping:create',
      'event-source-mapping:create',
      'tick-rule:create',
      'tick-permission:create',
      'tick-target:create',
    ],
  )
  t.ok(
    lines.every((l) => l.startsWith('true:true:')),
    'each step told once, as a dry run',
  )
  t.same(plane.mutations(), [], 'no mutating call to IAM, Lambda or EventBridge')
  t.same(
    plane.sent.map((r) => r.command),
    ['GetRole', 'GetFunction', 'DescribeRule'],
    'and reads only of what might exist',
  )
  await t.rejects(streamOf('dry'), { name: 'ResourceNotFoundException' }, 'no stream made')
  await t.rejects(data.dynamodb.send(new DescribeTableCommand({ TableName: 'dry-table' })), { name: 'ResourceNotFoundException' }, 'no table made')
  t.equal(report.account, '<account>', 'unknown until the role exists')

  t.test('after a deploy, a dry run of a change reports just that change', async (t) => {
    await deploy({ stack: options, zip: code }, clients, fast)
    const before = plane.sent.length
    const plan = await deploy({ stack: { ...options, timeoutS: 30 }, zip: code }, clients, { ...fast, dryRun: true })
    t.same(
      plan.steps.filter((s) => s.action !== 'unchanged' && s.action !== 'skipped').map((s) => `${s.resource}: ${s.detail}`),
      [
        // dynalite always describes TTL as DISABLED, so a dry run there predicts turning it on
        // (the real run finds no UpdateTimeToLive and skips it).
        'table-ttl: turn on, on ttl',
        'function-config: Timeout 60 → 30',
      ],
    )
    t.same(
      plane.sent.slice(before).filter((r) => isMutation(r.command)),
      [],
    )
  })
})

t.test('a role Lambda cannot assume yet (IAM is eventually consistent) is waited for', async (t) => {
  const { plane, clients, options } = setup('fresh-role')
  plane.failNext('CreateFunction', 'InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.')
  plane.failNext('CreateEventSourceMapping', 'InvalidParameterValueException', 'The provided execution role does not have permissions to call GetRecords on Kinesis')
  const report = await deploy({ stack: options, zip: code }, clients, fast)
  t.equal(plane.all('CreateFunction').length, 2, 'CreateFunction sent again')
  t.equal(plane.all('CreateEventSourceMapping').length, 3, 'the first mapping sent again')
  t.equal(report.steps.find((s) => s.resource === 'function')?.action, 'create')
})

t.test('a function that fails to start fails the deploy, with the reason, before anything is pointed at it', async (t) => {
  const { plane, clients, options } = setup('broken')
  plane.failNextSettle('Lambda was unable to configure access to your environment variables because the KMS key is invalid.')
  await t.rejects(deploy({ stack: options, zip: code }, clients, fast), {
    code: 'TROUPE_DEPLOY',
    message: /function broken-host failed to start: Lambda was unable to configure access to your environment variables because the KMS key is invalid\./,
  })
  t.same(pollsAfter(plane, 'CreateFunction'), ['GetFunctionConfiguration', 'GetFunctionConfiguration', 'GetFunctionConfiguration'], 'polled until it was no longer Pending, and sent nothing after')
  t.same(plane.all('CreateEventSourceMapping'), [], 'no mapping made for a function that failed')

  t.test('an update that fails fails the deploy, with the reason', async (t) => {
    const { plane, clients, options } = setup('broken-update')
    await deploy({ stack: options, zip: code }, clients, fast)
    plane.failNextSettle('The function could not be updated: the layer version is gone.')
    const before = plane.sent.length
    await t.rejects(deploy({ stack: { ...options, memoryMb: 1024, maximumRetryAttempts: 3 }, zip: code }, clients, fast), {
      code: 'TROUPE_DEPLOY',
      message: /the update of function broken-update-host failed: The function could not be updated: the layer version is gone\./,
    })
    t.same(
      plane.sent.slice(before).filter((r) => isMutation(r.command)).map((r) => r.command),
      ['UpdateFunctionConfiguration'],
      'nothing after the failed update',
    )
  })
})

t.test('a failure names the step, and other errors are not retried', async (t) => {
  const { plane, clients, options } = setup('denied')
  plane.failNext('CreateRole', 'AccessDenied', 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:CreateRole')
  await t.rejects(deploy({ stack: options, zip: code }, clients, fast), { code: 'TROUPE_DEPLOY', message: /creating role denied-us-east-1 failed: AccessDenied: .*iam:CreateRole/ })
  t.equal(plane.all('CreateRole').length, 1)
})

t.test('a table with other keys than troupe needs is refused, not changed', async (t) => {
  const { clients, options } = setup('foreign')
  await data.dynamodb.send(
    new CreateTableCommand({
      TableName: 'foreign-table',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  )
  await t.rejects(deploy({ stack: options, zip: code }, clients, fast), { code: 'TROUPE_DEPLOY_TABLE', message: /foreign-table exists with other keys than troupe's \(keys id:HASH, want pk:HASH,sk:RANGE\)/ })
})

t.test('the plan is checked before anything is sent', async (t) => {
  const { plane, clients, options } = setup('checked')
  await t.rejects(deploy({ stack: { ...options, maximumRetryAttempts: -2 }, zip: code }, clients), { code: 'TROUPE_CONFIG', message: /maximumRetryAttempts/ })
  await t.rejects(deploy({ stack: options, zip: new Uint8Array() }, clients), { code: 'TROUPE_CONFIG', message: /DeployPlan.zip/ })
  const other = new ControlPlane('eu-west-1').clients()
  await t.rejects(deploy({ stack: options, zip: code }, { ...clients, lambda: other.lambda }), { message: /different regions \(.*lambda eu-west-1/ })
  t.same(plane.sent, [])
  await t.rejects(streamOf('checked'), { name: 'ResourceNotFoundException' })
})
