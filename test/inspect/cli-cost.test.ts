// `troupe inspect cost` in dollars: a process serving inspection whose counters say what an AWS
// system did (W2D-like: every message its own record, its own commit, its own read), priced by
// the CLI with the built-in list prices, a price file, single prices, and without Lambda.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { MessageCost } from '../../lib/cost/message-cost.js'
import { PRICE_NAMES, PRICES } from '../../lib/cost/prices.js'
import type { CostView, Inspector } from '../../lib/inspect/inspector.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import { inspectCli, json } from './fixtures/cli-checks.js'

const counted: CostView = {
  since: 1_700_000_000_000,
  messages: 1_000,
  requests: 1_012,
  requestsPerMessage: 1.01,
  byApi: {
    'DynamoDB.BatchGetItem': { requests: 10, errors: 0, requestBytes: 20_000, responseBytes: 5_000, units: 1_000 },
    'DynamoDB.PutItem': { requests: 1_000, errors: 3, requestBytes: 600_000, responseBytes: 2_000, units: 1_000 },
    'Kinesis.PutRecords': { requests: 2, errors: 0, requestBytes: 400_000, responseBytes: 9_000, units: 1_000 },
  },
}

/** Only `cost` answers: nothing else is asked. */
const inspector = { cost: async () => structuredClone(counted) } as unknown as Inspector
const server = await serveInspection(inspector)
/** The same counts from a process that read its streams and ran the turns itself. */
const inProcess = await serveInspection({ cost: async () => ({ ...structuredClone(counted), compute: 'process' }) } as unknown as Inspector)
t.teardown(() => Promise.all([server.close(), inProcess.close()]))
const source = ['--url', server.url]

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9

t.test('dollars per million messages beside the requests, standing costs apart', async (t) => {
  const view = await json<CostView & { dollars: MessageCost }>(t, ['cost'], source)
  t.same(view.byApi, counted.byApi, 'the counts as they were')
  const d = view.dollars
  t.equal(d.region, 'us-east-1', 'us-east-1 without --region')
  t.equal(d.pricesDate, PRICES.date)
  // 1,000 PUT payload units, write units and read units; 10 invocations of 100 ms at 512 MB arm64.
  const lambda = (10 * 0.2e-6 + 10 * 0.1 * 0.5 * 0.0000133334) * 1_000
  t.ok(near(d.perMillionMessages.usd, 0.014 + 0.625 + 0.125 + lambda), `per million: ${d.perMillionMessages.usd}`)
  t.ok(near(d.perMillionByApi['DynamoDB.PutItem']!, 0.625), 'per API')
  t.ok(near(d.fixedMonthly.lines[0]!.usd, 730 * 0.015), 'a shard-month apart')

  const text = await inspectCli(['cost'], source)
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /DynamoDB\.PutItem\s+1000\s+3\s+600000\s+2000\s+1000\s+\$0\.6250/, 'the API table has units and dollars')
  t.match(text.stdout, /per million messages: \$0\.77\d+ \(DynamoDB \$0\.7500, Kinesis \$0\.014\d*, Lambda \$/)
  t.match(text.stdout, /a month, messages or not: \$11\.\d+ \(1 shard \$10\.95, the tick \$0\.08\d*\)/)
  t.match(text.stdout, /prices: us-east-1 list prices of \d{4}-\d{2}-\d{2}/)
  t.match(text.stdout, /assumed: Lambda \(not counted by the hosts\): one invocation per 100 records/)
})

t.test('--prices, --price, --region, --shards and --no-lambda', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'prices.json')
  const eu = Object.fromEntries(PRICE_NAMES.map((n) => [n, { usd: PRICES.regions['us-east-1']![n].usd * 2, source: 'https://example.com' }]))
  writeFileSync(file, JSON.stringify({ date: '2027-02-01', regions: { 'eu-west-1': eu } }))

  const doubled = await json<{ dollars: MessageCost }>(t, ['cost', '--prices', file, '--region', 'eu-west-1', '--no-lambda', '--shards', '4'], source)
  t.equal(doubled.dollars.region, 'eu-west-1')
  t.equal(doubled.dollars.pricesDate, '2027-02-01')
  t.ok(near(doubled.dollars.perMillionMessages.usd, 2 * (0.014 + 0.625 + 0.125)), 'the file’s prices; no Lambda')
  t.ok(near(doubled.dollars.fixedMonthly.usd, 4 * 730 * 0.03), 'four shards, no tick')

  const hand = await json<{ dollars: MessageCost }>(t, ['cost', '--price', 'dynamodb.writeRequestUnit=1.25', '--price', 'dynamodb.readRequestUnit=0', '--no-lambda'], source)
  t.ok(near(hand.dollars.perMillionMessages.usd, 0.014 + 1.25), 'single prices by name')
  t.same(hand.dollars.overridden, ['dynamodb.writeRequestUnit', 'dynamodb.readRequestUnit'])

  const measured = await json<{ dollars: MessageCost }>(t, ['cost', '--lambda-ms', '20', '--memory-mb', '1024', '--arch', 'x86_64'], source)
  t.ok(near(measured.dollars.perMillionMessages.byService.Lambda!, (10 * 0.2e-6 + 10 * 0.02 * 1 * 0.0000166667) * 1_000), 'a measured duration, memory and architecture')

  t.equal((await json<{ dollars: MessageCost }>(t, ['cost', '--region', ''], source)).dollars.region, 'us-east-1', 'an empty region (AWS_REGION=) is none')
  const unpriced = await inspectCli(['cost'], [...source, '--region', 'ap-south-1'])
  t.equal(unpriced.code, 0, 'a region without prices still shows the requests')
  t.match(unpriced.stdout, /no prices for ap-south-1 \(known: us-east-1, us-east-2, us-west-2\): give them in a price file with --prices/)

  for (const [args, error] of [
    [['--price', 'dynamodb.wru=1'], /--price takes <name>=<usd>/],
    [['--shards', '1.5'], /--shards is a whole number/],
    [['--prices', join(dir, 'missing.json')], /--prices .*missing\.json: ENOENT/],
    [['--arch', 'mips'], /--arch/],
  ] as const) {
    const run = await inspectCli(['cost', ...args], source)
    t.not(run.code, 0, `${args.join(' ')} is refused`)
    t.match(run.stderr, error)
  }
  const help = await inspectCli(['cost', '--help'], [])
  t.match(help.stdout, /--prices <file>[\s\S]*--price <name=usd>[\s\S]*--no-lambda[\s\S]*standing costs/, '--help says what each does')
})

t.test('counts of a process that ran the turns itself are priced without Lambda compute, and say why', async (t) => {
  const view = await json<CostView & { dollars: MessageCost }>(t, ['cost'], ['--url', inProcess.url])
  t.equal(view.compute, 'process')
  t.ok(near(view.dollars.perMillionMessages.usd, 0.014 + 0.625 + 0.125), 'the requests alone, as --no-lambda prices them')
  t.equal(view.dollars.perMillionMessages.byService.Lambda, undefined, 'no Lambda compute')
  t.ok(near(view.dollars.fixedMonthly.usd, 730 * 0.015), 'and no tick: its timers run in the process')
  const text = await inspectCli(['cost'], ['--url', inProcess.url])
  t.match(text.stdout, /assumed: no Lambda compute: the turns ran in the process that counted the requests, which reads its streams itself/)
})
