// `troupe template`'s output checked against CloudFormation's resource specification, for every
// example app, an app with an S3 payload bucket and one with two streams, under the flags that
// change the template; and mutated templates, to show the check rejects an unknown property, a
// wrong type and a missing required property, naming the resource and the property.
// test/cdk/fixtures/cfn-spec.ts says what CfnInclude catches by itself and what it does not.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { troupeInProcess } from '../cli/fixtures/troupe-cli.js'
import { specProblems } from './fixtures/cfn-spec.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((name) => existsSync(join(ROOT, 'examples', name, 'troupe.app.ts')))
  .map((name) => join(ROOT, 'examples', name, 'troupe.app.ts'))
const S3_APP = join(ROOT, 'test/deploy/fixtures/s3-payloads.app.ts')
const ROUTED_APP = join(ROOT, 'test/cdk/fixtures/routed.app.ts')

type Template = Parameters<typeof specProblems>[0] & { Resources: Record<string, { Type: string; Properties: Record<string, any>; [attribute: string]: unknown }> }

async function troupeTemplate(...args: string[]): Promise<Template> {
  const run = await troupeInProcess('template', '--json', ...args)
  if (run.code !== 0) throw new Error(`troupe template ${args.join(' ')}: exit ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout) as Template
}

t.test('every example has an app', async (t) => {
  t.ok(EXAMPLES.length >= 6, `${EXAMPLES.length} examples: ${EXAMPLES.map((f) => f.split('/').at(-2)).join(', ')}`)
})

t.test("every example's template passes CloudFormation's specification", async (t) => {
  for (const app of EXAMPLES) {
    const name = app.split('/').at(-2)!
    t.same(specProblems(await troupeTemplate('--app', app, '--name', name), t.testdir()), [], name)
  }
})

t.test('the payload bucket, two streams, and every flag that changes a resource pass it too', async (t) => {
  const analytics = EXAMPLES.find((f) => f.includes('/analytics/'))!
  const cases: [string, string[]][] = [
    ['an S3 payload bucket', ['--app', S3_APP]],
    ['two streams', ['--app', ROUTED_APP, '--shards', '3']],
    ['the code in S3', ['--app', analytics, '--code-s3', 'my-artifacts/troupe/lambda.zip']],
    ['nodejs22.x on x86_64, no PITR', ['--app', analytics, '--runtime', 'nodejs22.x', '--arch', 'x86_64', '--no-pitr']],
    ['bounds at their ends', ['--app', analytics, '--memory', '10240', '--timeout', '900', '--batch-size', '10000', '--batch-window', '300', '--retries', '10000', '--max-record-age', '604800', '--log-retention', '3653']],
    ['bounds at their other ends', ['--app', analytics, '--memory', '128', '--timeout', '1', '--batch-size', '1', '--batch-window', '0', '--retries', '0', '--max-record-age', '60', '--log-retention', '1']],
  ]
  for (const [name, args] of cases) t.same(specProblems(await troupeTemplate(...args), t.testdir()), [], name)

  // --code-path writes a local path as Code, which `aws cloudformation package` replaces with the
  // uploaded zip's S3 location: the template CloudFormation receives is the packaged one.
  const local = await troupeTemplate('--app', analytics, '--code-path', '.troupe/build/lambda.zip')
  t.equal(local.Resources.HostFunction!.Properties.Code, '.troupe/build/lambda.zip')
  t.match(specProblems(local, t.testdir()).join('\n'), /HostFunction \(AWS::Lambda::Function\):.*code.*Expected an object/, 'unpackaged, Code is a path: not a template to deploy as it is')
  local.Resources.HostFunction!.Properties.Code = { S3Bucket: 'my-artifacts', S3Key: 'abc123.zip' }
  t.same(specProblems(local, t.testdir()), [], 'packaged')
})

t.test('the check rejects a template that breaks the specification, naming the resource and the property', async (t) => {
  const valid = await troupeTemplate('--app', EXAMPLES.find((f) => f.includes('/analytics/'))!)
  const cases: [string, (r: Template['Resources']) => void, RegExp][] = [
    ['an unknown property', (r) => (r.StreamTroupe!.Properties.ShardCnt = 2), /^StreamTroupe: ShardCnt: Additional properties are not allowed/],
    ['an unknown property inside a property', (r) => (r.Table!.Properties.TimeToLiveSpecification.Attribute = 'ttl'), /^Table: TimeToLiveSpecification\.Attribute: Additional properties are not allowed/],
    ['an unknown resource attribute', (r) => (r.Table!.DeletionPolicyy = 'Retain'), /^Table: Resource 'Table' has invalid property 'DeletionPolicyy'/],
    ['an unknown resource type', (r) => (r.StreamTroupe!.Type = 'AWS::Kinesis::Streams'), /^StreamTroupe: Unknown resource type 'AWS::Kinesis::Streams'/],
    ['a number where a string belongs', (r) => (r.StreamTroupe!.Properties.Name = 5), /^StreamTroupe \(AWS::Kinesis::Stream\): Properties\.Name is 5 in the template, read as "5"/],
    ['a boolean where a string belongs', (r) => (r.HostFunction!.Properties.Handler = true), /^HostFunction \(AWS::Lambda::Function\): Properties\.Handler is true in the template, read as "true"/],
    ['a string where a number belongs', (r) => (r.StreamTroupe!.Properties.ShardCount = 'two'), /^StreamTroupe \(AWS::Kinesis::Stream\):.*shardCount: "two" should be a number/],
    ['a numeric string where a number belongs', (r) => (r.HostFunction!.Properties.MemorySize = '512'), /^HostFunction \(AWS::Lambda::Function\): Properties\.MemorySize is "512" in the template, read as 512/],
    ['a string where a list belongs', (r) => (r.HostFunction!.Properties.Architectures = 'arm64'), /^HostFunction \(AWS::Lambda::Function\):.*architectures: "arm64" should be a list/],
    ['a string where an object belongs', (r) => (r.StreamTroupe!.Properties.StreamModeDetails = 'PROVISIONED'), /^StreamTroupe \(AWS::Kinesis::Stream\):.*streamModeDetails:.*Expected an object/],
    ['a missing required property', (r) => delete r.HostFunction!.Properties.Role, /HostFunction \[AWS::Lambda::Function\] is missing required property: role/],
    ['a missing required property inside a property', (r) => delete r.Table!.Properties.KeySchema[0].KeyType, /^Table \(AWS::DynamoDB::Table\):.*keySchema: element 0:.*keyType: required but missing/],
    ['a value outside its enum', (r) => (r.StreamTroupe!.Properties.StreamModeDetails.StreamMode = 'PROVISIONNED'), /^StreamTroupe: StreamModeDetails\.StreamMode: 'PROVISIONNED' is not one of \['ON_DEMAND', 'PROVISIONED'\]/],
    ['a value out of range', (r) => (r.HostFunction!.Properties.MemorySize = 64), /^HostFunction: MemorySize: 64 is less than the minimum of 128/],
    ['a retention CloudWatch does not take', (r) => (r.HostLogGroup!.Properties.RetentionInDays = 2), /^HostLogGroup: RetentionInDays: 2 is not one of/],
  ]
  for (const [name, mutate, message] of cases) {
    const template = structuredClone(valid)
    mutate(template.Resources)
    const problems = specProblems(template, t.testdir())
    t.ok(problems.length > 0, `${name}: rejected`)
    t.match(problems.join('\n'), message, `${name}: ${problems.join(' / ')}`)
  }
})
