// `troupe template` as a user runs it: the bin in a child process, against the small app in
// fixtures/counter.app.ts. The template parses, has the resources, and the flags reach it.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runTroupe } from './fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('./fixtures/counter.app.ts', import.meta.url))
const NOT_AN_APP = fileURLToPath(new URL('./fixtures/not-an-app.ts', import.meta.url))
const S3_APP = fileURLToPath(new URL('../deploy/fixtures/s3-payloads.app.ts', import.meta.url))

const troupe = (args: string[], cwd?: string) => runTroupe(args, { ...(cwd ? { cwd } : {}), timeoutMs: 60_000 })

t.test('template --json prints the template as one JSON document', async (t) => {
  const run = await troupe(['template', '--app', APP, '--json', '--name', 'counter', '--shards', '2'])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '', 'nothing but JSON, and nothing on stderr')
  t.equal(run.stdout.trim().split('\n').length, 1, 'one line')
  const template = JSON.parse(run.stdout)
  t.equal(template.AWSTemplateFormatVersion, '2010-09-09')
  const types = Object.fromEntries(Object.entries(template.Resources as Record<string, { Type: string }>).map(([id, r]) => [id, r.Type]))
  t.same(types, {
    StreamTroupe: 'AWS::Kinesis::Stream',
    Table: 'AWS::DynamoDB::Table',
    HostLogGroup: 'AWS::Logs::LogGroup',
    HostRole: 'AWS::IAM::Role',
    HostFunction: 'AWS::Lambda::Function',
    StreamTroupeMapping: 'AWS::Lambda::EventSourceMapping',
    TickRule: 'AWS::Events::Rule',
    TickPermission: 'AWS::Lambda::Permission',
  })
  t.match(template.Resources.StreamTroupe.Properties, { Name: 'troupe', ShardCount: 2 }, "the app's default stream")
  t.match(template.Resources.Table.Properties, { TableName: 'counter', TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } })
  t.match(template.Resources.HostFunction.Properties, { FunctionName: 'counter', Runtime: 'nodejs24.x', Handler: 'index.handler' })
  t.match(template.Resources.StreamTroupeMapping.Properties, {
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    BisectBatchOnFunctionError: false,
    MaximumRetryAttempts: -1,
    MaximumRecordAgeInSeconds: -1,
  })
  t.equal(template.Resources.TickRule.Properties.ScheduleExpression, 'rate(1 minute)')
  t.same(Object.keys(template.Parameters), ['CodeS3Bucket', 'CodeS3Key'])
})

t.test('the flags reach the template', async (t) => {
  const run = await troupe([
    'template',
    '--app', APP,
    '--json',
    '--stream', 'orders',
    '--table', 'orders-state',
    '--function', 'orders-host',
    '--memory', '1024',
    '--timeout', '120',
    '--batch-size', '250',
    '--batch-window', '5',
    '--retries', '4',
    '--max-record-age', '900',
    '--parallelization', '1',
    '--arch', 'x86_64',
    '--runtime', 'nodejs22.x',
    '--log-retention', '7',
    '--no-pitr',
    '--code-s3', 's3://artifacts/orders/lambda.zip',
  ]) // prettier-ignore
  t.equal(run.code, 0, run.stderr)
  const { Resources: r, Parameters } = JSON.parse(run.stdout)
  t.equal(r.StreamOrders.Properties.Name, 'orders')
  t.equal(r.Table.Properties.TableName, 'orders-state')
  t.same(r.Table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: false })
  t.match(r.HostFunction.Properties, { FunctionName: 'orders-host', Runtime: 'nodejs22.x', MemorySize: 1024, Timeout: 120, Architectures: ['x86_64'], Code: { S3Bucket: 'artifacts', S3Key: 'orders/lambda.zip' } })
  t.match(r.StreamOrdersMapping.Properties, { BatchSize: 250, MaximumBatchingWindowInSeconds: 5, MaximumRetryAttempts: 4, MaximumRecordAgeInSeconds: 900, ParallelizationFactor: 1 })
  t.equal(r.HostLogGroup.Properties.RetentionInDays, 7)
  t.equal(Parameters, undefined)
})

t.test("the app's runtime reaches the template; --runtime overrides it", async (t) => {
  const dir = t.testdir({ 'on22.app.ts': `import app from ${JSON.stringify(APP)}\nexport default { ...app, runtime: 'nodejs22.x' }\n` })
  const fromApp = await troupe(['template', '--app', 'on22.app.ts', '--json'], dir)
  t.equal(fromApp.code, 0, fromApp.stderr)
  t.equal(JSON.parse(fromApp.stdout).Resources.HostFunction.Properties.Runtime, 'nodejs22.x')
  const overridden = await troupe(['template', '--app', 'on22.app.ts', '--runtime', 'nodejs24.x', '--json'], dir)
  t.equal(overridden.code, 0, overridden.stderr)
  t.equal(JSON.parse(overridden.stdout).Resources.HostFunction.Properties.Runtime, 'nodejs24.x')
})

t.test('without --json: indented JSON on stdout, a summary on stderr; --out writes a file', async (t) => {
  const run = await troupe(['template', '--app', APP])
  t.equal(run.code, 0)
  t.same(Object.keys(JSON.parse(run.stdout).Resources).length, 8)
  t.match(run.stdout, /^\{\n {2}"AWSTemplateFormatVersion"/)
  t.match(run.stderr, /troupe template: 8 resources: streams troupe \(1 shard\), table troupe, function troupe/)
  t.match(run.stderr, /CAPABILITY_IAM/)

  const dir = t.testdir()
  const written = await troupe(['template', '--app', APP, '--out', 'stack.json', '--code-path', 'build/lambda.zip'], dir)
  t.equal(written.code, 0, written.stderr)
  t.match(written.stdout, /^troupe template: wrote stack\.json/)
  const file = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'))
  t.equal(file.Resources.HostFunction.Properties.Code, 'build/lambda.zip')

  const json = await troupe(['template', '--app', APP, '--out', 'stack.json', '--json'], dir)
  t.equal(json.code, 0)
  const report = JSON.parse(json.stdout)
  t.equal(report.file, join(dir, 'stack.json'))
  t.equal(report.resources.HostFunction, 'AWS::Lambda::Function')
  t.same(report.parameters, ['CodeS3Bucket', 'CodeS3Key'])
})

t.test('--help, and bad usage exits 2 with one line naming the flag', async (t) => {
  const help = await troupe(['template', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: troupe template \[options\]/)
  for (const flag of ['--app', '--shards', '--retries', '--runtime', '--max-record-age', '--code-s3', '--code-path', '--out', '--json']) t.match(help.stdout, flag)
  t.match(help.stdout.replace(/\s+/g, ' '), "--runtime <name> the function's runtime: nodejs24.x or nodejs22.x (default: the app's runtime, else nodejs24.x)", "the app's runtime is the default")

  const cases: [string[], RegExp][] = [
    [['--retries=-2'], /--retries must be a whole number from 0 to 10000 \(-1 for no bound, which the guarantee needs\), got -2/],
    [['--parallelization', '2'], /--parallelization must be 1 \(a copy of a message is recognised by its shard's fence/],
    [['--max-record-age', '30'], /--max-record-age must be a whole number from 60 to 604800/],
    [['--memory', 'lots'], /--memory must be a whole number, got "lots"/],
    [['--runtime', 'nodejs20.x'], /--runtime must be one of nodejs24\.x, nodejs22\.x, got "nodejs20\.x"/],
    [['--shards', '0'], /--shards must be a whole number from 1 to 10000, got 0/],
    [['--arch', 'arm'], /--arch must be arm64 or x86_64/],
    [['--code-s3', 'nokey'], /--code-s3 must be <bucket>\/<key>/],
    [['--code-s3', 'b/k', '--code-path', 'x.zip'], /give --code-s3 or --code-path, not both/],
    [['--stream', 'no spaces'], /--stream must be a Kinesis stream name/],
    [['--bogus'], /unknown option --bogus/],
  ]
  const runs = await Promise.all(cases.map(([args]) => troupe(['template', '--app', APP, ...args])))
  for (const [i, [args, message]] of cases.entries()) {
    const run = runs[i]!
    t.equal(run.code, 2, `${args.join(' ')} exits 2`)
    t.match(run.stderr, /^troupe template: /)
    t.match(run.stderr, message, args.join(' '))
    t.equal(run.stderr.trim().split('\n').length, 1, 'one line')
    t.equal(run.stdout, '')
  }
})

t.test('a missing app, or a module that is not an app, exits 2 naming the file', async (t) => {
  const dir = t.testdir()
  const missing = await troupe(['template'], dir)
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^troupe template: no app at \.\/troupe\.app\.ts/)
  const notAnApp = await troupe(['template', '--app', NOT_AN_APP], dir)
  t.equal(notAnApp.code, 2)
  t.match(notAnApp.stderr, /the default export is not an app/)
})

t.test('an app with its payloads in S3: the template makes the bucket with its lifecycle rule and grants the role on its objects', async (t) => {
  const run = await troupe(['template', '--app', S3_APP, '--json', '--name', 'archive'])
  t.equal(run.code, 0, run.stderr)
  const template = JSON.parse(run.stdout)
  t.match(template.Resources.PayloadBucket, {
    Type: 'AWS::S3::Bucket',
    Properties: { BucketName: 'archive-payloads', LifecycleConfiguration: { Rules: [{ Prefix: 'troupe-payloads/', ExpirationInDays: 3 }] } },
  })
  const payloads = template.Resources.HostRole.Properties.Policies[0].PolicyDocument.Statement.find((s: { Sid: string }) => s.Sid === 'Payloads')
  t.same(payloads, { Sid: 'Payloads', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [{ 'Fn::Sub': '${PayloadBucket.Arn}/troupe-payloads/*' }] })
  const text = await troupe(['template', '--app', S3_APP, '--name', 'archive'])
  t.match(text.stderr, /payload bucket archive-payloads \(expires troupe-payloads\/\* after 3 days\)/, 'the summary names the bucket')
  const deploy = await troupe(['deploy', '--app', S3_APP, '--dry-run'])
  t.equal(deploy.code, 2, 'troupe deploy refuses it rather than deploy a role without the bucket')
  t.match(deploy.stderr, /troupe deploy: the app keeps its payloads in S3 \(bucket archive-payloads\), which troupe deploy does not make or grant yet: deploy it with troupe template/)
})
