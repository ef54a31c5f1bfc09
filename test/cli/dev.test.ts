// `troupe dev` as a user runs it: the bin in a child process, in a folder of its own, against
// the small app in fixtures/counter.app.ts (a counter that persists between runs, a greeter).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTroupe as start } from './fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('./fixtures/counter.app.ts', import.meta.url))
const NOT_AN_APP = fileURLToPath(new URL('./fixtures/not-an-app.ts', import.meta.url))
const LARGE_BODY_APP = fileURLToPath(new URL('./fixtures/large-body.app.ts', import.meta.url))

const troupe = (args: string[], options?: { cwd?: string; env?: Record<string, string> }) => start(args, options).done

/** The JSON lines of a `--json` run, by event. */
function events(stdout: string): { ready: Record<string, any>; stopped: Record<string, any> } {
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>)
  const ready = lines.find((l) => l.event === 'ready')
  const stopped = lines.find((l) => l.event === 'stopped')
  if (!ready || !stopped) throw new Error(`expected a ready and a stopped line, got:\n${stdout}`)
  return { ready, stopped }
}

t.test('--help prints usage and exits 0, everywhere', async (t) => {
  const cases = [['--help'], ['-h'], ['help'], ['dev', '--help'], ['dev', '-h'], ['help', 'dev']]
  const runs = await Promise.all(cases.map((args) => troupe(args)))
  for (const [i, args] of cases.entries()) {
    const run = runs[i]!
    t.equal(run.code, 0, `troupe ${args.join(' ')} exits 0`)
    t.match(run.stdout, args.includes('dev') ? /^Usage: troupe dev \[options\]/ : /^Usage: troupe <command>/, `troupe ${args.join(' ')} prints usage`)
    t.equal(run.stderr, '')
  }
  const dev = await troupe(['dev', '--help'])
  for (const flag of ['--app', '--dir', '--kinesis', '--shards', '--table', '--stream', '--host', '--tick', '--json', '--once']) t.match(dev.stdout, flag, `dev --help names ${flag}`)

  const version = await troupe(['--version'])
  t.equal(version.code, 0)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(version.stdout.trim(), pkg.version)
})

t.test('bad usage exits 2 with one line naming the flag, the command or the file', async (t) => {
  const cases: [string[], RegExp][] = [
    [['dev', '--bogus'], /^troupe dev: unknown option --bogus/],
    [['dev', '--app'], /^troupe dev: --app needs a value/],
    [['dev', '--once=yes'], /^troupe dev: --once takes no value/],
    [['dev', '--shards', '0'], /^troupe dev: --shards must be a whole number from 1 to 100, got "0"/],
    [['dev', '--kinesis', 'localstack'], /^troupe dev: --kinesis must be kinesalite or kinesis-local/],
    [['dev', '--table', 'x'], /^troupe dev: --table must be a DynamoDB table name/],
    [['dev', 'now'], /^troupe dev: unexpected argument "now"/],
    [['dev', '--host', 'container'], /^troupe dev: --host must be lambda or process, got "container"/],
    [['dev', '--tick', '0'], /^troupe dev: --tick must be seconds from 0\.1 to 3600, got "0"/],
    [['--bogus'], /^troupe: unknown option --bogus/],
    [['launch'], /^troupe: unknown command "launch"/],
    [['inspect'], /^Usage: troupe inspect/],
    [[], /^Usage: troupe <command>/],
  ]
  const runs = await Promise.all(cases.map(([args]) => troupe(args)))
  for (const [i, [args, message]] of cases.entries()) {
    const run = runs[i]!
    t.equal(run.code, 2, `troupe ${args.join(' ')} exits 2`)
    t.match(run.stderr, message, `troupe ${args.join(' ')}: ${run.stderr.trim().split('\n')[0]}`)
    t.equal(run.stdout, '', 'nothing on stdout')
  }
})

t.test('a missing app, or a module that is not an app, exits 2 naming the file', async (t) => {
  const dir = t.testdir()
  const missing = await troupe(['dev', '--once'], { cwd: dir })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^troupe dev: no app at \.\/troupe\.app\.ts: .*--app <file>/)
  t.equal(missing.stderr.trim().split('\n').length, 1, 'one line')

  const elsewhere = await troupe(['dev', '--once', '--app', 'src/nowhere.ts'], { cwd: dir })
  t.equal(elsewhere.code, 2)
  t.match(elsewhere.stderr, /no app at src\/nowhere\.ts/)

  const notAnApp = await troupe(['dev', '--once', '--app', NOT_AN_APP], { cwd: dir })
  t.equal(notAnApp.code, 2)
  t.match(notAnApp.stderr, /^troupe dev: .*not-an-app\.ts: the default export is not an app: it has no `actors` array/)
  t.notOk(existsSync(join(dir, '.troupe')), 'nothing was started or written')
})

t.test('an app that does not compile exits 1 naming the file; one in a CommonJS package runs', async (t) => {
  const lib = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../lib/${path}`, import.meta.url)))
  const dir = t.testdir({
    'package.json': JSON.stringify({ type: 'commonjs' }),
    'broken.app.ts': 'export default {\n',
    'troupe.app.ts': [
      `import { defineApp } from ${lib('aws/index.ts')}`,
      `import { Actor } from ${lib('index.ts')}`,
      "class Ping extends Actor<{ n: number }> { static readonly type = 'ping'; receive() {} }",
      'export default defineApp({ actors: [Ping], async start(system) { await system.tell(Ping, { n: 1 }) } })',
      '',
    ].join('\n'),
  })
  const broken = await troupe(['dev', '--once', '--app', 'broken.app.ts'], { cwd: dir })
  t.equal(broken.code, 1)
  t.match(broken.stderr, /^troupe dev: broken\.app\.ts failed to load: /)

  const commonjs = await troupe(['dev', '--once', '--json'], { cwd: dir })
  t.equal(commonjs.code, 0, `exit 0\n${commonjs.stderr}`)
  t.match(events(commonjs.stdout).stopped, { host: 'lambda', messages: 1, lambda: { recordsRead: 1, functionErrors: 0 } }, 'its bundle ran the turn')
  const inProcess = await troupe(['dev', '--once', '--json', '--host', 'process'], { cwd: dir })
  t.equal(inProcess.code, 0, `exit 0\n${inProcess.stderr}`)
  t.match(events(inProcess.stdout).stopped, { messages: 1, actors: { ping: { done: 1 } } })
})

t.test('--once --json: starts the stack, processes what the app sends, stops; a second run finds the first one’s state', async (t) => {
  const dir = t.testdir()

  const first = await troupe(['dev', '--once', '--json', '--host', 'process', '--app', APP], { cwd: dir })
  t.equal(first.code, 0, `exit 0\n${first.stderr}`)
  const one = events(first.stdout)
  t.match(one.ready, {
    event: 'ready',
    app: { file: APP, info: { runs: 1 } },
    dir: join(dir, '.troupe'),
    data: join(dir, '.troupe', 'data'),
    dynamodb: { endpoint: /^http:\/\/127\.0\.0\.1:\d+$/, table: 'troupe' },
    kinesis: { endpoint: /^http:\/\/127\.0\.0\.1:\d+$/, emulator: 'kinesalite', streams: [{ name: 'troupe', shards: 2 }] },
    actors: [
      { type: 'runs', kind: 'singleton' },
      { type: 'greeter', kind: 'keyed' },
    ],
    region: 'us-east-1',
    credentials: { accessKeyId: String, secretAccessKey: String },
  })
  t.equal(one.ready.env.AWS_ENDPOINT_URL_DYNAMODB, one.ready.dynamodb.endpoint)
  t.equal(one.ready.env.AWS_ENDPOINT_URL_KINESIS, one.ready.kinesis.endpoint)
  t.match(one.ready.host, { kind: 'process' })
  t.match(one.stopped, { event: 'stopped', host: 'process', messages: 2, deadLetters: 0, actors: { runs: { done: 1 }, greeter: { accepted: 1, done: 1 } } })
  t.ok(one.stopped.requests > 0 && one.stopped.requestsPerMessage === Math.round((one.stopped.requests / 2) * 100) / 100, 'requests per message from inspect().cost')
  t.match(first.stderr, /fixture: run 1/, "the app's log line went to stderr")
  t.ok(existsSync(join(dir, '.troupe', 'data', 'dynalite')) && existsSync(join(dir, '.troupe', 'data', 'kinesalite')), 'the data is under --dir')
  t.notOk(existsSync(join(dir, '.troupe', 'dev.json')), 'dev.json is gone once stopped')

  const second = await troupe(['dev', '--once', '--json', '--host', 'process', '--app', APP], { cwd: dir })
  t.equal(second.code, 0, `exit 0\n${second.stderr}`)
  const two = events(second.stdout)
  t.equal(two.ready.app.info.runs, 2, 'the counter kept its state in the persisted table')
  t.same(two.ready.kinesis.streams, [{ name: 'troupe', shards: 2 }], 'the stream is found, not made again')
  t.match(two.stopped, { messages: 2, deadLetters: 0, actors: { greeter: { done: 1 } } }, 'the first run’s messages are not handled again')
})

t.test('the default host is the Lambda path: the bundle runs under a local event source mapping, asks go through the Invoke API, checkpoints persist', async (t) => {
  const dir = t.testdir()
  const first = await troupe(['dev', '--once', '--json', '--app', APP], { cwd: dir })
  t.equal(first.code, 0, `exit 0\n${first.stderr}`)
  const one = events(first.stdout)
  t.match(one.ready.host, { kind: 'lambda', function: 'troupe-host', bundle: join(dir, '.troupe', 'build', 'index.mjs'), invokeEndpoint: /^http:\/\/127\.0\.0\.1:\d+$/ })
  t.ok(existsSync(one.ready.host.bundle), 'the bundle is on disk')
  t.equal(one.ready.app.info.runs, 1)
  t.match(one.stopped, { host: 'lambda', messages: 2, deadLetters: 0, requests: null })
  t.match(one.stopped.lambda, { asks: 1, recordsRead: 1, functionErrors: 0 }, 'the ask was invoked, the tell came through the mapping')
  t.ok(one.stopped.lambda.inits >= 1, 'module init ran in a function environment')
  t.equal(one.stopped.actors.greeter.done, 0, 'no turn ran in the dev process itself')

  const second = await troupe(['dev', '--once', '--json', '--app', APP], { cwd: dir })
  t.equal(second.code, 0, `exit 0\n${second.stderr}`)
  const two = events(second.stdout)
  t.equal(two.ready.app.info.runs, 2, 'the state is in the persisted table')
  t.match(two.stopped.lambda, { recordsRead: 1 }, 'the mapping went on from its checkpoint: the first run’s tell is not read again')
})

t.test("the app's system.idle() waits for the host, on either host", async (t) => {
  for (const host of ['process', 'lambda']) {
    const run = await troupe(['dev', '--once', '--json', '--host', host, '--app', APP], { cwd: t.testdir(), env: { FIXTURE_IDLE: '1' } })
    t.equal(run.code, 0, `${host}: exit 0\n${run.stderr}`)
    t.match(events(run.stdout).ready.app.info, { runs: 1, afterIdle: 'done' }, `${host}: the tell was done when idle() resolved`)
  }
})

t.test("the app's payloads reach both hosts: bodies over a record's 1 MiB are asked and told whole", async (t) => {
  for (const host of ['process', 'lambda']) {
    const run = await troupe(['dev', '--once', '--json', '--host', host, '--app', LARGE_BODY_APP], { cwd: t.testdir() })
    t.equal(run.code, 0, `${host}: exit 0\n${run.stderr}`)
    const { ready, stopped } = events(run.stdout)
    t.match(ready.app.info, { reply: { bytes: 1.5 * 1024 * 1024 }, whole: true }, `${host}: the ask's body arrived whole`)
    t.match(stopped, { host, deadLetters: 0 }, `${host}: the told body arrived whole (a reference for a body would be a dead letter)`)
    if (host === 'lambda') t.match(stopped.lambda, { asks: 1, recordsRead: 1, functionErrors: 0 }, 'the ask was invoked, the tell came through the mapping')
  }
})

t.test('--table, --stream, --shards and --dir name what is made; text output says where everything is', async (t) => {
  const dir = t.testdir()
  const run = await troupe(['dev', '--once', '--host', 'process', '--app', APP, '--dir', 'state', '--table', 'my-table', '--stream', 'my-stream', '--shards', '1'], { cwd: dir })
  t.equal(run.code, 0, `exit 0\n${run.stderr}`)
  t.match(run.stdout, /DynamoDB\s+http:\/\/127\.0\.0\.1:\d+\s+table my-table/)
  t.match(run.stdout, /Kinesis\s+http:\/\/127\.0\.0\.1:\d+\s+kinesalite; stream my-stream \(1 shard\)/)
  t.match(run.stdout, /Data\s+state\/data/)
  t.match(run.stdout, /Actors\s+runs \(singleton\), greeter \(keyed\)/)
  t.match(run.stdout, /App\s+runs\s+1/)
  t.match(run.stdout, /export AWS_ENDPOINT_URL_DYNAMODB=http:\/\/127\.0\.0\.1:\d+/)
  t.match(run.stdout, /export AWS_ENDPOINT_URL_KINESIS=http:\/\/127\.0\.0\.1:\d+/)
  t.match(run.stdout, /export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+/)
  t.match(run.stdout, /troupe dev: stopped after [\d.]+ s: 2 messages handled, 0 dead letters, \d+ requests/)
  t.ok(existsSync(join(dir, 'state', 'data', 'dynalite')), 'data under --dir')
})

t.test('a port the app cannot take: exit 1, naming the port and the app', async (t) => {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  const run = await troupe(['dev', '--once', '--host', 'process', '--app', APP], { cwd: t.testdir(), env: { FIXTURE_PORT: String(port) } })
  t.equal(run.code, 1)
  t.match(run.stderr, new RegExp(`troupe dev: .*counter\\.app\\.ts: start\\(\\) failed: port ${port} on 127\\.0\\.0\\.1 is in use`))
})

t.test('runs until SIGINT, then stops cleanly; a second troupe dev on the same folder is refused', async (t) => {
  const dir = t.testdir()
  const dev = start(['dev', '--host', 'process', '--app', APP], { cwd: dir })
  await dev.waitFor('Ctrl-C stops')
  const lock = JSON.parse(readFileSync(join(dir, '.troupe', 'dev.json'), 'utf8')) as Record<string, any>
  t.equal(lock.pid, dev.child.pid, 'dev.json names the running process')
  t.match(lock.dynamodb.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/, 'and where everything is')

  const other = await troupe(['dev', '--once', '--host', 'process', '--app', APP], { cwd: dir })
  t.equal(other.code, 1)
  t.match(other.stderr, new RegExp(`troupe dev: \\.troupe is in use by another troupe dev \\(pid ${dev.child.pid}\\)`))

  dev.child.kill('SIGINT')
  const run = await dev.done
  t.equal(run.code, 0, `exit 0\n${run.stderr}`)
  t.match(run.stderr, /SIGINT: stopping/)
  t.match(run.stdout, /troupe dev: stopped after [\d.]+ s: 2 messages handled, 0 dead letters/)
  t.notOk(existsSync(join(dir, '.troupe', 'dev.json')), 'dev.json removed')
})

t.test('a second signal forces the exit when the stop hangs', async (t) => {
  const dir = t.testdir()
  const dev = start(['dev', '--host', 'process', '--app', APP], { cwd: dir, env: { FIXTURE_HANG_ON_STOP: '1' } })
  await dev.waitFor('Ctrl-C stops')
  dev.child.kill('SIGTERM')
  await dev.waitFor('SIGTERM: stopping')
  dev.child.kill('SIGTERM')
  const run = await dev.done
  t.equal(run.code, 143)
  t.match(run.stderr, /SIGTERM again: exiting now/)

  // The folder is not left locked: its process is gone, so the next run takes it over, and
  // releases the shard leases it left instead of waiting for them to expire (30 s).
  const began = Date.now()
  const next = await troupe(['dev', '--once', '--host', 'process', '--app', APP], { cwd: dir })
  t.equal(next.code, 0, `exit 0\n${next.stderr}`)
  t.match(next.stdout, /App\s+runs\s+2/)
  t.match(next.stderr, /released 2 shard leases left by a troupe dev that did not stop cleanly/)
  t.ok(Date.now() - began < 20_000, 'no wait for the old leases to expire')
})
