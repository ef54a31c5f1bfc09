// Security, checked on what ships: the IAM policy `troupe template` prints names only the app's
// own streams, table, function (its log group), tick rule and, when its payloads are in S3, the
// objects under its payload prefix; and the Lambda bundle `troupe
// bundle` builds has no eval, no Function constructor and no import() of anything but a
// constant Node built-in, so no message can become code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildBundle } from '../../lib/deploy/bundle.js'
import { runTroupe } from '../cli/fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('../cli/fixtures/counter.app.ts', import.meta.url))
/** An app whose payloads go to an S3PayloadStore: its template has a bucket, its bundle the S3 client. */
const S3_APP = fileURLToPath(new URL('../deploy/fixtures/s3-payloads.app.ts', import.meta.url))
const APPS = [
  ['counter', APP],
  ['s3 payloads', S3_APP],
] as const

/** The logical ids an ARN expression refers to (Ref, Fn::GetAtt, and ${Id} / ${Id.Attr} in Fn::Sub). */
function referencedIds(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return []
  const v = value as Record<string, unknown>
  if (typeof v.Ref === 'string') return [v.Ref]
  if (Array.isArray(v['Fn::GetAtt'])) return [String(v['Fn::GetAtt'][0])]
  if (typeof v['Fn::Sub'] === 'string') return [...v['Fn::Sub'].matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!.split('.')[0]!).filter((id) => !id.startsWith('AWS::'))
  return []
}

/**
 * The only statement allowed a "*" resource, and why: kinesis:ListStreams is an account-level
 * action (the IAM service authorization reference lists no resource type for it, so IAM takes
 * only "*"); the event source mapping calls it. It reveals stream names, nothing in them.
 */
const STAR_ALLOWED = new Map([['kinesis:ListStreams', 'account-level: IAM has no resource type for it']])

for (const [name, app] of APPS) t.test(`troupe template (${name}): every IAM statement names only this app's streams, table, function log group, tick rule or payload objects`, async (t) => {
  const run = await runTroupe(['template', '--app', app, '--json', '--name', 'sec', '--shards', '2'], { timeoutMs: 60_000 })
  t.equal(run.code, 0, run.stderr)
  const template = JSON.parse(run.stdout) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> }
  const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type).map(([id]) => id)
  const streams = ofType('AWS::Kinesis::Stream')
  const tables = ofType('AWS::DynamoDB::Table')
  const functions = ofType('AWS::Lambda::Function')
  const logGroups = ofType('AWS::Logs::LogGroup')
  const buckets = ofType('AWS::S3::Bucket')
  t.ok(streams.length >= 1 && tables.length === 1 && functions.length === 1 && logGroups.length === 1)
  t.equal(buckets.length, app === S3_APP ? 1 : 0, 'a bucket only for the app with its payloads in S3')
  const ownedBy: Record<string, string[]> = { kinesis: streams, dynamodb: tables, logs: logGroups, s3: buckets }

  const roles = ofType('AWS::IAM::Role')
  t.equal(roles.length, 1, 'one role: the host function\'s')
  const role = template.Resources[roles[0]!]!.Properties
  t.same(role.AssumeRolePolicyDocument.Statement, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }], 'only Lambda may assume it')
  t.notOk(role.ManagedPolicyArns, 'no managed policy (they name "*")')
  let statements = 0
  for (const policy of role.Policies as { PolicyDocument: { Statement: { Sid?: string; Effect: string; Action: string[] | string; Resource: unknown; NotResource?: unknown; NotAction?: unknown }[] } }[]) {
    for (const s of policy.PolicyDocument.Statement) {
      statements++
      const actions = [s.Action].flat()
      t.equal(s.Effect, 'Allow')
      t.notOk(s.NotResource ?? s.NotAction, `${s.Sid}: no NotResource or NotAction`)
      for (const a of actions) t.match(a, /^(kinesis|dynamodb|logs):[A-Za-z]+$|^s3:(GetObject|PutObject)$/, `${s.Sid}: ${a} is one action of kinesis, dynamodb or logs, or reads or writes an S3 object`)
      if (s.Resource === '*') {
        for (const a of actions) t.ok(STAR_ALLOWED.has(a), `${s.Sid}: "*" only for ${a} (${STAR_ALLOWED.get(a) ?? 'NOT ALLOWED'})`)
        continue
      }
      t.ok(Array.isArray(s.Resource) && (s.Resource as unknown[]).length > 0, `${s.Sid} names its resources`)
      for (const r of [s.Resource].flat()) {
        t.not(r, '*', `${s.Sid}: no "*" resource`)
        const ids = referencedIds(r)
        t.ok(ids.length > 0, `${s.Sid}: ${JSON.stringify(r)} is an ARN of this template`)
        const service = actions[0]!.split(':')[0]!
        for (const id of ids) t.ok(ownedBy[service]?.includes(id), `${s.Sid}: ${service} actions on ${id}, a ${service} resource of this app`)
        if (typeof r === 'object' && r !== null && 'Fn::Sub' in r) {
          const arn = String((r as Record<string, unknown>)['Fn::Sub'])
          if (service === 's3') t.match(arn, /^\$\{PayloadBucket\.Arn\}\/[^*]+\*$/, `${s.Sid}: the objects under a prefix of the payload bucket, not the bucket or all of it`)
          else t.notMatch(arn.replace(/:\*$/, ''), /\*/, `${s.Sid}: no wildcard inside the ARN but a log group's streams (":*")`)
        }
      }
    }
  }
  t.ok(statements >= 3)

  // The one other grant: the tick rule may invoke this function, and nothing else may.
  for (const id of ofType('AWS::Lambda::Permission')) {
    const p = template.Resources[id]!.Properties
    t.equal(p.Action, 'lambda:InvokeFunction')
    t.ok(referencedIds(p.FunctionName).every((f) => functions.includes(f)) && referencedIds(p.FunctionName).length > 0, `${id}: on this app's function`)
    t.equal(p.Principal, 'events.amazonaws.com')
    t.ok(referencedIds(p.SourceArn).length > 0 && referencedIds(p.SourceArn).every((r) => ofType('AWS::Events::Rule').includes(r)), `${id}: only from this app's tick rule`)
  }
})

/**
 * What the dependencies bundled contain that looks like code loading, and why it is safe: each
 * is `import()` of a constant Node built-in or of one of the bundle's own chunks, never of data.
 * - node:http: the SDK's instance-metadata client and @smithy/node-http-handler load it lazily;
 * - node:async_hooks: @aws/lambda-invoke-store loads it lazily for its AsyncLocalStorage;
 * - ./chunk-<hash>.mjs: code reached only through `import()` (the SDK's event-stream codec), split
 *   out by the bundler so a cold start does not parse it; the name is fixed when the bundle is made.
 * And one `require` of a constant file of the bundle: croner.cjs, loaded on the first recurring
 * schedule (lib/deploy/bundle-trims.ts).
 */
const ALLOWED_IMPORTS = new Set(['node:http', 'node:async_hooks'])
const OWN_CHUNK = /^\.\/chunk-[A-Z0-9]+\.mjs$/

t.test('the Lambda bundle: no eval, no Function constructor, no import() of anything but a constant Node built-in or its own chunk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-sec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [app, minify] of [[APP, true], [APP, false], [S3_APP, true]] as const) {
    const built = await buildBundle({ app, outDir: join(dir, `${app === APP ? 'counter' : 's3'}-${minify}`), minify })
    const code = built.bundleFiles.map((f) => readFileSync(f, 'utf8')).join('\n')
    t.ok(code.length > 100_000, `${app === APP ? '' : 'with the S3 client, '}${minify ? 'minified' : 'readable'} bundle of ${code.length} bytes in ${built.bundleFiles.length} files`)
    t.same([...code.matchAll(/(?<![\w$.])eval\s*\(/g)].map((m) => code.slice(m.index, m.index + 80)), [], 'no eval(')
    t.same([...code.matchAll(/(?<![\w$])(new\s+)?Function\s*\(/g)].map((m) => code.slice(Math.max(0, m.index - 20), m.index + 80)), [], 'no Function( constructor')
    t.same([...code.matchAll(/(?<![\w$.])(setTimeout|setInterval)\s*\(\s*["'`]/g)].map((m) => code.slice(m.index, m.index + 80)), [], 'no timer given a string of code')
    const imports = [...code.matchAll(/(?<![\w$.])import\s*\(\s*([^)]*)\)/g)].map((m) => m[1]!.trim())
    for (const spec of imports) {
      const literal = /^["']([^"']+)["']$/.exec(spec)?.[1]
      t.ok(literal !== undefined && (ALLOWED_IMPORTS.has(literal) || OWN_CHUNK.test(literal)), `import(${spec}): a constant, allow-listed Node built-in or a chunk of the bundle`)
    }
    for (const chunk of imports.map((spec) => /^["'](\.\/[^"']+)["']$/.exec(spec)?.[1]).filter((c) => c !== undefined)) {
      t.ok(built.bundleFiles.some((f) => f.endsWith(chunk.slice(1))), `${chunk} is one of the bundle's files`)
    }
    const ownFiles = [...new Set([...code.matchAll(/["'](\.\/[^"'\s]+\.(?:mjs|cjs|js))["']/g)].map((m) => m[1]!))]
    for (const file of ownFiles) t.ok(built.bundleFiles.some((f) => f.endsWith(file.slice(1))), `${file}, named in the code, is one of the bundle's files`)
    t.ok(ownFiles.includes('./croner.cjs'), 'croner.cjs is named, for the first recurring schedule')
    t.comment(`${minify ? 'minified' : 'readable'}: dynamic imports ${JSON.stringify(imports)}`)
  }
})
