// LocalFunction.deploy: what AWS does on a code update behind an alias, and during a weighted
// alias (canary) deploy. Each environment runs one version's code; a full deploy sends every new
// invocation to the new code and retires the old environments (idle ones at once, busy ones
// after their invocation, which ends on the old code), none counted as a crash; a weighted one
// splits new invocations between the two versions, drawn per invocation.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { LocalFunction, type InvokeResult, type LocalFunctionOptions } from '../../lib/local/index.js'
import { runtimeNode } from '../../lib/local/runtime-node.js'
import { bundleFixture } from './fixtures/rig.js'

let v1: string
let v2: string
t.before(async () => {
  ;[v1, v2] = await Promise.all([bundleFixture(t, 'versioned-v1'), bundleFixture(t, 'versioned-v2')])
  await runtimeNode('nodejs24.x')
})

type Who = { code: string; version: string; functionVersion: string; logStreamName: string; pid: number; invocations: number }

/** The answer of an invocation that must succeed, with the version the function says ran it. */
function who(r: InvokeResult): Who & { executedVersion: string | undefined } {
  if (!r.ok) throw new Error(`the invocation failed: ${r.payload}`)
  return { ...(r.result as Who), executedVersion: r.executedVersion }
}

/** A function over code 1, published as version '1'; `sleeping(code)` resolves once a `sleep` or `hold` of that code runs. */
function versioned(t: Test, options: Partial<LocalFunctionOptions> = {}) {
  const waiters: { code: string; resolve: () => void }[] = []
  const fn = new LocalFunction({
    bundle: v1,
    version: '1',
    initTimeoutMs: 60_000,
    environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    onLog: (line) => {
      const m = /^versioned: (\S+) sleeping$/.exec(line)
      for (const w of waiters.filter((w) => w.code === m?.[1])) w.resolve()
    },
    ...options,
  })
  t.teardown(() => fn.stop())
  const sleeping = (code: string) => new Promise<void>((resolve) => waiters.push({ code, resolve }))
  return { fn, sleeping }
}

t.test('deploy() without a weight: new invocations run the new code; an idle old environment retires at once, a busy one ends its invocation on the old code, then retires', async (t) => {
  const { fn, sleeping } = versioned(t)
  await fn.provision(2)
  t.match(fn.environments(), [
    { id: 1, version: '1', state: 'idle' },
    { id: 2, version: '1', state: 'idle' },
  ])
  const before = who(await fn.invoke({ op: 'who' }))
  t.match(before, { code: 'v1', version: '1', functionVersion: '1', executedVersion: '1', logStreamName: /\/\[1\][0-9a-f]{32}$/ }, 'version 1 runs code 1, and says so')

  const inside = sleeping('v1')
  // Busy until let go below: a fresh environment's init may take seconds on a loaded machine.
  const release = join(t.testdir(), 'release')
  const slow = fn.invoke({ op: 'hold', file: release })
  await inside
  const busy = fn.environments().find((e) => e.state === 'busy')!
  t.equal(await fn.deploy(v2), '2', 'published as version 2')
  t.same(
    fn.environments().map((e) => [e.id, e.version, e.state, e.retiring]),
    [[busy.id, '1', 'busy', true]],
    'the idle version-1 environment is gone at once; the busy one is retiring',
  )
  const after = who(await fn.invoke({ op: 'who' }))
  t.match(after, { code: 'v2', version: '2', functionVersion: '2', executedVersion: '2', invocations: 1 }, 'a new invocation runs code 2, in a fresh environment of version 2')
  t.equal(fn.environments().find((e) => e.state === 'busy')?.id, busy.id, 'meanwhile the old invocation still runs')
  writeFileSync(release, '')

  const finished = who(await slow)
  t.match(finished, { code: 'v1', version: '1', executedVersion: '1', pid: busy.pid }, 'the invocation handed to version 1 finished on its code')
  t.same(fn.environments().map((e) => e.version), ['2'], 'and its environment retired after it')
  t.match(fn.stats(), { retired: 2, crashes: 0, errors: 0, inits: 3, routing: { '2': 1 } }, 'two retired, no crash')
  t.same(fn.stats().routing, { '2': 1 })
  t.equal(fn.version, '2')
})

t.test('deploy(…, { weight }) splits new invocations between two versions, drawn per invocation, each in environments of its own; the same bundle again promotes it, an older one rolls back', async (t) => {
  // Draws for the routing: under 0.25 goes to the canary.
  const draws = [0.1, 0.9, 0.5, 0.2, 0.3, 0.05, 0.99, 0.7]
  let n = 0
  const { fn } = versioned(t, { random: () => draws[n++ % draws.length]! })
  t.equal(who(await fn.invoke({ op: 'who' })).code, 'v1', 'no draw before a canary')
  n = 0
  t.equal(await fn.deploy(v2, { weight: 0.25 }), '2')
  t.same(fn.stats().routing, { '1': 0.75, '2': 0.25 })
  t.equal(fn.version, '1', 'version 1 stays the one routed, with the canary beside it')
  t.same(fn.environments().map((e) => e.version), ['1'], 'the version-1 environment stays warm')
  const served: ReturnType<typeof who>[] = []
  for (let i = 0; i < draws.length; i++) served.push(who(await fn.invoke({ op: 'who' })))
  t.same(
    served.map((s) => s.code),
    draws.map((d) => (d < 0.25 ? 'v2' : 'v1')),
    'each invocation ran the code its draw chose',
  )
  t.ok(served.every((s) => s.version === (s.code === 'v1' ? '1' : '2') && s.executedVersion === s.version), 'each code runs as its own version')
  t.same(new Set(served.filter((s) => s.code === 'v1').map((s) => s.pid)).size, 1, 'the version-1 invocations reused one warm environment')
  t.same(new Set(served.filter((s) => s.code === 'v2').map((s) => s.pid)).size, 1, 'and the version-2 ones another')
  t.same(fn.environments().map((e) => e.version).sort(), ['1', '2'], 'side by side')

  const canaryPid = served.find((s) => s.code === 'v2')!.pid
  t.equal(await fn.deploy(v2), '2', 'the same bundle: promoted, not published again')
  t.same(fn.stats().routing, { '2': 1 })
  t.match(fn.environments(), [{ version: '2', pid: canaryPid }], 'the canary’s warm environment stays; version 1 retired')
  t.match(who(await fn.invoke({ op: 'who' })), { code: 'v2', pid: canaryPid })

  t.equal(await fn.deploy(v1), '1', 'a roll back to the bundle of version 1')
  t.match(who(await fn.invoke({ op: 'who' })), { code: 'v1', version: '1', invocations: 1 })
  t.same(fn.environments().map((e) => e.version), ['1'])
  t.match(fn.stats(), { retired: 2, crashes: 0 })

  await t.rejects(fn.deploy(v2, { weight: 1.5 }), { code: 'TROUPE_CONFIG', message: /weight must be a number from 0 to 1/ })
  await t.rejects(fn.deploy(v1, { weight: 0.5 }), { code: 'TROUPE_CONFIG', message: /version 1 .* is the one routed already/ })
  await t.rejects(fn.deploy(v2, { version: '7' }), { code: 'TROUPE_CONFIG', message: /published as version 2 .* already/ })
  t.same(fn.stats().routing, { '1': 1 }, 'a refused deploy routes nothing')
})

t.test('at the concurrency limit, an idle environment of the other version is retired to make room', async (t) => {
  let n = 0
  const { fn } = versioned(t, { maxConcurrency: 1, random: () => (n++ % 2 === 0 ? 0 : 0.99) })
  who(await fn.invoke({ op: 'who' }))
  await fn.deploy(v2, { weight: 0.5 })
  const codes: string[] = []
  for (let i = 0; i < 4; i++) codes.push(who(await fn.invoke({ op: 'who' })).code)
  t.same(codes, ['v2', 'v1', 'v2', 'v1'])
  t.equal(fn.environments().length, 1, 'never more than the limit')
  t.match(fn.stats(), { retired: 4, crashes: 0, inits: 5 }, 'each switch retired the other version’s environment')
})
