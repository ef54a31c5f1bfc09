// LocalFunction on its own: the bundle a deploy would upload, run in execution environments
// (child processes) with Lambda's environment and context, reused while warm, started afresh
// after a crash or a timeout; its errors and limits as the Invoke API reports them; and the
// hooks of chaos tests: listing the environments and killing one at any moment.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { bundleHandler } from '../../lib/lambda/index.js'
import { LocalFunction, RequestTooLargeError, type InvokeResult } from '../../lib/local/index.js'
import { runtimeNode } from '../../lib/local/runtime-node.js'
import { bundleFixture } from './fixtures/rig.js'

let bundle: string
t.before(async () => {
  bundle = await bundleFixture(t, 'probe')
  // Found (or installed) once up front: a LocalFunction made after it spawns at its first
  // invocation at once, which the environments() tests below look at synchronously.
  await runtimeNode('nodejs24.x')
})

const quiet = { onLog: () => {}, initTimeoutMs: 60_000, environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }
/** The result of an invocation that must succeed. */
function ok(r: InvokeResult): Record<string, unknown> {
  if (!r.ok) throw new Error(`the invocation failed: ${r.payload}`)
  return r.result as Record<string, unknown>
}

t.test('the bundle is self-contained ESM, and a handler importing troupe/lambda leaves the local tools and esbuild out', async (t) => {
  const text = readFileSync(bundle, 'utf8')
  t.match(text.slice(0, 400), /createRequire/, 'the require shim for CommonJS dependencies')
  t.notMatch(text, /runtime-child\.mjs/, 'no LocalFunction')
  t.notMatch(text, /class LocalEventSourceMapping/, 'no event source mapping')
  t.notMatch(text, /esbuild/, 'no esbuild')
})

t.test('an environment has Lambda’s variables and context, and is reused while warm', async (t) => {
  const fn = new LocalFunction({ bundle, name: 'probe-fn', timeoutMs: 20_000, memoryMb: 256, table: 'tbl', stream: 'str', stack: { kinesisEndpoint: 'http://127.0.0.1:1', dynamodbEndpoint: 'http://127.0.0.1:2' }, ...quiet })
  t.teardown(() => fn.stop())
  const first = ok(await fn.invoke({ op: 'env' }))
  const env = first.env as Record<string, string>
  t.match(env, {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'probe-fn',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/probe-fn',
    AWS_LAMBDA_LOG_STREAM_NAME: /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/,
    AWS_ACCESS_KEY_ID: String,
    AWS_SECRET_ACCESS_KEY: String,
    AWS_SESSION_TOKEN: String,
    AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:1',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2',
    TROUPE_TABLE: 'tbl',
    TROUPE_STREAM: 'str',
    _HANDLER: 'probe.handler',
    TZ: ':UTC',
    _X_AMZN_TRACE_ID: /^Root=1-/,
  })
  t.notOk(Object.keys(env).some((k) => k.startsWith('TAP')), 'nothing of this process’s environment leaks in')
  t.match(first.context, { functionName: 'probe-fn', awsRequestId: /^[0-9a-f-]{36}$/, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:probe-fn', memoryLimitInMB: '256' })
  t.ok((first.remaining as number) > 0 && (first.remaining as number) <= 20_000, 'getRemainingTimeInMillis counts down from the timeout')
  const second = ok(await fn.invoke({ op: 'env' }))
  t.equal(second.pid, first.pid, 'the same warm environment')
  t.equal(second.invocations, 2, 'module state persists between invocations')
  t.not((second.context as { awsRequestId: string }).awsRequestId, (first.context as { awsRequestId: string }).awsRequestId, 'a request id per invocation')
  t.match(fn.stats(), { inits: 1, invocations: 2, errors: 0, environments: 1 })
})

t.test('errors: a throw keeps the environment; an exit or an uncaught error ends it, and the next invocation inits afresh', async (t) => {
  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  const thrown = await fn.invoke({ op: 'throw' })
  t.match(thrown, { ok: false, functionError: 'Unhandled', failure: 'error', error: { errorType: 'TypeError', errorMessage: 'thrown on purpose', stackTrace: Array } })
  t.same(JSON.parse(thrown.payload).errorType, 'TypeError', 'the payload is the error JSON')
  const exited = await fn.invoke({ op: 'exit' })
  t.match(exited, { ok: false, failure: 'crash', error: { errorType: 'Runtime.ExitError', errorMessage: /^RequestId: [0-9a-f-]+ Error: Runtime exited with error: exit status 3$/ } })
  t.equal(ok(await fn.invoke({ op: 'env' })).invocations, 1, 'a fresh environment: module state starts over')
  t.equal(fn.stats().inits, 2)
  // An error thrown after the handler returned takes the environment down between invocations.
  t.equal((await fn.invoke({ op: 'crash-later' })).ok, true)
  const until = Date.now() + 30_000
  while (fn.stats().crashes < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(ok(await fn.invoke({ op: 'env' })).invocations, 1, 'the next invocation finds a fresh environment')
  t.match(fn.stats(), { inits: 3, crashes: 2, errors: 2 })
})

t.test('limits: 6 MB each way, and the timeout kills the environment', async (t) => {
  const fn = new LocalFunction({ bundle, timeoutMs: 1_500, ...quiet })
  t.teardown(() => fn.stop())
  await t.rejects(fn.invoke({ op: 'env', pad: 'x'.repeat(6 * 1024 * 1024) }), RequestTooLargeError, 'a request over 6 MB never runs')
  t.equal(fn.stats().invocations, 0)
  t.match(await fn.invoke({ op: 'big' }), { ok: false, failure: 'response-too-large', error: { errorType: 'Function.ResponseSizeTooLarge' } })
  const slow = await fn.invoke({ op: 'sleep', ms: 60_000 })
  t.match(slow, { ok: false, failure: 'timeout', error: { errorType: 'Sandbox.Timedout', errorMessage: /Task timed out after 1\.50 seconds$/ } })
  t.equal(ok(await fn.invoke({ op: 'sleep', ms: 0 }, { timeoutMs: 30_000 })) as unknown, 'slept', 'the next invocation runs, in a fresh environment')
  t.match(fn.stats(), { inits: 2, timeouts: 1, crashes: 0 })
})

t.test('a failed init fails the invocation (and the next one inits again); provision() starts warm environments', async (t) => {
  const broken = new LocalFunction({ bundle, ...quiet, environment: { ...quiet.environment, PROBE_INIT: 'throw' } })
  t.teardown(() => broken.stop())
  const result = await broken.invoke({ op: 'env' })
  t.match(result, { ok: false, failure: 'init', error: { errorType: 'Error', errorMessage: 'init failed on purpose' } })
  t.match(await broken.invoke({ op: 'env' }), { ok: false, failure: 'init' })
  t.match(broken.stats(), { inits: 0, initErrors: 2, crashes: 0 })
  await t.rejects(broken.provision(1), { code: 'TROUPE_LAMBDA_INIT' })

  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  await fn.provision(2)
  t.match(fn.stats(), { inits: 2, environments: 2, invocations: 0 })
  const [a, b] = await Promise.all([fn.invoke({ op: 'env' }), fn.invoke({ op: 'env' })])
  t.equal((ok(a!).env as Record<string, string>).AWS_LAMBDA_INITIALIZATION_TYPE, 'provisioned-concurrency')
  t.not(ok(a!).pid, ok(b!).pid, 'two invocations at once run in two environments')
  t.equal(fn.stats().inits, 2, 'both were warm')
  await fn.stop()
  await t.rejects(fn.invoke({ op: 'env' }), { code: 'TROUPE_LAMBDA_STOPPED' })
})

t.test('the environments run on the Node of the runtime: nodejs24.x by default, nodejs22.x when asked', async (t) => {
  // The nodejs22.x function gets a bundle built for Node 22, as `troupe bundle --runtime nodejs22.x` makes.
  const dir = mkdtempSync(join(tmpdir(), 'troupe-probe22-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { outfile: bundle22 } = await bundleHandler({ entry: fileURLToPath(new URL('./fixtures/probe.ts', import.meta.url)), outfile: join(dir, 'probe.mjs'), runtime: 'nodejs22.x' })
  for (const [runtime, major] of [[undefined, 24], ['nodejs22.x', 22]] as const) {
    const fn = new LocalFunction({ bundle: runtime ? bundle22 : bundle, ...quiet, ...(runtime ? { runtime } : {}) })
    t.teardown(() => fn.stop())
    const { env, version } = ok(await fn.invoke({ op: 'env' })) as { env: Record<string, string>; version: string }
    t.match(version, new RegExp(`^v${major}\\.`), `process.version is Node ${major}`)
    t.equal(env.AWS_EXECUTION_ENV, `AWS_Lambda_nodejs${major}.x`, 'AWS_EXECUTION_ENV names the runtime')
    t.match(env.NODE_PATH, new RegExp(`^/opt/nodejs/node${major}/node_modules:`))
    t.equal(fn.runtime, runtime ?? 'nodejs24.x')
    await fn.stop()
  }
  t.throws(() => new LocalFunction({ bundle, runtime: 'nodejs20.x' as never }), { code: 'TROUPE_CONFIG', message: /runtime must be one of nodejs24\.x, nodejs22\.x/ })
})

/** A function whose `sleep` invocations resolve `sleeping()` once the handler is inside them. */
function sleeper(t: Test): { fn: LocalFunction; sleeping: () => Promise<void> } {
  let started: (() => void) | undefined
  const fn = new LocalFunction({ bundle, ...quiet, onLog: (line) => line.startsWith('probe: sleeping') && started?.() })
  t.teardown(() => fn.stop())
  return { fn, sleeping: () => new Promise<void>((resolve) => (started = resolve)) }
}

t.test('environments() lists each environment: its pid, whether it inits, idles or runs an invocation, and how many it took', async (t) => {
  const { fn, sleeping } = sleeper(t)
  t.same(fn.environments(), [], 'none before the first invocation')
  const first = fn.invoke({ op: 'env' })
  const [starting] = fn.environments()
  t.match(starting, { id: 1, pid: Number, state: 'init', invocations: 0, startedAt: Date })
  const { pid } = ok(await first)
  t.same(fn.environments(), [{ ...starting, state: 'idle', invocations: 1 }], 'the same process (the pid the handler saw), now idle')
  t.equal(pid, starting!.pid)
  const inside = sleeping()
  const slow = fn.invoke({ op: 'sleep', ms: 100 })
  await inside
  const [busy] = fn.environments()
  t.match(busy, { id: 1, state: 'busy', requestId: /^[0-9a-f-]{36}$/, invocations: 2 })
  t.equal((await slow).requestId, busy!.requestId, 'the running invocation’s request id')
  t.equal(fn.environments().length, 1)
})

t.test('kill() of an idle environment: it is gone at once, and the next invocation starts a fresh one', async (t) => {
  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  const before = ok(await fn.invoke({ op: 'env' }))
  t.equal(await fn.kill(1), true)
  t.same(fn.environments(), [])
  const after = ok(await fn.invoke({ op: 'env' }))
  t.not(after.pid, before.pid)
  t.equal(after.invocations, 1, 'module state starts over: init ran again')
  t.match(fn.stats(), { inits: 2, crashes: 1, errors: 0 })
  t.match(fn.environments(), [{ id: 2 }])
})

t.test('kill() mid-invocation: the invocation ends as Runtime.ExitError, as a crash does', async (t) => {
  const { fn, sleeping } = sleeper(t)
  const inside = sleeping()
  const slow = fn.invoke({ op: 'sleep', ms: 60_000 })
  await inside
  const [env] = fn.environments()
  t.equal(await fn.kill({ pid: env!.pid }), true, 'by pid')
  t.match(await slow, {
    ok: false,
    functionError: 'Unhandled',
    failure: 'crash',
    error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${env!.requestId} Error: Runtime exited with error: signal: killed` },
  })
  t.match(fn.stats(), { crashes: 1, errors: 1, timeouts: 0, inFlight: 0, environments: 0 })
})

t.test('kill() during init: the invocation waiting for that environment fails its init; the next one starts afresh', async (t) => {
  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  const pending = fn.invoke({ op: 'env' })
  const [env] = fn.environments()
  t.equal(env!.state, 'init')
  t.equal(await fn.kill(env!.id), true)
  t.match(await pending, { ok: false, failure: 'init', error: { errorType: 'Runtime.ExitError', errorMessage: 'Error: Runtime exited during init with error: signal: killed' } })
  t.equal(ok(await fn.invoke({ op: 'env' })).invocations, 1)
  t.match(fn.stats(), { inits: 1, initErrors: 1, crashes: 0 })
})

t.test("kill(…, { when: 'busy' }) waits for the environment's next invocation and ends it mid-invocation", async (t) => {
  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  await fn.provision(1)
  const [env] = fn.environments()
  const killed = fn.kill(env!.id, { when: 'busy' })
  t.match(fn.environments(), [{ id: env!.id, state: 'idle' }], 'alive while it waits')
  t.match(await fn.invoke({ op: 'sleep', ms: 60_000 }), { ok: false, failure: 'crash', error: { errorType: 'Runtime.ExitError' } })
  t.equal(await killed, true)
  t.equal(ok(await fn.invoke({ op: 'env' })).invocations, 1, 'the next invocation runs, in a fresh environment')
})

t.test('kill() of an environment gone or going resolves false, and a kill waiting for an invocation ends with the function', async (t) => {
  const fn = new LocalFunction({ bundle, ...quiet })
  t.teardown(() => fn.stop())
  await fn.provision(1)
  const [env] = fn.environments()
  t.same(await Promise.all([fn.kill(env!.id), fn.kill(env!.id)]), [true, false], 'two kills at once: one ends it')
  t.equal(await fn.kill(env!.id), false, 'gone')
  t.equal(await fn.kill({ pid: env!.pid }), false, 'gone, by pid')
  t.equal(await fn.kill(99), false, 'never was')
  await fn.provision(1)
  const [other] = fn.environments()
  const waiting = fn.kill(other!.id, { when: 'busy' })
  await fn.stop()
  t.equal(await waiting, false, 'stop() ended it first')
  t.equal(fn.stats().crashes, 1)
})

t.test('idle({ timeoutMs }) rejects naming the invocation still running', async (t) => {
  const { fn, sleeping } = sleeper(t)
  const inside = sleeping()
  const slow = fn.invoke({ op: 'sleep', ms: 60_000 })
  await inside
  const [env] = fn.environments()
  await t.rejects(fn.idle({ timeoutMs: 50 }), {
    name: 'NotIdleError',
    code: 'TROUPE_LAMBDA_NOT_IDLE',
    busy: [new RegExp(`^an invocation running in environment ${env!.id} \\(pid ${env!.pid}\\) for \\d+ ms$`)],
    message: /function troupe-host was not idle after 50 ms: an invocation running/,
  })
  await fn.kill(env!.id)
  await slow
  await fn.idle({ timeoutMs: 50 })
  t.equal(fn.stats().inFlight, 0)
})
