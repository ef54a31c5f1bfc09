// The cost section of bench/REPORT.md: dollars per million messages (W4S: per million sagas) of
// troupe's AWS systems, beside the same work priced for its alternatives (cost-peers.ts), and
// where troupe's dollars go. report.ts writes it with the rest; to write it alone from a run's
// JSON lines (only the aws suite run, the in-process tables left as they are):
//   npm run bench -- --only aws --workloads W1,W2,W2D,W4S > /tmp/aws.jsonl
//   npx tsx --conditions=troupe-source bench/cost-table.ts [the command, to name it] < /tmp/aws.jsonl
import { fileURLToPath } from 'node:url'
import { perMillion, priceUsage } from '../lib/cost/bill.js'
import { DEFAULT_LAMBDA, NO_USAGE } from '../lib/cost/usage.js'
import { BENCH_PRICES } from './cost.js'
import { peerCosts } from './cost-peers.js'
import { median } from './harness.js'
import { evaluate, type Rep } from './evaluate.js'
import { CHECKS } from './targets.js'

const WORKLOADS: [workload: string, what: string][] = [
  ['W1', 'W1 one hot key'],
  ['W2', 'W2 keyed counters × 5'],
  ['W2D', 'W2D all-distinct keys'],
  ['W4S', 'W4S saga: fork of 2 + join (per saga)'],
]
const TROUPE = ['troupe-aws', 'troupe-lambda'] as const

/**
 * What a saga costs after the measured window: its joined fork's record expires 10 minutes later
 * (actors/joiner.ts, JOIN_RETENTION_MS), a turn run by the tick that reads the joiner's item and
 * deletes it (an item of about 1.4 KB: 2 write units) and deletes the expire timer (2, with the
 * byDue index). A model: no bench run waits 10 minutes.
 */
const SAGA_EXPIRY = { dynamodbWriteRequestUnits: 4, dynamodbReadRequestUnits: 1 }

const usd = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `$${x < 0.1 ? x.toFixed(4) : x < 10 ? x.toFixed(3) : x.toFixed(2)}`)

function med(reps: readonly Rep[], workload: string, system: string, metric: string): number | undefined {
  const xs = reps.filter((r) => r.suite === 'aws' && r.workload === workload && r.system === system).map((r) => r.metrics[metric]).filter((x): x is number => typeof x === 'number')
  return xs.length ? median(xs) : undefined
}

/** The markdown lines of the cost section; none when the run priced nothing. */
export function costTable(reps: readonly Rep[]): string[] {
  const ran = WORKLOADS.filter(([w]) => TROUPE.some((s) => med(reps, w, s, 'usd_per_million_msgs') !== undefined))
  if (ran.length === 0) return []
  const out: string[] = []
  out.push(
    `## Cost in dollars per million messages (${BENCH_PRICES.region} list prices of ${BENCH_PRICES.date})`,
    '',
    'What scales with messages, from the billed units each run counted (Kinesis PUT payload units, DynamoDB request units: lib/cost/billed-units.ts) at list prices (lib/cost/prices.ts).',
    `troupe-aws runs the host in the measuring process: its Lambda compute is modelled (an invocation per consumer batch, at most ${DEFAULT_LAMBDA.batchSize} records each, ${DEFAULT_LAMBDA.msPerInvocation} ms at ${DEFAULT_LAMBDA.memoryMb} MB ${DEFAULT_LAMBDA.architecture}), and its DynamoDB includes the consumer's checkpoints and leases, which a Lambda deployment does not pay.`,
    'troupe-lambda is the Lambda path: its invocations and their billed durations are measured (against the local servers on a shared machine, slower than AWS), its function\'s requests read from the EMF lines its host writes.',
    'The peers are models of the same work (bench/cost-peers.ts, each assumption below); hand-lambda is measured where the run has it, a model elsewhere.',
    '',
  )
  const head = ['workload', 'troupe-aws', 'troupe-lambda (measured)', 'hand-written Lambda + DynamoDB', 'Lambda durable functions', 'Step Functions standard', 'durable functions / troupe-aws']
  out.push(`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`)
  for (const [w, what] of ran) {
    const aws = med(reps, w, 'troupe-aws', 'usd_per_million_msgs')
    const peers = peerCosts(w)
    const measuredHand = med(reps, w, 'hand-lambda', 'usd_per_million_msgs')
    const hand = measuredHand !== undefined ? `${usd(measuredHand)} (measured)` : `${usd(peers[0]?.usd)} (model)`
    const durable = peers.find((p) => p.peer === 'Lambda durable functions')?.usd
    out.push(
      `| ${what} | **${usd(aws)}** | ${usd(med(reps, w, 'troupe-lambda', 'usd_per_million_msgs'))} | ${hand} | ${usd(durable)} | ${usd(peers.find((p) => p.peer === 'Step Functions standard')?.usd)} | ${aws && durable ? `${(durable / aws).toFixed(1)}x` : '–'} |`,
    )
  }
  const saga = med(reps, 'W4S', 'troupe-aws', 'usd_per_million_msgs')
  if (saga !== undefined) {
    const later = perMillion(priceUsage({ ...NO_USAGE, dynamodbWriteRequestUnits: SAGA_EXPIRY.dynamodbWriteRequestUnits * 1e6, dynamodbReadRequestUnits: SAGA_EXPIRY.dynamodbReadRequestUnits * 1e6 }, BENCH_PRICES, DEFAULT_LAMBDA), 1e6).usd
    const durable = peerCosts('W4S').find((p) => p.peer === 'Lambda durable functions')!.usd
    out.push(
      '',
      `W4S's window leaves out each saga's expiry 10 minutes later (the joiner's record read and deleted, its timer deleted: about ${SAGA_EXPIRY.dynamodbWriteRequestUnits} write units and ${SAGA_EXPIRY.dynamodbReadRequestUnits} read unit, modelled): ${usd(later)} more, ${usd(saga + later)} a saga in all, ${(durable / (saga + later)).toFixed(1)}x cheaper than durable functions.`,
    )
  }
  out.push('', 'Where troupe-aws\'s dollars go (medians per message; W4S per saga):', '')
  const parts = ['workload', 'Kinesis', 'DynamoDB', 'Lambda', 'PUT payload units', 'write units', 'read units', 'invocations', 'requests', 'a month, messages or not']
  out.push(`| ${parts.join(' | ')} |`, `|---|${parts.slice(1).map(() => '---:').join('|')}|`)
  for (const [w, what] of ran) {
    const m = (k: string) => med(reps, w, 'troupe-aws', k)
    const n = (x: number | undefined) => (x === undefined ? '–' : x.toLocaleString('en', { maximumFractionDigits: 4 }))
    out.push(
      `| ${what} | ${usd(m('usd_kinesis_per_million_msgs'))} | ${usd(m('usd_dynamodb_per_million_msgs'))} | ${usd(m('usd_lambda_per_million_msgs'))} | ${n(m('kinesis_put_units_per_msg'))} | ${n(m('dynamodb_wru_per_msg'))} | ${n(m('dynamodb_rru_per_msg'))} | ${n(m('lambda_invocations_per_msg'))} | ${n(m('requests_per_msg'))} | ${usd(m('usd_fixed_per_month'))} |`,
    )
  }
  out.push('', 'A month, messages or not: the bench\'s 4 shards (730 shard hours each) and the tick (an invocation and 8 timer Queries a minute); not in the figures above.', '')
  out.push('What each peer\'s figure rests on:', '')
  for (const [w, what] of ran) {
    for (const p of peerCosts(w)) out.push(`- ${what}, ${p.peer}: ${usd(p.usd)}: ${p.assumption} (${p.source})`)
  }
  out.push('')
  return out
}

/** `tsx bench/cost-table.ts < run.jsonl`: the section from a run's rep lines. */
async function main(): Promise<void> {
  let text = ''
  for await (const chunk of process.stdin) text += chunk
  const reps: Rep[] = []
  let meta: Record<string, unknown> | undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    const l = JSON.parse(line) as Record<string, unknown>
    if (l.phase === 'meta') meta = l
    if (l.phase !== 'rep') continue
    const { phase: _p, suite, round, system, workload, notes: _n, ...metrics } = l
    reps.push({ suite: String(suite), round: Number(round), system: String(system), workload: String(workload), metrics: metrics as Record<string, number> })
  }
  // Alone, the section carries its own targets (a whole report has them in its Targets table).
  const targets = CHECKS.filter((c) => c.metric.startsWith('usd_')).flatMap((c) => {
    const v = evaluate(c, reps)
    if (!v) return []
    const figure = c.vsPeer ? `${v.value.toFixed(2)}x` : `$${v.value.toFixed(4)}`
    return [`| ${c.label} | ${figure} | ${v.met ? 'met' : `**missed** by ${v.offBy!.toFixed(2)}x`} |`]
  })
  const lines = costTable(reps)
  if (lines.length && meta) {
    const cmd = process.argv.slice(2).join(' ')
    lines.splice(2, 0, `From ${cmd ? `\`${cmd}\`` : 'a run of the aws suite'} (${String(meta.reps)} rounds, ${meta.full ? 'full' : 'quick'} sizes, commit \`${String(meta.commit)}\`), written by bench/cost-table.ts alone; the tables above are from the run named at the top.`, '')
  }
  if (targets.length) lines.push('Cost targets (medians of this run):', '', '| target | figure | met? |', '|---|---:|---|', ...targets, '')
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
