// troupe as a user gets it: `npm pack`, the tarball installed into an empty project, used with
// plain `node` (this machine's, and Node 24 as nodejs24.x runs it) and the user's own `tsc` with
// strict options. Nothing here reads the repository's sources: only what the tarball holds.
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startLocalStack } from '../../lib/local/local-stack.js'
import { runtimeNode } from '../../lib/local/runtime-node.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; exports: Record<string, unknown>; peerDependencies: Record<string, string> }

/** The AWS SDK's documented switch for its warning that later releases need a newer Node. */
const SDK_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'

/** The embedded core's budget of installed packages, troupe included. */
const CORE_PACKAGES = 15

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment a user's shell has: none of npm's script variables, and no
 * --conditions=troupe-source (which would point 'troupe' at sources the tarball does not hold).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  // Nor the AWS SDK's switch for its Node version warning: what troupe's CLI shows is tested as it comes.
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !['NODE_OPTIONS', 'INIT_CWD', SDK_WARNING_SWITCH].includes(k)) env[k] = v
  // tap's process-info hook puts the runner's own NODE_OPTIONS back into a child's when it finds
  // none there; a condition Node always has (node) keeps the child's free of troupe-source.
  return { ...env, NODE_OPTIONS: '--conditions=node', NO_UPDATE_NOTIFIER: '1' }
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...userEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('error', fail)
    // The tail of stderr is what says why; a minified bundle's stack line can run to megabytes.
    child.on('close', (code) => done({ code, stdout, stderr: stderr.slice(-4000) }))
  })
}

async function npm(args: string[], cwd: string): Promise<Ran> {
  const execpath = process.env.npm_execpath
  const ran = execpath ? await run(process.execPath, [execpath, ...args], cwd) : await run('npm', args, cwd)
  if (ran.code !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${ran.code}):\n${ran.stderr.slice(-2000)}`)
  return ran
}

/** The version of a package this repository has installed: the user's install takes the same, from npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
}

/** Every package directory under node_modules (scoped ones as @scope/name). */
function packagesIn(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(join(dir, 'node_modules'), { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    if (entry.name.startsWith('@')) for (const sub of readdirSync(join(dir, 'node_modules', entry.name))) found.push(`${entry.name}/${sub}`)
    else found.push(entry.name)
  }
  return found.sort()
}

/** The README's first actor, as written there, with what a user would add: print the reply, and a wrong body that must not compile. */
function firstActor(): string {
  const section = README.slice(README.indexOf('## A first actor'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (!code) throw new Error('README.md: no ```ts block under "## A first actor"')
  return `${code}
console.log(JSON.stringify({ views }))

export function wrongBody(s: typeof system) {
  // @ts-expect-error: url is a string; a number does not compile
  return s.tell(PageStats, { url: 1, country: 'FR' })
}
`
}

/** A user's app in plain JavaScript: one keyed actor with a recurring schedule (croner's path). */
const APP_JS = `import { Actor } from 'troupe'
import { defineApp } from 'troupe/aws'

class Visits extends Actor {
  static type = 'visits'
  key(msg) { return msg.page }
  initialState() { return { n: 0 } }
  receive(msg, ctx) {
    if (ctx.state.n === 0) ctx.schedule(Visits, { page: msg.page }, { every: 'rate(1 hour)', name: 'hourly' })
    return ++ctx.state.n
  }
}

export default defineApp({
  actors: [Visits],
  async start(system, { once, log }) {
    if (!once) return
    await system.tell(Visits, { page: '/home' })
    await system.tell(Visits, { page: '/home' })
    await system.idle()
    log('visits /home: ' + JSON.stringify(await system.state(Visits, '/home')))
  },
})
`

const work = mkdtempSync(join(tmpdir(), 'troupe-packed-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const project = join(work, 'app')
mkdirSync(project)

let tarball = ''

/**
 * What `npm pack` reads, copied beside the repository (node_modules linked): pack runs the build,
 * which replaces dist/, and the repository's own dist/ must stay as it is for whoever runs beside.
 */
function stageRepository(): string {
  const stage = join(work, 'repo')
  for (const entry of ['package.json', 'README.md', 'LICENSE', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'lib', 'actors', 'docs', 'scripts']) {
    cpSync(join(ROOT, entry), join(stage, entry), { recursive: true })
  }
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir')
  return stage
}

t.test('npm pack: compiled JavaScript with declarations, and nothing of the repository besides', async (t) => {
  const stage = stageRepository()
  const packed = JSON.parse((await npm(['pack', '--json', '--pack-destination', work], stage)).stdout) as { filename: string; files: { path: string }[] }[]
  t.equal(readFileSync(join(stage, 'package.json'), 'utf8'), readFileSync(join(ROOT, 'package.json'), 'utf8'), "the repository's package.json is as it was after packing")
  const files = packed[0]!.files.map((f) => f.path)
  tarball = join(work, packed[0]!.filename)
  t.equal(packed[0]!.filename, `troupe-${pkg.version}.tgz`)
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue
    const { types, import: js } = target as { types: string; import: string }
    t.ok(files.includes(js.slice(2)), `${sub}: ${js} is in the tarball`)
    t.ok(files.includes(types.slice(2)), `${sub}: ${types} is in the tarball`)
    t.ok(files.includes(`${types.slice(2)}.map`), `${sub}: its declaration map is in the tarball`)
  }
  t.ok(files.includes('bin/troupe.js'))
  t.ok(files.includes('dist/lib/local/runtime-child.mjs'), 'the files lib/ uses as they are are copied beside the compiled ones')
  t.ok(files.includes('dist/lib/local/kinesis-local-launcher.cjs'))
  t.ok(files.includes('dist/lib/inspect/ui/index.html'))
  t.same(
    files.filter((f) => /^(test|bench|examples|scripts|node_modules)\//.test(f) || /\.(png|tgz|tap)$/.test(f)),
    [],
    'no tests, benchmarks, examples, build scripts or screenshots',
  )
})

t.test("the packed package.json is the repository's without its scripts, and the unpacked folder installs", async (t) => {
  const unpacked = join(work, 'unpacked')
  mkdirSync(unpacked)
  const tar = await run('tar', ['-xzf', tarball, '-C', unpacked], work)
  t.equal(tar.code, 0, tar.stderr)
  const { scripts, ...rest } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.ok(scripts.prepare, 'the repository builds on install (a clean clone, a git dependency)')
  t.same(JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8')), rest, 'no scripts: each needs files the tarball does not hold')
  // A folder holding the package, installed as a dependency: npm runs its prepare there.
  const vendoring = join(work, 'vendoring')
  mkdirSync(vendoring)
  writeFileSync(join(vendoring, 'package.json'), JSON.stringify({ name: 'vendoring-app', private: true, type: 'module' }))
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(unpacked, 'package')], vendoring)
})

t.test('installed into an empty project, the embedded core stays small', async (t) => {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }))
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project)
  const installed = packagesIn(project)
  t.ok(installed.length <= CORE_PACKAGES, `${installed.length} packages installed (the budget is ${CORE_PACKAGES})`)
  t.same(installed, ['@opentelemetry/api', '@standard-schema/spec', '@types/aws-lambda', 'commander', 'copy-anything', 'croner', 'nanoid', 'superjson', 'troupe'], 'troupe, its dependencies and theirs; no AWS client, esbuild, tsx, cytoscape, xstate or OpenTelemetry SDK')
  const imported = await run(process.execPath, ['-e', "import('troupe').then((m) => console.log(typeof m.Actor))"], project)
  t.equal(imported.code, 0, imported.stderr)
  t.equal(imported.stdout, 'function\n', "node -e \"import('troupe')\" with nothing else installed")
})

t.test('a command whose peers are missing names them all, and the one command that installs them', async (t) => {
  writeFileSync(join(project, 'troupe.app.mjs'), APP_JS)
  const ran = await run(process.execPath, [join(project, 'node_modules/.bin/troupe'), 'template', '--app', 'troupe.app.mjs'], project)
  t.equal(ran.code, 2, 'it cannot start as asked: exit 2')
  t.equal(
    ran.stderr,
    'troupe template: needs npm packages @aws-sdk/client-dynamodb, @aws-sdk/client-kinesis, @smithy/node-http-handler, not installed: npm install -D @aws-sdk/client-dynamodb @aws-sdk/client-kinesis @smithy/node-http-handler\n',
  )
})

t.test('inspect --json over a table, with the AWS SDK missing: exit 2, the line on stderr, nothing on stdout', async (t) => {
  const ran = await run(process.execPath, [join(project, 'node_modules/.bin/troupe'), 'inspect', 'actors', '--table', 'troupe', '--region', 'us-east-1', '--json'], project)
  t.equal(ran.code, 2, ran.stderr)
  t.match(ran.stderr, /@aws-sdk\/client-dynamodb/, 'names the package')
  t.equal(ran.stdout, '', 'a program reading --json finds nothing to parse: the command never started')
})

t.test('a subpath whose peer is missing names the package', async (t) => {
  writeFileSync(join(project, 'aws.mjs'), "await import('troupe/aws')\n")
  const ran = await run(process.execPath, ['aws.mjs'], project)
  t.not(ran.code, 0)
  t.match(ran.stderr, /Cannot find package '@aws-sdk\/client-[a-z]+'/, ran.stderr)
  writeFileSync(join(project, 'cdk.mjs'), "await import('troupe/cdk')\n")
  const cdk = await run(process.execPath, ['cdk.mjs'], project)
  t.not(cdk.code, 0)
  t.match(cdk.stderr, /Cannot find package '(aws-cdk-lib|constructs)'/, cdk.stderr)
})

t.test("a strict user tsc checks the README's first actor against the declarations only", async (t) => {
  const versions = (names: string[]) => names.map((n) => `${n}@${installedVersion(n)}`)
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', ...versions(['typescript', '@types/node'])], project)
  writeFileSync(join(project, 'first.ts'), firstActor())
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noPropertyAccessFromIndexSignature: true,
        skipLibCheck: false,
        outDir: 'out',
      },
      files: ['first.ts'],
    }),
  )
  const tsc = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.', '--listFiles'], project)
  t.equal(tsc.code, 0, `tsc passes:\n${tsc.stdout.split('\n').filter((l) => !l.startsWith('/')).join('\n')}`)
  const read = tsc.stdout.split('\n').filter((f) => f.includes('/node_modules/troupe/'))
  t.ok(read.length > 0, 'tsc read troupe')
  t.same(read.filter((f) => !f.endsWith('.d.ts')), [], "tsc read troupe's declarations, none of its sources")
})

t.test("the README's first actor runs under plain node: this machine's, and Node 24", async (t) => {
  const node24 = await runtimeNode('nodejs24.x')
  for (const [name, node] of [[`node ${process.versions.node}`, process.execPath], ['node 24', node24]] as const) {
    const ran = await run(node, ['out/first.js'], project)
    t.equal(ran.code, 0, `${name}: exits 0 ${ran.stderr}`)
    t.same(JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? 'null'), { views: 2 }, `${name}: the second ask answers 2`)
  }
})

t.test('with its optional peers installed, every subpath imports under plain node', async (t) => {
  // What the subpaths import (the README's table; troupe/local's Lambda client is @aws-sdk/client-lambda, troupe/cdk's
  // aws-cdk-lib and constructs); the CLI's tools (esbuild, tsx) and the local servers (loaded when a local stack starts)
  // are imported by none.
  const peers = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis', '@smithy/node-http-handler', '@aws-sdk/util-dynamodb', '@aws-sdk/client-s3', '@aws-sdk/client-lambda', '@aws-sdk/client-cloudwatch', 'xstate', 'aws-cdk-lib', 'constructs']
  t.same(peers.filter((p) => !(p in pkg.peerDependencies)), [], 'each is a declared peer')
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', ...peers.map((p) => `${p}@${installedVersion(p)}`)], project)
  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json').map((s) => (s === '.' ? 'troupe' : `troupe/${s.slice(2)}`))
  writeFileSync(
    join(project, 'subpaths.mjs'),
    `const out = {}\nfor (const s of ${JSON.stringify(subpaths)}) out[s] = Object.keys(await import(s)).length\nconsole.log(JSON.stringify(out))\n`,
  )
  const node24 = await runtimeNode('nodejs24.x')
  for (const [name, node] of [[`node ${process.versions.node}`, process.execPath], ['node 24', node24]] as const) {
    const ran = await run(node, ['subpaths.mjs'], project)
    t.equal(ran.code, 0, `${name}: ${ran.stderr}`)
    const counts = JSON.parse(ran.stdout) as Record<string, number>
    t.same(Object.keys(counts), subpaths, `${name}: every subpath imported`)
    t.same(Object.entries(counts).filter(([, n]) => n === 0), [], `${name}: each exports something`)
  }
})

t.test('the installed CLI runs from compiled JavaScript, without tsx', async (t) => {
  const ran = await run(process.execPath, [join(project, 'node_modules/.bin/troupe'), '--version'], project)
  t.equal(ran.code, 0, ran.stderr)
  t.equal(ran.stdout.trim(), pkg.version)
})

t.test('a TypeScript app without tsx installed: exit 2 naming npm install -D tsx, on this Node and Node 24', async (t) => {
  // An enum: beyond what Node 24's type stripping runs by itself.
  writeFileSync(join(project, 'troupe.app.ts'), `enum Hourly { On }\n${APP_JS}`)
  const node24 = await runtimeNode('nodejs24.x')
  for (const [name, node] of [[`node ${process.versions.node}`, process.execPath], ['node 24', node24]] as const) {
    const ran = await run(node, [join(project, 'node_modules/.bin/troupe'), 'graph', '--app', 'troupe.app.ts'], project)
    t.equal(ran.code, 2, `${name}: ${ran.stderr}`)
    t.match(ran.stderr, /^troupe graph: troupe\.app\.ts is TypeScript that Node cannot load by itself \(ERR_[A-Z_]+\); troupe loads TypeScript with tsx: npm install -D tsx/, name)
  }
})

t.test("a TypeScript app Node 24 strips itself, importing its actors as './visits.js' (NodeNext): exit 2 naming npm install -D tsx", async (t) => {
  const dir = join(project, 'stripped')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'visits.ts'), `import { Actor } from 'troupe'\nexport class Visits extends Actor<{ page: string }> {\n  static readonly type = 'visits'\n  receive() {}\n}\n`)
  writeFileSync(join(dir, 'troupe.app.ts'), `import { defineApp } from 'troupe/aws'\nimport { Visits } from './visits.js'\nexport default defineApp({ actors: [Visits] })\n`)
  const ran = await run(await runtimeNode('nodejs24.x'), [join(project, 'node_modules/.bin/troupe'), 'graph', '--app', 'stripped/troupe.app.ts'], project)
  t.equal(ran.code, 2, ran.stderr)
  t.match(ran.stderr, /^troupe graph: stripped\/troupe\.app\.ts imports \S+visits\.js, which is not there \(its TypeScript source \S+visits\.ts is\).*npm install -D tsx\n$/)
})

t.test('troupe bundle from the installed package: a clear error without esbuild, a Lambda bundle with it', async (t) => {
  const troupe = (...args: string[]) => run(process.execPath, [join(project, 'node_modules/.bin/troupe'), ...args], project)
  const without = await troupe('bundle', '--app', 'troupe.app.mjs')
  t.equal(without.code, 2, without.stderr)
  t.equal(without.stderr, 'troupe bundle: needs the npm package esbuild, not installed: npm install -D esbuild\n', 'names the package and the command')

  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', `esbuild@${installedVersion('esbuild')}`], project)
  const made = await troupe('bundle', '--app', 'troupe.app.mjs', '--json')
  t.equal(made.code, 0, made.stderr)
  const report = JSON.parse(made.stdout) as { runtime: string; bundleFiles: string[]; outfile: string }
  t.equal(report.runtime, 'nodejs24.x')
  // As from the sources: croner in a file of its own, loaded on the first recurring schedule.
  const loadedAtInit = report.bundleFiles.filter((f) => f.endsWith('.mjs'))
  t.ok(report.bundleFiles.some((f) => f.endsWith('/croner.cjs')), 'croner.cjs beside the bundle')
  t.same(loadedAtInit.filter((f) => readFileSync(f, 'utf8').includes('CronPattern')), [], "croner's code is in none of the modules loaded at init")

  // As Lambda loads it: Node 24, no node_modules, the function's environment; the handler a function.
  const node24 = await runtimeNode('nodejs24.x')
  const lambdaEnv = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local', TROUPE_TABLE: 'troupe', TROUPE_STREAM: 'troupe' }
  writeFileSync(join(work, 'load.mjs'), 'const m = await import(process.argv[2]); console.log(typeof m.handler)\n')
  const loaded = await run(node24, [join(work, 'load.mjs'), report.outfile], work, lambdaEnv)
  t.equal(loaded.code, 0, loaded.stderr)
  t.equal(loaded.stdout.trim(), 'function')
})

t.test('troupe dev --once from the installed package: the app on local Kinesis and DynamoDB, its turns in the local Lambda on Node 24', async (t) => {
  const peers = ['@aws-sdk/client-lambda', 'dynalite', 'kinesalite']
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', ...peers.map((p) => `${p}@${installedVersion(p)}`)], project)
  const dev = await run(process.execPath, [join(project, 'node_modules/.bin/troupe'), 'dev', '--once', '--json', '--app', 'troupe.app.mjs', '--dir', join(work, 'dev')], project)
  t.equal(dev.code, 0, dev.stderr)
  const ready = JSON.parse(dev.stdout.split('\n')[0] ?? 'null') as { host?: { kind: string } }
  t.equal(ready.host?.kind, 'lambda')
  t.match(dev.stderr, 'visits /home: {"n":2}', 'both visits were counted')
})

t.test(`troupe inspect --table --json on Node ${process.versions.node}: JSON on stdout, and no AWS SDK notice about Node versions on stderr`, async (t) => {
  // The table troupe dev --once left, served again (by this repository's local stack).
  const stack = await startLocalStack({ path: join(work, 'dev', 'data') })
  t.teardown(() => stack.stop())
  const troupe = (env: NodeJS.ProcessEnv) =>
    run(process.execPath, [join(project, 'node_modules/.bin/troupe'), 'inspect', 'actors', '--table', 'troupe', '--endpoint', stack.dynamodbEndpoint, '--json'], project, env)
  const ran = await troupe({})
  t.equal(ran.code, 0, ran.stderr)
  const actors = JSON.parse(ran.stdout) as { type: string }[]
  t.ok(actors.some((a) => a.type === 'visits'), 'the app\'s actor is listed')
  t.notMatch(ran.stderr, /AWS SDK for JavaScript|NodeVersionSupportWarning|NodeDeprecationWarning/, 'nothing from the SDK about Node versions')
  // Where the SDK would warn (below Node 22), a user who asks for the warning gets it, on stderr only.
  if (Number(process.versions.node.split('.')[0]) < 22) {
    const asked = await troupe({ [SDK_WARNING_SWITCH]: 'false' })
    t.equal(asked.code, 0, asked.stderr)
    t.match(asked.stderr, /AWS SDK for JavaScript/, 'shown when the user sets the switch to false')
    t.same(JSON.parse(asked.stdout), actors, 'stdout is the same JSON')
  }
})

t.test("a strict user tsc over every subpath, with its peers installed, finds no error in troupe's declarations and reads no source", async (t) => {
  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json').map((s) => (s === '.' ? 'troupe' : `troupe/${s.slice(2)}`))
  writeFileSync(join(project, 'every.ts'), subpaths.map((s, i) => `import * as m${i} from '${s}'\nexport const n${i} = Object.keys(m${i}).length`).join('\n') + '\n')
  writeFileSync(join(project, 'tsconfig.every.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true }, files: ['every.ts'] }))
  const tsc = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.every.json', '--listFiles'], project)
  // Under skipLibCheck: false every declaration file is checked with these options, the peers'
  // too (xstate's fail exactOptionalPropertyTypes): what troupe answers for is its own, and the user's file.
  const errors = tsc.stdout.split('\n').filter((l) => / error TS\d+:/.test(l))
  t.ok(tsc.stdout.includes('/node_modules/troupe/dist/lib/aws/index.d.ts'), 'tsc read the subpaths')
  t.same(errors.filter((l) => l.startsWith('node_modules/troupe/') || l.startsWith('every.ts')), [], "no error in troupe's declarations or in the user's file")
  // README, "Use troupe in your project", names the peers whose own declarations fail these options.
  const readme = README.slice(README.indexOf('## Use troupe in your project'), README.indexOf('The embedded core needs nothing else'))
  const failing = [...new Set(errors.flatMap((l) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l)?.slice(1) ?? []))].filter((p) => p !== 'troupe')
  t.same(failing.filter((p) => !readme.includes(`node_modules/${p}\``)), [], `every peer whose declarations fail is named in the README: ${failing.join(', ')}`)
  const read = tsc.stdout.split('\n').filter((f) => f.includes('/node_modules/troupe/'))
  t.same(read.filter((f) => !f.endsWith('.d.ts')), [], "none of troupe's sources")
  // CloudWatch's client is a peer of CloudWatchMetrics alone: no declaration names its types, so
  // an app importing troupe/aws type-checks without it (README, "Use troupe in your project").
  const cloudwatchTypes = read.filter((f) => f.endsWith('.d.ts') && /from '@aws-sdk\/client-cloudwatch'|import\('@aws-sdk\/client-cloudwatch'\)/.test(readFileSync(f, 'utf8')))
  t.same(cloudwatchTypes, [], "no declaration of troupe's imports @aws-sdk/client-cloudwatch")
})

t.test("troupe/aws and troupe/lambda type-check with their base peers alone: no declaration names a peer only some of their functions need", async (t) => {
  // README, "Use troupe in your project": asking by Invoke also needs @aws-sdk/client-lambda,
  // bundleHandler esbuild, CloudWatchMetrics @aws-sdk/client-cloudwatch. A declaration importing
  // one of them would fail a skipLibCheck: false project that has not installed it.
  writeFileSync(join(project, 'aws-only.ts'), "import * as a from 'troupe/aws'\nimport * as l from 'troupe/lambda'\nexport const n = Object.keys(a).length + Object.keys(l).length\n")
  writeFileSync(join(project, 'tsconfig.aws-only.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true }, files: ['aws-only.ts'] }))
  const tsc = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.aws-only.json', '--listFiles'], project)
  const read = tsc.stdout.split('\n').filter((f) => f.includes('/node_modules/troupe/') && f.endsWith('.d.ts'))
  t.ok(read.some((f) => f.endsWith('/dist/lib/lambda/index.d.ts')), 'tsc read troupe/lambda')
  const conditional = /(?:from |import\()'(@aws-sdk\/client-lambda|@aws-sdk\/client-cloudwatch|esbuild)'/
  const naming = read.flatMap((f) => {
    const m = conditional.exec(readFileSync(f, 'utf8'))
    return m ? [`${f.slice(f.indexOf('/node_modules/troupe/') + 21)} imports ${m[1]}`] : []
  })
  t.same(naming, [], 'none of the declarations they read imports @aws-sdk/client-lambda, @aws-sdk/client-cloudwatch or esbuild')
})
