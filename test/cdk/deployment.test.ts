// troupe/cdk's TroupeDeployment, synthesized with aws-cdk-lib/assertions and no AWS account: its
// resources are `troupe template`'s for the same app and options, property by property; its role
// grants exactly the deployment's streams, table, index, log group and bucket, and only the tick
// may invoke the function; its alarms read the metrics the host writes; and the example app
// (examples/cdk) synthesizes the flagship with troupe's bundle as its code. Every synthesis here
// also runs CloudFormation Validate strictly (test/cdk/fixtures/cfn-spec.ts).
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { App, Stack } from 'aws-cdk-lib'
import { Template as Assertions } from 'aws-cdk-lib/assertions'
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Code } from 'aws-cdk-lib/aws-lambda'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import { Topic } from 'aws-cdk-lib/aws-sns'
import t, { type Test } from 'tap'
import { loadTroupeApp, TroupeDeployment, type TroupeAppFile, type TroupeDeploymentProps } from '../../lib/cdk/index.js'
import { emfLines } from '../../lib/metrics/emf.js'
import { STRICT_VALIDATION } from './fixtures/cfn-spec.js'
import { idsByPattern, idsOf, listed, renamed, troupeTemplate, type Resource, type Template } from './fixtures/stack-template.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ANALYTICS = join(ROOT, 'examples/analytics/troupe.app.ts')
const S3_APP = join(ROOT, 'test/deploy/fixtures/s3-payloads.app.ts')
const ROUTED_APP = join(ROOT, 'test/cdk/fixtures/routed.app.ts')
const EXAMPLE = join(ROOT, 'examples/cdk/app.ts')

const apps = new Map<string, TroupeAppFile>()
async function app(file: string): Promise<TroupeAppFile> {
  if (!apps.has(file)) apps.set(file, await loadTroupeApp(file))
  return apps.get(file)!
}

/**
 * A stack with one deployment, synthesized. The code is the same S3 location `--code-s3` gives
 * the template, so Code is compared like any other property (the bundled asset: the example's test).
 */
function synthesize(dir: string, props: Omit<TroupeDeploymentProps, 'code'>, extra?: (stack: Stack, deployment: TroupeDeployment) => void) {
  const stack = new Stack(new App({ outdir: dir, context: STRICT_VALIDATION }), 'Troupe')
  const code = Code.fromBucket(Bucket.fromBucketName(stack, 'Artifacts', 'my-artifacts'), 'troupe/lambda.zip')
  const deployment = new TroupeDeployment(stack, 'Deployment', { ...props, code })
  extra?.(stack, deployment)
  const template = Assertions.fromStack(stack).toJSON() as Template
  const ids = idsOf(deployment.resources)
  return { template, deployment, resources: renamed(template, ids), all: renamed(template, ids, { all: true }) }
}
const CODE_S3 = ['--code-s3', 'my-artifacts/troupe/lambda.zip']

/** Asserts the stack's resources are the template's: the same ids and types, each property equal, and nothing else in the stack. */
function sameResources(t: Test, stack: { template: Template; resources: Record<string, Resource> }, expected: Template) {
  const want = listed(expected)
  t.same(Object.keys(stack.resources).sort(), Object.keys(want).sort(), 'the same resources')
  t.equal(Object.keys(stack.template.Resources).length, Object.keys(want).length, 'and nothing else in the stack')
  for (const [id, resource] of Object.entries(want)) t.same(stack.resources[id], resource, `${id} (${resource.Type}): every property equal`)
}

t.test("the flagship's deployment is troupe template's, resource by resource, property by property", async (t) => {
  const stack = synthesize(t.testdir(), { app: await app(ANALYTICS), name: 'analytics' })
  const expected = await troupeTemplate('--app', ANALYTICS, '--name', 'analytics', ...CODE_S3)
  t.same(Object.values(stack.resources).map((r) => r.Type).sort(), [
    'AWS::DynamoDB::Table',
    'AWS::Events::Rule',
    'AWS::IAM::Role',
    'AWS::Kinesis::Stream',
    'AWS::Lambda::EventSourceMapping',
    'AWS::Lambda::Function',
    'AWS::Lambda::Permission',
    'AWS::Logs::LogGroup',
  ])
  sameResources(t, stack, expected)
  t.match(stack.resources.StreamTroupeMapping!.Properties, { FunctionResponseTypes: ['ReportBatchItemFailures'], BisectBatchOnFunctionError: false, MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1, ParallelizationFactor: 1 })
  t.same(stack.resources.Table!.Properties.TimeToLiveSpecification, { AttributeName: 'ttl', Enabled: true })
  t.equal(stack.resources.HostFunction!.Properties.Runtime, 'nodejs24.x')
})

t.test('every prop a team changes reaches the same properties as the flags of troupe template', async (t) => {
  const stack = synthesize(t.testdir(), {
    app: await app(ANALYTICS),
    name: 'analytics',
    tableName: 'analytics-state',
    functionName: 'analytics-host',
    stream: 'views',
    shards: 4,
    memoryMb: 1024,
    timeoutS: 120,
    batchSize: 500,
    maximumBatchingWindowInSeconds: 5,
    maximumRetryAttempts: 3,
    maximumRecordAgeInSeconds: 600,
    runtime: 'nodejs22.x',
    architecture: 'x86_64',
    logRetentionDays: 7,
    pointInTimeRecovery: false,
  })
  const expected = await troupeTemplate(
    '--app', ANALYTICS, '--name', 'analytics', '--table', 'analytics-state', '--function', 'analytics-host', '--stream', 'views', '--shards', '4',
    '--memory', '1024', '--timeout', '120', '--batch-size', '500', '--batch-window', '5', '--retries', '3', '--max-record-age', '600',
    '--runtime', 'nodejs22.x', '--arch', 'x86_64', '--log-retention', '7', '--no-pitr', ...CODE_S3,
  )
  sameResources(t, stack, expected)
  t.match(stack.resources.StreamViews!.Properties, { Name: 'views', ShardCount: 4 })
  t.match(stack.resources.HostFunction!.Properties, { FunctionName: 'analytics-host', MemorySize: 1024, Timeout: 120, Runtime: 'nodejs22.x', Architectures: ['x86_64'] })
  t.match(stack.resources.StreamViewsMapping!.Properties, { BatchSize: 500, MaximumRetryAttempts: 3, MaximumRecordAgeInSeconds: 600 })
})

t.test('an app with an S3 payload bucket, and one with two streams', async (t) => {
  const archive = synthesize(t.testdir(), { app: await app(S3_APP), name: 'archive' })
  sameResources(t, archive, await troupeTemplate('--app', S3_APP, '--name', 'archive', ...CODE_S3))
  t.equal(archive.resources.PayloadBucket?.Properties.BucketName, 'archive-payloads')
  t.ok(archive.deployment.payloadBucket, 'the bucket has a handle')

  const shop = synthesize(t.testdir(), { app: await app(ROUTED_APP), name: 'shop', shards: 2 })
  sameResources(t, shop, await troupeTemplate('--app', ROUTED_APP, '--name', 'shop', '--shards', '2', ...CODE_S3))
  t.same(shop.deployment.settings.streams, [{ name: 'shop', shards: 2 }, { name: 'shop-urgent', shards: 2 }])
  t.equal(shop.deployment.streams.length, 2)
  t.equal(shop.deployment.payloadBucket, undefined)
})

const STREAM_ACTIONS = ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords']
const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']
const LOG_GROUP = 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${HostLogGroup}'

/** The host's policy, written out: each statement's actions, on exactly these resources. */
function expectedStatements(streams: string[], payloadPrefix?: string) {
  return [
    { Sid: 'Streams', Effect: 'Allow', Action: STREAM_ACTIONS, Resource: streams.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) },
    { Sid: 'ListStreams', Effect: 'Allow', Action: ['kinesis:ListStreams'], Resource: '*' },
    { Sid: 'Table', Effect: 'Allow', Action: TABLE_ACTIONS, Resource: [{ 'Fn::GetAtt': ['Table', 'Arn'] }, { 'Fn::Sub': '${Table.Arn}/index/byDue' }] },
    { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [{ 'Fn::Sub': LOG_GROUP }, { 'Fn::Sub': `${LOG_GROUP}:*` }] },
    ...(payloadPrefix === undefined ? [] : [{ Sid: 'Payloads', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [{ 'Fn::Sub': `\${PayloadBucket.Arn}/${payloadPrefix}*` }] }]),
  ]
}

/** Everything in the stack that grants more than `statements`, or to another principal, one line each. */
function leastPrivilegeProblems(stack: { all: Record<string, Resource> }, statements: unknown[]): string[] {
  const problems: string[] = []
  for (const [id, r] of Object.entries(stack.all)) {
    if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(r.Type)) problems.push(`${id}: ${r.Type} grants more`)
  }
  const roles = Object.entries(stack.all).filter(([, r]) => r.Type === 'AWS::IAM::Role')
  if (roles.length !== 1 || roles[0]![0] !== 'HostRole') problems.push(`roles: ${roles.map(([id]) => id).join(', ')}`)
  const role = stack.all.HostRole?.Properties ?? {}
  const trust = [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
  if (!isDeepStrictEqual(role.AssumeRolePolicyDocument?.Statement, trust)) problems.push(`HostRole: trusts ${JSON.stringify(role.AssumeRolePolicyDocument)}`)
  if (role.ManagedPolicyArns !== undefined) problems.push(`HostRole: managed policies ${JSON.stringify(role.ManagedPolicyArns)}`)
  if (role.Policies?.length !== 1 || role.Policies[0].PolicyName !== 'troupe-host') problems.push(`HostRole: policies ${JSON.stringify(role.Policies?.map((p: { PolicyName: string }) => p.PolicyName))}`)
  const found: unknown[] = role.Policies?.[0]?.PolicyDocument?.Statement ?? []
  for (let i = 0; i < Math.max(found.length, statements.length); i++) {
    if (!isDeepStrictEqual(found[i], statements[i])) problems.push(`HostRole statement ${i}: ${JSON.stringify(found[i])}, expected ${JSON.stringify(statements[i])}`)
  }
  const tick = { Action: 'lambda:InvokeFunction', FunctionName: { Ref: 'HostFunction' }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': ['TickRule', 'Arn'] } }
  for (const [id, r] of Object.entries(stack.all)) {
    if (r.Type === 'AWS::Lambda::Permission' && !isDeepStrictEqual(r.Properties, tick)) problems.push(`${id}: invoke granted ${JSON.stringify(r.Properties)}`)
  }
  return problems
}

t.test("the role grants exactly the deployment's streams, table and index, log group and bucket; only the tick may invoke the function", async (t) => {
  t.same(leastPrivilegeProblems(synthesize(t.testdir(), { app: await app(ANALYTICS), name: 'analytics' }), expectedStatements(['StreamTroupe'])), [], 'the flagship')
  t.same(leastPrivilegeProblems(synthesize(t.testdir(), { app: await app(S3_APP), name: 'archive' }), expectedStatements(['StreamTroupe'], 'troupe-payloads/')), [], 'with its payloads in S3')
  t.same(leastPrivilegeProblems(synthesize(t.testdir(), { app: await app(ROUTED_APP), name: 'shop' }), expectedStatements(['StreamShop', 'StreamShopUrgent'])), [], 'two streams')
})

t.test('the least-privilege check fails on a grant beyond the policy', async (t) => {
  const analytics = await app(ANALYTICS)
  const statements = expectedStatements(['StreamTroupe'])
  const cases: [string, (stack: Stack, d: TroupeDeployment) => void, RegExp][] = [
    ['a resource widened to "*"', (_, d) => d.resources.HostRole!.addPropertyOverride('Policies.0.PolicyDocument.Statement.2.Resource', '*'), /HostRole statement 2: .*"Resource":"\*"/],
    ['an action added', (_, d) => d.resources.HostRole!.addPropertyOverride('Policies.0.PolicyDocument.Statement.0.Action.7', 'kinesis:DeleteStream'), /HostRole statement 0: .*kinesis:DeleteStream/],
    ['a managed policy', (_, d) => d.resources.HostRole!.addPropertyOverride('ManagedPolicyArns', ['arn:aws:iam::aws:policy/AdministratorAccess']), /HostRole: managed policies/],
    ['a grant through the role handle', (_, d) => d.table.grantReadData(d.role), /AWS::IAM::Policy grants more/],
    ['the function invokable by anyone', (_, d) => d.function.addPermission('Anyone', { principal: new ServicePrincipal('sns.amazonaws.com') }), /invoke granted .*sns\.amazonaws\.com/],
  ]
  for (const [name, widen, message] of cases) {
    const problems = leastPrivilegeProblems(synthesize(t.testdir(), { app: analytics, name: 'analytics' }, widen), statements)
    t.match(problems.join('\n'), message, `${name}: ${problems.join(' / ')}`)
  }
})

t.test('the handles grant on the deployment’s own resources', async (t) => {
  const stack = synthesize(t.testdir(), { app: await app(ANALYTICS), name: 'analytics' }, (stack, d) => {
    const api = new Role(stack, 'Api', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') })
    d.function.grantInvoke(api)
    d.streams[0]!.grantWrite(api)
  })
  const ids = idsOf(stack.deployment.resources)
  const policy = Object.values(stack.template.Resources).find((r) => r.Type === 'AWS::IAM::Policy')!
  const named = JSON.stringify(renamed({ Resources: { Policy: policy } }, new Map([...ids, ['Policy', 'Policy']])).Policy)
  t.match(named, /"Action":"lambda:InvokeFunction".*"Fn::GetAtt":\["HostFunction","Arn"\]/, 'the API may invoke the host function (ask by Invoke)')
  t.match(named, /"kinesis:PutRecords".*"Fn::GetAtt":\["StreamTroupe","Arn"\]/, 'and write its stream')
})

t.test('alarms on the iterator age and on dead letters, from the metrics the host writes', async (t) => {
  const stack = new Stack(new App({ outdir: t.testdir(), context: STRICT_VALIDATION }), 'Troupe')
  const alerts = new Topic(stack, 'Alerts')
  const deployment = new TroupeDeployment(stack, 'Deployment', {
    app: await app(ANALYTICS),
    name: 'analytics',
    code: Code.fromBucket(Bucket.fromBucketName(stack, 'Artifacts', 'my-artifacts'), 'troupe/lambda.zip'),
    alarms: { actions: [new SnsAction(alerts)] },
  })
  const template = Assertions.fromStack(stack)
  template.resourceCountIs('AWS::CloudWatch::Alarm', 2)
  t.equal(deployment.alarms.length, 2)
  const topicRef = stack.resolve(alerts.topicArn)
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/Lambda',
    MetricName: 'IteratorAge',
    Dimensions: [{ Name: 'FunctionName', Value: 'analytics' }],
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 3,
    Threshold: 60_000,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [topicRef],
    OKActions: [topicRef],
  })
  const query = `SELECT SUM(dead) FROM SCHEMA("troupe", Actor, Service) WHERE Service = 'analytics'`
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Metrics: [{ Id: 'expr_1', Expression: query, Period: 300, ReturnData: true, Label: 'dead letters' }],
    Threshold: 1,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmActions: [topicRef],
  })

  // The query reads what the host writes: the handler's service is its table's name, and a
  // dead-lettered message counts in `dead`, under the namespace and dimensions of the query.
  const line = JSON.parse(emfLines('analytics', 0, { types: new Map([['pageView', { processed: 0, filtered: 0, retried: 0, throttled: 0, dead: 1 }]]), traffic: [] })[0]!)
  const directive = line._aws.CloudWatchMetrics[0]
  t.equal(directive.Namespace, 'troupe')
  t.same([...directive.Dimensions[0]].sort(), ['Actor', 'Service'], 'the dimension set of SCHEMA(…, Actor, Service)')
  t.ok(directive.Metrics.some((m: { Name: string }) => m.Name === 'dead'), 'a metric named dead')
  t.equal(line.Service, 'analytics')
  t.equal(line.dead, 1)
})

t.test('an alarm can be left out, and thresholds are checked', async (t) => {
  const analytics = await app(ANALYTICS)
  const only = synthesize(t.testdir(), { app: analytics, name: 'analytics', alarms: { iteratorAgeMs: false, deadLetters: 5 } })
  const alarms = Object.values(only.template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
  t.equal(alarms.length, 1)
  t.equal(alarms[0]!.Properties.Threshold, 5)
  t.throws(() => synthesize(t.testdir(), { app: analytics, name: 'analytics', alarms: { iteratorAgeMs: 0 } }), /TroupeDeploymentProps\.alarms\.iteratorAgeMs must be a number above 0, or false/)
})

t.test('props are checked, the message naming the prop', async (t) => {
  const analytics = await app(ANALYTICS)
  const cases: [Partial<TroupeDeploymentProps>, RegExp][] = [
    [{ memoryMb: 64 }, /TroupeDeploymentProps\.memoryMb must be a whole number from 128 to 10240, got 64/],
    [{ shards: 0 }, /TroupeDeploymentProps\.shards must be a whole number from 1 to 10000, got 0/],
    [{ parallelizationFactor: 2 }, /TroupeDeploymentProps\.parallelizationFactor must be 1/],
    [{ runtime: 'nodejs20.x' as never }, /TroupeDeploymentProps\.runtime must be one of nodejs24\.x, nodejs22\.x/],
    [{ name: 'a b' }, /TroupeDeploymentProps\.name must be 1 to 59/],
  ]
  for (const [change, message] of cases) t.throws(() => synthesize(t.testdir(), { app: analytics, name: 'analytics', ...change }), message, JSON.stringify(change))
  const stack = new Stack(new App({ outdir: t.testdir() }), 'Troupe')
  t.throws(() => new TroupeDeployment(stack, 'Inline', { app: analytics, name: 'analytics', code: Code.fromInline('exports.handler = () => {}') }), /TroupeDeploymentProps\.code must be a zip in S3 or an asset/)
  await t.rejects(loadTroupeApp(join(ROOT, 'examples/analytics/nothing.ts')), /no app file at .*nothing\.ts/)
  await t.rejects(loadTroupeApp(join(ROOT, 'test/cli/fixtures/not-an-app.ts')), /is not an app/)
})

/** Runs examples/cdk/app.ts as a CDK app: a child process, its cloud assembly in `outdir`. */
function runExample(cwd: string, outdir: string): Promise<{ code: number | null; stderr: string }> {
  // CloudFormation Validate is left out here: the same resources are validated strictly above.
  const env = { ...process.env, CDK_OUTDIR: outdir, CDK_VALIDATION: 'false' }
  return new Promise((done) => {
    execFile(process.execPath, ['--conditions=troupe-source', '--import', 'tsx', EXAMPLE], { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    )
  })
}

t.test("the example app synthesizes the flagship with troupe's bundle as its code", async (t) => {
  const cwd = t.testdir()
  const outdir = join(cwd, 'cdk.out')
  const ran = await runExample(cwd, outdir)
  t.equal(ran.code, 0, ran.stderr)
  const template = JSON.parse(readFileSync(join(outdir, 'TroupeAnalytics.template.json'), 'utf8')) as Template
  const ids = idsByPattern(template, 'Analytics')
  const resources = renamed(template, ids)
  const expected = listed(await troupeTemplate('--app', ANALYTICS, '--name', 'troupe-analytics', '--memory', '1024'))

  // The one property that differs: the template takes the code's location as parameters, the stack
  // has its asset, which the CDK uploads to its bootstrap bucket under the zip's hash.
  const code = resources.HostFunction!.Properties.Code
  t.same(code.S3Bucket, { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' })
  t.match(code.S3Key, /^[0-9a-f]{64}\.zip$/)
  const asset = readFileSync(join(outdir, `asset.${code.S3Key}`))
  t.equal(asset.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'the asset is a zip')
  t.ok(asset.includes('index.mjs'), 'with the bundle’s index.mjs')
  t.ok(asset.includes('node_modules/@ip-location-db/'), "and the app's files (the country data)")
  const built = join(cwd, '.troupe/cdk', readdirSync(join(cwd, '.troupe/cdk'))[0]!, 'lambda.zip')
  t.ok(existsSync(built) && readFileSync(built).equals(asset), "the asset is troupe bundle's lambda.zip, as built")
  t.same(expected.HostFunction!.Properties.Code, { S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'CodeS3Key' } })
  delete resources.HostFunction!.Properties.Code
  delete expected.HostFunction!.Properties.Code

  t.same(Object.keys(resources).sort(), [...Object.keys(expected), 'DeadLetterAlarm', 'IteratorAgeAlarm'].sort(), "the template's resources, and the two alarms")
  for (const [id, resource] of Object.entries(expected)) t.same(resources[id], resource, `${id}: every other property equal`)
})
