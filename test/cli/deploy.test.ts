// `troupe deploy` as a user runs it: the bin in a child process. No request may leave this
// machine: Kinesis and DynamoDB point at the local servers, IAM, Lambda and EventBridge at a
// closed port on 127.0.0.1. So this covers the flags, the errors and a dry run up to the first
// control-plane read; the control-plane calls themselves are tested in test/deploy/deploy.test.ts.
import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { clients as localClients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { runTroupe } from './fixtures/troupe-cli.js'

const troupe = (args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) => runTroupe(args, { ...options, timeoutMs: 120_000 })
const APP = fileURLToPath(new URL('./fixtures/counter.app.ts', import.meta.url))

/** An environment with no AWS of its own: no profile, no region, no credentials, no endpoints. */
function isolated(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

t.test('--help names the flags', async (t) => {
  const dir = t.testdir()
  const help = await troupe(['deploy', '--help'], { cwd: dir, env: isolated(dir) })
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: troupe deploy \[options\]/)
  for (const flag of ['--app', '--entry', '--zip', '--region', '--dry-run', '--json', '--shards', '--retries', '--max-record-age']) t.match(help.stdout, flag)
})

t.test('bad usage exits 2 with one line, before any request', async (t) => {
  const dir = t.testdir()
  const env = isolated(dir, { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' })
  const cases: [string[], RegExp][] = [
    [['--retries', '100000'], /^troupe deploy: --retries must be a whole number from 0 to 10000/],
    [['--name', 'has space'], /^troupe deploy: --name must be 1 to 59 of a-z A-Z 0-9 _ -/],
    [['--zip', join(dir, 'none.zip')], /^troupe deploy: cannot read --zip .*none\.zip/],
    [['--zip', 'a.zip', '--entry', 'b.ts'], /^troupe deploy: give --zip or --entry, not both/],
    [['--dry-run=yes'], /^troupe deploy: --dry-run takes no value/],
  ]
  const runs = await Promise.all(cases.map(([args]) => troupe(['deploy', '--app', APP, ...args], { cwd: dir, env })))
  for (const [i, [args, message]] of cases.entries()) {
    t.equal(runs[i]!.code, 2, `${args.join(' ')} exits 2`)
    t.match(runs[i]!.stderr, message)
    t.equal(runs[i]!.stderr.trim().split('\n').length, 1, 'one line')
    t.equal(runs[i]!.stdout, '')
  }
  const missing = await troupe(['deploy'], { cwd: dir, env })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^troupe deploy: no app at \.\/troupe\.app\.ts/)
})

t.test('no region: exit 2, saying how to give one, before anything is bundled', async (t) => {
  for (const dryRun of [[], ['--dry-run']]) {
    const dir = t.testdir()
    const run = await troupe(['deploy', '--app', APP, ...dryRun], { cwd: dir, env: isolated(dir) })
    t.equal(run.code, 2, run.stderr)
    t.match(run.stderr, /^troupe deploy: no AWS region: pass --region or set AWS_REGION \(or AWS_PROFILE, naming a profile that has a region\)/, dryRun.join(' '))
    t.equal(run.stderr.trim().split('\n').length, 1, 'one line')
    t.notOk(existsSync(join(dir, '.troupe')), 'nothing was bundled')
  }
})

t.test('no credentials: exit 2, saying how to give them, before anything is bundled', async (t) => {
  // isolated(): no credentials in the environment, no config or credentials file, no instance metadata.
  for (const dryRun of [[], ['--dry-run']]) {
    const dir = t.testdir()
    const run = await troupe(['deploy', '--app', APP, ...dryRun], { cwd: dir, env: isolated(dir, { AWS_REGION: 'us-east-1' }) })
    t.equal(run.code, 2, run.stderr)
    t.match(run.stderr, /^troupe deploy: no AWS credentials: set AWS_PROFILE to a profile in ~\/\.aws\/config \(for an SSO profile, run aws sso login --profile <profile> first\), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/m, dryRun.join(' '))
    t.notMatch(run.stderr, /CredentialsProviderError|Could not load credentials/, "not the SDK's own words")
    t.notOk(existsSync(join(dir, '.troupe')), 'nothing was bundled')
  }
  const dir = t.testdir()
  const profile = await troupe(['deploy', '--app', APP, '--region', 'eu-west-1'], { cwd: dir, env: isolated(dir, { AWS_PROFILE: 'work-sso' }) })
  t.equal(profile.code, 2, profile.stderr)
  t.match(profile.stderr, /^troupe deploy: no AWS credentials(?: \(.*\))?: the profile work-sso \(AWS_PROFILE\) gave none: .*aws sso login --profile work-sso; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/)
  t.notOk(existsSync(join(dir, '.troupe')), 'nothing was bundled')
})

t.test('a dry run bundles, reads the streams and the table, and says which read failed', async (t) => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const stack: LocalStack = await startLocalStack()
  const local = localClients(stack)
  t.teardown(async () => {
    local.kinesis.destroy()
    local.dynamodb.destroy()
    await stack.stop()
  })
  const dir = t.testdir()
  const closed = `http://127.0.0.1:${await closedPort()}`
  const env = isolated(dir, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ENDPOINT_URL: closed,
    AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
    AWS_ENDPOINT_URL_IAM: closed,
    AWS_ENDPOINT_URL_LAMBDA: closed,
    AWS_ENDPOINT_URL_EVENTBRIDGE: closed,
  })
  const run = await troupe(['deploy', '--app', APP, '--name', 'counter', '--shards', '2', '--dry-run', '--json'], { cwd: dir, env })
  t.equal(run.code, 1, 'IAM cannot be reached')
  const lines = run.stderr.trim().split('\n')
  t.match(lines[0], /^troupe deploy: bundled \.troupe\/build\/index\.mjs \(\d+\.\d KiB, zipped \d+\.\d KiB\)$/)
  t.ok(lines.includes('troupe deploy: stream troupe: would create (2 shards)'), 'the stream, from the app')
  t.ok(lines.includes('troupe deploy: table counter: would create (keys pk, sk; index byDue; on-demand)'))
  t.match(lines.at(-1), /^troupe deploy: reading role counter-us-east-1 failed: .*(ECONNREFUSED|connect)/)
  t.equal(run.stdout, '', 'no report: the plan is not complete')
  await t.rejects(local.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'troupe' })), { name: 'ResourceNotFoundException' }, 'a dry run made nothing')
})
