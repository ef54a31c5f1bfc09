// `troupe bundle` as a user runs it: the bin in a child process bundles fixtures/counter.app.ts
// (or an entry) and reports the sizes.
import t from 'tap'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runTroupe } from './fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('./fixtures/counter.app.ts', import.meta.url))
const HOST = fileURLToPath(new URL('../../lib/lambda/index.ts', import.meta.url))

const troupe = (args: string[], cwd?: string) => runTroupe(args, { ...(cwd ? { cwd } : {}), timeoutMs: 120_000 })

t.test('bundle --json reports the bundle and the zip, and their sizes', async (t) => {
  const dir = t.testdir()
  const run = await troupe(['bundle', '--app', APP, '--out-dir', 'out', '--json'], dir)
  t.equal(run.code, 0, run.stderr)
  const report = JSON.parse(run.stdout)
  t.equal(report.outfile, join(dir, 'out', 'index.mjs'))
  t.equal(report.zipfile, join(dir, 'out', 'lambda.zip'))
  t.equal(report.bundleFiles[0], report.outfile)
  t.equal(report.runtime, 'nodejs24.x', 'built for the default runtime')
  t.equal(report.bytes, report.bundleFiles.reduce((n: number, f: string) => n + statSync(f).size, 0), 'all the files')
  t.ok(report.initBytes <= report.bytes, 'of which a cold start loads some')
  t.equal(report.zipBytes, statSync(report.zipfile).size)
  t.equal(report.targetBytes, 400 * 1024)
  t.equal(report.withinTarget, report.initBytes <= 400 * 1024)
  t.match(report.codeSha256, /^[A-Za-z0-9+/]{43}=$/)
  t.type(report.ms, 'number')
  t.comment(`counter.app.ts: ${(report.initBytes / 1024).toFixed(1)} KiB loaded at init, ${(report.bytes / 1024).toFixed(1)} KiB minified in all, ${(report.zipBytes / 1024).toFixed(1)} KiB zipped`)
})

t.test('bundle in text reports the size, and by default writes to .troupe/build', async (t) => {
  const dir = t.testdir()
  const run = await troupe(['bundle', '--app', APP], dir)
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^troupe bundle: \.troupe\/build\/index\.mjs {2}\d+\.\d KiB/)
  t.match(run.stdout, /troupe bundle: \.troupe\/build\/lambda\.zip {2}\d+\.\d KiB {2}CodeSha256 \S+/)
  t.match(run.stdout, /the handler is index\.handler \(nodejs24\.x\)/)
  t.ok(existsSync(join(dir, '.troupe/build/lambda.zip')))
})

t.test('an entry of your own instead of the app', async (t) => {
  const dir = t.testdir({
    'host.ts': `import { createLambdaHandler } from ${JSON.stringify(HOST)}
export const handler = createLambdaHandler({ actors: [], tableName: 'mine', stream: 'mine' })
`,
  })
  const run = await troupe(['bundle', '--entry', 'host.ts', '--runtime', 'nodejs22.x', '--json'], dir)
  t.equal(run.code, 0, run.stderr)
  t.equal(JSON.parse(run.stdout).entry, join(dir, 'host.ts'))
  t.equal(JSON.parse(run.stdout).runtime, 'nodejs22.x', 'built for the runtime asked for')
})

t.test("the app's runtime is the bundle's; --runtime overrides it", async (t) => {
  const dir = t.testdir({ 'on22.app.ts': `import app from ${JSON.stringify(APP)}\nexport default { ...app, runtime: 'nodejs22.x' }\n` })
  const run = await troupe(['bundle', '--app', 'on22.app.ts', '--out-dir', 'out', '--json'], dir)
  t.equal(run.code, 0, run.stderr)
  t.equal(JSON.parse(run.stdout).runtime, 'nodejs22.x', "built for the app's runtime")
  const overridden = await troupe(['bundle', '--app', 'on22.app.ts', '--out-dir', 'out', '--runtime', 'nodejs24.x', '--json'], dir)
  t.equal(overridden.code, 0, overridden.stderr)
  t.equal(JSON.parse(overridden.stdout).runtime, 'nodejs24.x', '--runtime wins')
})

t.test('--help, and bad usage exits 2 with one line', async (t) => {
  const help = await troupe(['bundle', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: troupe bundle \[options\]/)
  for (const flag of ['--app', '--entry', '--out-dir', '--runtime', '--no-minify', '--credential-chain', '--measure-init', '--json']) t.match(help.stdout, flag)
  t.match(help.stdout.replace(/\s+/g, ' '), "--runtime <name> the Lambda runtime it is built for: nodejs24.x or nodejs22.x (default: the app's runtime, else nodejs24.x)", "the app's runtime is the default")

  const dir = t.testdir()
  const cases: [string[], RegExp][] = [
    [['--app', APP, '--entry', APP], /^troupe bundle: give --app or --entry, not both/],
    [['--entry', 'nowhere.ts'], /^troupe bundle: no entry at nowhere\.ts/],
    [[], /^troupe bundle: no app at \.\/troupe\.app\.ts/],
    [['--minify'], /^troupe bundle: unknown option --minify/],
    [['--runtime', 'nodejs20.x'], /^troupe bundle: --runtime must be one of nodejs24\.x, nodejs22\.x, got "nodejs20\.x"/],
  ]
  const runs = await Promise.all(cases.map(([args]) => troupe(['bundle', ...args], dir)))
  for (const [i, [args, message]] of cases.entries()) {
    t.equal(runs[i]!.code, 2, `${args.join(' ')} exits 2`)
    t.match(runs[i]!.stderr, message)
    t.equal(runs[i]!.stderr.trim().split('\n').length, 1, 'one line')
  }
})

t.test('an entry that does not build exits 1 with esbuild\'s reason', async (t) => {
  const dir = t.testdir({ 'broken.ts': "import { nothing } from './missing.js'\nexport const handler = nothing\n" })
  const run = await troupe(['bundle', '--entry', 'broken.ts'], dir)
  t.equal(run.code, 1)
  t.match(run.stderr, /^troupe bundle: bundling .*broken\.ts failed:/)
  t.match(run.stderr, /Could not resolve "\.\/missing\.js"/)
})
