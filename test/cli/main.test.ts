// The dispatcher and the flags every command shares the parsing of (commander): a mistyped
// command or flag gets the nearest real one, and each help names only flags that exist.
import t from 'tap'
import { troupeInProcess as troupe } from './fixtures/troupe-cli.js'

t.test('a mistyped command or option: exit 2, one line, the nearest real one', async (t) => {
  const cases: [string[], string][] = [
    [['deplyo'], 'troupe: unknown command "deplyo"; did you mean deploy? (see troupe --help)'],
    [['--verison'], 'troupe: unknown option --verison; did you mean --version? (see troupe --help)'],
    [['dev', '--ap', 'x'], 'troupe dev: unknown option --ap; did you mean --app? (see troupe dev --help)'],
    [['bundle', '--out-dri', 'x'], 'troupe bundle: unknown option --out-dri; did you mean --out-dir? (see troupe bundle --help)'],
    [['template', '--code-s4', 'x'], 'troupe template: unknown option --code-s4; did you mean --code-s3? (see troupe template --help)'],
    [['graph', '--fromat', 'dot'], 'troupe graph: unknown option --fromat; did you mean --format? (see troupe graph --help)'],
    [['deploy', '--dryrun'], 'troupe deploy: unknown option --dryrun; did you mean --dry-run? (see troupe deploy --help)'],
    [['inspect', 'actros'], 'troupe inspect: unknown command "actros"; did you mean actors? (see troupe inspect --help)'],
    [['inspect', 'actors', '--jsno'], 'troupe inspect: unknown option --jsno; did you mean --json? (see troupe inspect --help)'],
    [['inspect', 'message', '-eGuQiPx'], "troupe inspect: unknown option -eGuQiPx; an argument that starts with '-' goes after '--' (see troupe inspect --help)"],
    [['inspect', 'actors', 'extra'], 'troupe inspect: unexpected argument "extra" (see troupe inspect --help)'],
    [['ui', '--prot', '1'], 'troupe ui: unknown option --prot; did you mean --port? (see troupe ui --help)'],
    [['graph', '--json=yes'], 'troupe graph: --json takes no value (see troupe graph --help)'],
    [['template', '--out'], 'troupe template: --out needs a value (see troupe template --help)'],
  ]
  for (const [args, line] of cases) {
    const run = await troupe(...args)
    t.equal(run.code, 2, `troupe ${args.join(' ')} exits 2`)
    t.equal(run.stderr, `${line}\n`)
    t.equal(run.stdout, '')
  }
  const far = await troupe('launch')
  t.equal(far.stderr, 'troupe: unknown command "launch"; the commands are: dev, bundle, template, graph, deploy, inspect, ui (see troupe --help)\n', 'nothing near: the list')
})

t.test('every command has --help on stdout, and the flags it mentions are its own', async (t) => {
  const flagsIn = (text: string) => new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? [])
  /** The flags commander lists under Options: from the command's real options (the terms, not their descriptions). */
  const declared = (help: string) => {
    const section = help.split('\nOptions:\n')[1]!.split('\n\n')[0]!
    return new Set(section.split('\n').flatMap((line) => [...flagsIn(/^ {2}(-\S.*?)(?: {2}|$)/.exec(line)?.[1] ?? '')]))
  }
  for (const command of ['dev', 'bundle', 'template', 'graph', 'deploy', 'inspect', 'ui']) {
    const help = await troupe(command, '--help')
    t.equal(help.code, 0, `${command} --help exits 0`)
    t.match(help.stdout, new RegExp(`^Usage: troupe ${command} \\[options\\]`))
    t.equal(help.stderr, '')
    // inspect's own help describes the flags of its subcommands, which all share them.
    const real = command === 'inspect' ? declared((await troupe('inspect', 'actors', '--help')).stdout) : declared(help.stdout)
    // Other programs' flags, in the commands the help quotes (aws …, npm start -- --inspect), are theirs.
    const ours = help.stdout.replace(/\baws [^\n]*/g, '').replace(/npm start -- --inspect/g, '')
    const unknown = [...flagsIn(ours)].filter((flag) => !real.has(flag))
    t.same(unknown, [], `troupe ${command} --help mentions only real flags`)
  }
})

t.test('help asked for exits 0 on stdout; a command with subcommands and none given exits 2 on stderr', async (t) => {
  for (const args of [['inspect', 'help'], ['inspect', 'help', 'dead']]) {
    const asked = await troupe(...args)
    t.equal(asked.code, 0, `troupe ${args.join(' ')} exits 0`)
    t.match(asked.stdout, /^Usage: troupe inspect/, `troupe ${args.join(' ')}: the help on stdout`)
    t.equal(asked.stderr, '')
  }
  t.match((await troupe('inspect', 'help', 'dead')).stdout, /^Usage: troupe inspect dead/)
  const none = await troupe('inspect')
  t.equal(none.code, 2, 'troupe inspect alone exits 2')
  t.match(none.stderr, /^Usage: troupe inspect/)
  t.equal(none.stdout, '')
})

t.test('troupe dev names esbuild among its peers at start, unless it runs with --host process', async (t) => {
  const { devPeers } = await import('../../lib/cli/main.js')
  t.ok(devPeers([]).includes('esbuild'), 'the Lambda host by default: esbuild bundles the app')
  t.ok(devPeers(['--host', 'lambda', '--once']).includes('esbuild'))
  t.notOk(devPeers(['--once', '--host', 'process']).includes('esbuild'))
  t.notOk(devPeers(['--host=process']).includes('esbuild'))
  t.ok(devPeers(['--host', 'process']).includes('dynalite'), 'the local servers either way')
  t.ok(devPeers([]).includes('kinesalite'), 'kinesalite by default')
  for (const args of [['--kinesis', 'kinesis-local'], ['--kinesis=kinesis-local', '--once']]) {
    t.ok(devPeers(args).includes('kinesis-local'), `${args.join(' ')}: kinesis-local`)
    t.notOk(devPeers(args).includes('kinesalite'), `${args.join(' ')}: not kinesalite`)
  }
})

t.test('troupe inspect and troupe ui name every package a table needs at once', async (t) => {
  const { tablePeers } = await import('../../lib/cli/main.js')
  t.same(tablePeers(['actors', '--url', 'http://127.0.0.1:1']), [], 'a process serving inspection needs none')
  t.same(tablePeers(['actors']), [], 'nor the troupe dev running here')
  t.same(tablePeers(['actors', '--table', 't', '--endpoint', 'http://127.0.0.1:1']), ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis'])
  t.same(tablePeers(['dead', 'replay', '--all', '--table=t', '--stream', 's', '--kinesis-endpoint', 'http://127.0.0.1:2']), ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis', '@smithy/node-http-handler'])
})

t.test('a --url that is no http address is a usage error (exit 2); one where nothing answers is a failure (exit 1)', async (t) => {
  for (const url of ['notaurl', 'ftp://example.com']) {
    const bad = await troupe('inspect', 'actors', '--url', url)
    t.equal(bad.code, 2, `--url ${url}`)
    t.equal(bad.stderr, `troupe inspect: --url must be the http:// address the process serves inspection on, got ${JSON.stringify(url)} (see troupe inspect --help)\n`)
  }
  const gone = await troupe('inspect', 'actors', '--url', 'http://127.0.0.1:1')
  t.equal(gone.code, 1)
  t.match(gone.stderr, /^troupe inspect: nothing answers at http:\/\/127\.0\.0\.1:1/)
})

t.test('a table whose server does not answer is said in one line, as an unreachable --url is (exit 1)', async (t) => {
  const gone = await troupe('inspect', 'dead', '--table', 'troupe', '--endpoint', 'http://127.0.0.1:1')
  t.equal(gone.code, 1)
  t.match(gone.stderr, /^troupe inspect: nothing answers for --table troupe \(connect ECONNREFUSED 127\.0\.0\.1:1\); is the server it names running/)
  t.equal(gone.stderr.split('\n').length, 2, 'one line, no stack')
  const json = await troupe('inspect', 'dead', '--table', 'troupe', '--endpoint', 'http://127.0.0.1:1', '--json')
  t.equal(json.code, 1)
  t.equal((JSON.parse(json.stdout) as { error: { code?: string } }).error.code, 'TROUPE_INSPECT_UNREACHABLE')
})
