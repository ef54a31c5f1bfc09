// buildBundle: an app (test/cli/fixtures/counter.app.ts) or an entry bundled with the Lambda
// host, zipped; and the bundle run as Lambda runs it — a fresh Node process, no TypeScript, no
// node_modules, the environment a Lambda gets — taking a tick against the local servers.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { inflateRawSync } from 'node:zlib'
import t from 'tap'
import { clients as localClients, startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { BUNDLE_TARGET_BYTES, buildBundle } from '../../lib/deploy/bundle.js'
import { runtimeNode } from '../../lib/local/runtime-node.js'
import { codeSha256 } from '../../lib/deploy/zip.js'

const APP = fileURLToPath(new URL('../cli/fixtures/counter.app.ts', import.meta.url))
const S3_APP = fileURLToPath(new URL('./fixtures/s3-payloads.app.ts', import.meta.url))
const HOST = fileURLToPath(new URL('../../lib/lambda/index.ts', import.meta.url))

/** The files of a zip, in order, read from their local headers. */
function unzip(archive: Buffer): { name: string; data: Buffer }[] {
  const files: { name: string; data: Buffer }[] = []
  for (let at = 0; archive.readUInt32LE(at) === 0x04034b50; ) {
    const method = archive.readUInt16LE(at + 8)
    const size = archive.readUInt32LE(at + 18)
    const nameLength = archive.readUInt16LE(at + 26)
    const start = at + 30 + nameLength + archive.readUInt16LE(at + 28)
    const body = archive.subarray(start, start + size)
    files.push({ name: archive.subarray(at + 30, at + 30 + nameLength).toString('utf8'), data: method === 8 ? inflateRawSync(body) : body })
    at = start + size
  }
  return files
}

/** Bytes of the chunks the `imported` chunks import statically in turn (not counting those). */
function nestedChunkBytes(dir: string, imported: string[]): number {
  const seen = new Set(imported)
  const pending = [...imported]
  let bytes = 0
  for (let chunk = pending.pop(); chunk !== undefined; chunk = pending.pop()) {
    for (const m of readFileSync(join(dir, chunk), 'utf8').matchAll(/(?:from|import)\s*"\.\/(chunk-[A-Z0-9]+\.mjs)"/g)) {
      if (seen.has(m[1]!)) continue
      seen.add(m[1]!)
      pending.push(m[1]!)
      bytes += readFileSync(join(dir, m[1]!)).length
    }
  }
  return bytes
}

/** Imports the bundle in a fresh process with `env` and invokes its handler with `event`. */
function invoke(bundle: string, event: unknown, env: Record<string, string>): Promise<{ ok: boolean; value: any; stdout: string[]; stderr: string }> {
  const context = "{ getRemainingTimeInMillis: () => 30000, functionName: 'test', awsRequestId: 'r1' }"
  return inBundle(bundle, `mod.handler(${JSON.stringify(event)}, ${context})`, env)
}

/** Imports the bundle as `mod` in a fresh process of `node` with `env` and evaluates the async `expression`. */
function inBundle(bundle: string, expression: string, env: Record<string, string>, node = process.execPath): Promise<{ ok: boolean; value: any; stdout: string[]; stderr: string }> {
  const script = `
    const mod = await import(${JSON.stringify(pathToFileURL(bundle).href)})
    try {
      const value = await (async () => ${expression})()
      process.stdout.write('\\n' + JSON.stringify({ ok: true, value }) + '\\n')
    } catch (error) {
      process.stdout.write('\\n' + JSON.stringify({ ok: false, value: { name: error.name, message: error.message } }) + '\\n')
    }
    process.exit(0)`
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0 || !out) return reject(new Error(`the bundle's process exited ${code}: ${err}`))
      // The result is the last line: the handler writes its metrics (EMF lines) on stdout before it.
      const lines = out.trimEnd().split('\n')
      resolve({ ...JSON.parse(lines.at(-1)!), stdout: lines.slice(0, -1).filter(Boolean), stderr: err })
    })
  })
}

t.test('an app is bundled with the Lambda host, minified, zipped as index.mjs', async (t) => {
  const dir = t.testdir()
  const built = await buildBundle({ app: APP, outDir: dir })
  t.equal(built.outfile, join(dir, 'index.mjs'))
  t.equal(built.bundleFiles[0], built.outfile, 'the entry first')
  t.equal(built.zipfile, join(dir, 'lambda.zip'))
  t.equal(built.entry, join(dir, 'entry.mjs'))
  const files = built.bundleFiles.map((f) => ({ name: basename(f), data: readFileSync(f) }))
  t.ok(built.bundleFiles.every((f) => dirname(f) === dir), 'every file of the bundle beside index.mjs')
  t.equal(built.bytes, files.reduce((n, f) => n + f.data.length, 0), 'the size reported is all the files')
  const code = files[0]!.data
  const imported = [...code.toString('utf8').matchAll(/(?:from|import)\s*"\.\/(chunk-[A-Z0-9]+\.mjs)"/g)].map((m) => m[1]!)
  t.ok(built.initBytes >= code.length && built.initBytes < built.bytes, `init loads ${built.initBytes} of ${built.bytes} bytes`)
  t.equal(built.initBytes, code.length + [...new Set(imported)].reduce((n, c) => n + readFileSync(join(dir, c)).length, 0) + nestedChunkBytes(dir, imported), 'the entry and the chunks it imports statically')
  t.equal(built.targetBytes, BUNDLE_TARGET_BYTES)
  t.equal(built.withinTarget, built.initBytes <= BUNDLE_TARGET_BYTES)
  t.comment(`bundle ${(built.bytes / 1024).toFixed(1)} KiB in ${files.length} files, ${(built.initBytes / 1024).toFixed(1)} KiB loaded at init (target ${BUNDLE_TARGET_BYTES / 1024} KiB), zip ${(built.zipBytes / 1024).toFixed(1)} KiB`)
  const archive = readFileSync(built.zipfile)
  t.equal(built.zipBytes, archive.length)
  t.equal(built.codeSha256, codeSha256(archive))
  t.same(unzip(archive), files, "the bundle's files, under their names")
  t.ok(built.zipBytes < built.bytes / 2, 'deflated')
  t.ok(code.length / code.toString('utf8').split('\n').length > 1000, 'minified: long lines')
  // In Lambda the credentials are in the environment: the rest of the SDK's chain is left out.
  const text = files.map((f) => f.data.toString('utf8')).join('\n')
  t.ok(text.includes('credential-provider-env - fromEnv'), 'the environment provider is in')
  t.notOk(text.includes('credential-provider-ini - fromIni'), 'the INI provider is not')
  t.notOk(text.includes('credential-provider-imds'), 'nor instance metadata')
  // Nor what only other hosts use: the shard consumer (the mapping reads the streams) and the Lambda client (ask by Invoke).
  t.notOk(text.includes('ShardConsumerOptions'), 'no shard consumer')
  t.notOk(text.includes('InvokeCommand'), 'no Lambda client')
  // Nor the S3 client, which only an app with its payloads in S3 (troupe/payloads-s3) brings in.
  t.notOk(text.includes('AmazonS3'), 'no S3 client')
  // Nor HTTP/2, which only SubscribeToShard needs; the event-stream codec and croner load when used.
  t.notOk(text.includes('node:http2'), 'no HTTP/2')
  t.ok(files.some((f) => f.name === 'croner.cjs'), 'croner is a file of its own')
  const init = [code, ...imported.map((c) => readFileSync(join(dir, c)))].map((b) => b.toString('utf8')).join('\n')
  t.notOk(init.includes('node:zlib'), 'no zlib at init (only the event-stream codec uses it)')
  t.notOk(init.includes('EventStreamCodec'), 'the event-stream codec is not loaded at init')
  t.ok(text.includes('EventStreamCodec'), 'but is in a chunk')

  t.test('the same app makes the same package (so CodeSha256 says nothing changed)', async (t) => {
    const again = await buildBundle({ app: APP, outDir: dir })
    t.equal(again.codeSha256, built.codeSha256)
  })

  t.test('with the whole credential chain it is bigger', async (t) => {
    const chain = await buildBundle({ app: APP, outDir: t.testdir(), credentialChain: true })
    t.ok(chain.bundleFiles.some((f) => readFileSync(f, 'utf8').includes('credential-provider-ini - fromIni')))
    t.ok(chain.bytes > built.bytes + 50 * 1024, `${chain.bytes} > ${built.bytes} + 50 KiB`)
  })

  t.test('the bundle runs on its own, as Lambda runs it: a tick against the local servers', async (t) => {
    let stack: LocalStack | undefined
    const clients: ReturnType<typeof localClients>[] = []
    t.teardown(async () => {
      for (const c of clients) {
        c.dynamodb.destroy()
        c.kinesis.destroy()
      }
      await stack?.stop()
    })
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    stack = await startLocalStack()
    const local = localClients(stack)
    clients.push(local)
    await ensureResources({ kinesis: local.kinesis, dynamodb: local.dynamodb, tableName: 'bundled', streams: ['bundled'] })
    const env = {
      TROUPE_TABLE: 'bundled',
      TROUPE_STREAM: 'bundled',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
      AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
    }
    const ticked = await invoke(built.outfile, { troupe: 'tick' }, { ...env, AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: 'local' })
    t.same({ ok: ticked.ok, value: ticked.value }, { ok: true, value: { troupe: 'ticked' } })
    const scheduled = await invoke(built.outfile, { source: 'aws.events', 'detail-type': 'Scheduled Event' }, { ...env, AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' })
    t.same(scheduled.value, { troupe: 'ticked' }, 'an EventBridge scheduled event is a tick too')

    // Without credentials the tick's reads fail (the timer runner logs it), saying where credentials come from.
    const noCredentials = await invoke(built.outfile, { troupe: 'tick' }, env)
    t.ok(
      /no AWS credentials in the environment \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\)/.test(JSON.stringify(noCredentials)),
      'the missing credentials are named',
    )

    // What the bundle trims or loads late still works: croner on the first recurring schedule
    // (not before), and a Kinesis client made with the SDK's default handler (HTTP/1.1 here).
    const probeDir = t.testdir({
      'host.ts': `import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { createRequire } from 'node:module'
import { createLambdaHandler } from ${JSON.stringify(HOST)}
import { parseRecurrence } from ${JSON.stringify(fileURLToPath(new URL('../../lib/core/recurrence.ts', import.meta.url)))}
export const handler = createLambdaHandler({ actors: [], tableName: 'bundled', stream: 'bundled' })
const loaded = (file) => Object.keys(createRequire(import.meta.url).cache).some((f) => f.endsWith(file))
export function nextNoon(after) {
  const before = loaded('croner.cjs')
  return { before, next: parseRecurrence('cron(0 12 * * ? *)')(after), after: loaded('croner.cjs') }
}
export async function endpointCache() {
  const client = new DynamoDBClient({})
  try {
    const tables = (await client.send(new ListTablesCommand({}))).TableNames
    const cache = client.config.endpointCache
    const before = { loaded: loaded('endpoint-cache.cjs'), endpoint: cache.getEndpoint('k') ?? null, has: cache.has('k') }
    cache.set('k', [{ Address: 'a.example', CachePeriodInMinutes: 1 }])
    return { tables, before, endpoint: cache.getEndpoint('k'), has: cache.has('k'), loaded: loaded('endpoint-cache.cjs') }
  } finally {
    client.destroy()
  }
}
export async function listStreams() {
  const client = new KinesisClient({})
  try {
    return (await client.send(new ListStreamsCommand({}))).StreamNames
  } finally {
    client.destroy()
  }
}
`,
    })
    const probe = await buildBundle({ entry: join(probeDir, 'host.ts'), outDir: join(probeDir, 'out') })
    const credentials = { AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' }
    const noon = await inBundle(probe.outfile, `mod.nextNoon(${Date.UTC(2026, 0, 1)})`, { ...env, ...credentials })
    t.same(noon.value, { before: false, next: Date.UTC(2026, 0, 1, 12), after: true }, 'croner loads on the first recurring schedule, and parses it')
    const cache = await inBundle(probe.outfile, 'mod.endpointCache()', { ...env, ...credentials })
    t.same(
      cache.value,
      { tables: ['bundled'], before: { loaded: false, endpoint: null, has: false }, endpoint: 'a.example', has: true, loaded: true },
      "the DynamoDB client's endpoint cache answers empty until written, then loads and keeps what it is given",
    )
    const streams = await inBundle(probe.outfile, 'mod.listStreams()', { ...env, ...credentials })
    t.same(streams, { ok: true, value: ['bundled'], stdout: [], stderr: '' }, 'a Kinesis client with the default handler answers')
  })
})

t.test('an app with its payloads in S3 bundles the S3 client and the store', async (t) => {
  const built = await buildBundle({ app: S3_APP, outDir: t.testdir() })
  const text = readFileSync(built.outfile, 'utf8')
  t.ok(text.includes('AmazonS3'), 'the S3 client is in')
  t.ok(text.includes('troupe-payloads/'), 'and the S3 payload store')
  t.comment(`bundle with the S3 client ${(built.bytes / 1024).toFixed(1)} KiB`)
})

t.test("an app's files travel beside the bundle and in the zip, under the names it gives them", async (t) => {
  const dir = t.testdir({ 'data.txt': 'some data\n' })
  const built = await buildBundle({
    app: APP,
    outDir: join(dir, 'out'),
    files: { 'node_modules/sql.js/dist/sql-wasm.wasm': 'sql.js/dist/sql-wasm.wasm', 'data/data.txt': join(dir, 'data.txt') },
  })
  const wasm = readFileSync(fileURLToPath(new URL('../../node_modules/sql.js/dist/sql-wasm.wasm', import.meta.url)))
  t.same(readFileSync(join(dir, 'out', 'node_modules/sql.js/dist/sql-wasm.wasm')), wasm, 'a package file, found in node_modules, is copied beside index.mjs')
  t.equal(readFileSync(join(dir, 'out', 'data', 'data.txt'), 'utf8'), 'some data\n')
  const files = unzip(readFileSync(built.zipfile))
  t.same(
    files.map((f) => f.name),
    [...built.bundleFiles.map((f) => basename(f)), 'node_modules/sql.js/dist/sql-wasm.wasm', 'data/data.txt'],
    "the bundle's files, then the app's",
  )
  t.same(files[built.bundleFiles.length]!.data, wasm, 'the zip holds the same bytes')
  await t.rejects(buildBundle({ app: APP, outDir: join(dir, 'out2'), files: { 'x.bin': 'no-such-package/x.bin' } }), /files\["x\.bin"\]: no-such-package\/x\.bin is not a file/)
  await t.rejects(buildBundle({ app: APP, outDir: join(dir, 'out3'), files: { '../outside': './data.txt' } }), /must be relative and stay inside it/)
})

t.test('an entry of your own that exports handler is bundled as it is', async (t) => {
  const dir = t.testdir({
    'host.ts': `import { createLambdaHandler } from ${JSON.stringify(HOST)}
import { Actor } from ${JSON.stringify(fileURLToPath(new URL('../../lib/index.ts', import.meta.url)))}
class Echo extends Actor<string, string> {
  static readonly type = 'echo'
  receive(m: string) { return m }
}
export const handler = createLambdaHandler({ actors: [Echo], tableName: 'mine', stream: 'mine' })
`,
  })
  const built = await buildBundle({ entry: join(dir, 'host.ts'), outDir: join(dir, 'out') })
  t.equal(built.entry, join(dir, 'host.ts'))
  t.ok(built.bytes > 0)
  t.ok(/export\{[\w$]+ as handler\}/.test(readFileSync(built.outfile, 'utf8')), 'exports handler')
})

// An ESM import of a built-in makes Node build its ESM facade, reading every export: on Node 24,
// node:http's include getters that load undici (lib/deploy/builtins-by-require.ts). An import()
// is left to Node.
t.test("the bundle loads Node's built-ins with require: on Node 24, importing it loads no undici", async (t) => {
  const dir = t.testdir({
    'host.mjs': `import { createServer } from 'node:http'
import http from 'http'
import * as zlib from 'node:zlib'
import 'node:process'
export async function handler() {
  const { request } = await import('node:https')
  return [typeof createServer, typeof http.request, typeof zlib.gzipSync, typeof request]
}
`,
  })
  const built = await buildBundle({ entry: join(dir, 'host.mjs'), outDir: join(dir, 'out') })
  const code = built.bundleFiles.map((f) => readFileSync(f, 'utf8')).join('\n')
  t.notMatch(code, /(?:from|import)\s*["'](?:node:)?(?:http|zlib|process)["']/, 'no static import of those built-ins')
  t.match(code, /import\("node:https"\)/, 'import() is left as it is')
  const undici = "process.moduleLoadList.filter((m) => m.includes('undici'))"
  const ran = await inBundle(built.outfile, `mod.handler().then((value) => ({ value, undici: ${undici} }))`, {}, await runtimeNode('nodejs24.x'))
  t.ok(ran.ok, ran.stderr)
  t.same(ran.value.value, ['function', 'function', 'function', 'function'], 'what the code imported works')
  t.same(ran.value.undici, [], 'undici is not loaded')
})

t.test('app or entry, one of the two', async (t) => {
  await t.rejects(buildBundle({ outDir: t.testdir() }), { code: 'TROUPE_CONFIG' })
  await t.rejects(buildBundle({ app: APP, entry: APP, outDir: t.testdir() }), { code: 'TROUPE_CONFIG' })
  await t.rejects(buildBundle({ entry: '/no/such/entry.ts', outDir: t.testdir() }), { code: 'TROUPE_BUNDLE', message: /bundling \/no\/such\/entry.ts failed/ })
})
