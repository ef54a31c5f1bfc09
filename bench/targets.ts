// The targets of the benchmark (issue 10, "Targets"): each a ratio of medians in one run, or a
// median against a bound. run.ts checks every one whose systems ran and reports met or missed,
// and by how much.

export interface Check {
  /** Where it is reported: a workload of the report (W1..W4, W7, W5 for the AWS suite, W6). */
  section: string
  workload: string
  system: string
  /** The metric compared; latency percentiles are lower-is-better. */
  metric: string
  /** The baseline: the check is on system / vs (medians); without it, on the system's median. */
  vs?: string
  /** `difference`: the check is on system − vs (medians), what the system adds to the baseline. @default 'ratio' */
  by?: 'ratio' | 'difference'
  /** The workload of the baseline, when not the same (troupe's AWS W1 against Restate's). */
  vsWorkload?: string
  /**
   * A priced model instead of a system (cost-peers.ts): the check is on the peer's dollars over
   * the system's median dollars (how many times cheaper the system is).
   */
  vsPeer?: 'durable-functions'
  op: '>=' | '<='
  target: number
  /** What the figure is, for people. */
  label: string
}

const rate = (workload: string, vs: string, target: number, section = workload): Check => ({
  section,
  workload,
  system: section === 'W5' ? 'troupe-aws' : 'troupe',
  metric: 'msgs_per_s',
  vs,
  op: '>=',
  target,
  label: `troupe ${workload} msgs/s ≥ ${target}x ${vs}`,
})

export const CHECKS: readonly Check[] = [
  rate('W1', 'nact', 5),
  rate('W1', 'comedy', 5),
  rate('W1', 'xstate-machine', 5),
  rate('W1', 'mailbox', 0.5),
  rate('W2', 'nact', 3),
  rate('W2', 'comedy', 3),
  { section: 'W3', workload: 'W3', system: 'troupe', metric: 'p50_us', vs: 'nact', op: '<=', target: 1, label: 'troupe W3 ask p50 ≤ nact’s' },
  { section: 'W4', workload: 'W4', system: 'troupe', metric: 'joins_per_s', vs: 'comedy', op: '>=', target: 1.2, label: 'troupe W4 joins/s ≥ 1.2x comedy' },
  { section: 'W4', workload: 'W4', system: 'troupe', metric: 'p99_us', vs: 'comedy', op: '<=', target: 1, label: 'troupe W4 p99 ≤ comedy’s' },
  // W7: a turn costs what it touches, not the size of the state (rollback without a copy per turn).
  { ...rate('W7', 'troupe-no-rollback', 1 / 3), label: 'troupe W7 msgs/s ≥ 1/3 of the same actor run with no rollback (within 3x)' },
  // W5: the AWS mode on the local servers.
  { ...rate('W1', 'raw-kinesis', 1.5, 'W5'), label: 'troupe-aws W1 (one hot key) msgs/s ≥ 1.5x the raw local Kinesis put ceiling' },
  { ...rate('W2D', 'raw-dynalite', 0.8, 'W5'), label: 'troupe-aws W2D (all-distinct keys) msgs/s ≥ 0.8x raw dynalite conditional writes at 16 in flight' },
  { ...rate('W1', 'restate', 30, 'W5'), label: 'troupe-aws W1 msgs/s ≥ 30x Restate’s durable W1' },
  {
    section: 'W5',
    workload: 'W3',
    system: 'troupe-lambda-invoke',
    metric: 'p50_us',
    vs: 'restate',
    op: '<=',
    target: 1,
    label: 'troupe ask p50 through the direct Lambda path ≤ Restate’s ingress request/response p50',
  },
  cost('W1', 'putrecords_per_msg', 0.01, 'one hot key'),
  cost('W1', 'dynamodb_writes_per_msg', 0.1, 'one hot key'),
  cost('W2', 'putrecords_per_msg', 0.01, 'keys x 5 messages'),
  cost('W2D', 'putrecords_per_msg', 0.01, 'all-distinct keys'),
  cost('W2D', 'dynamodb_writes_per_msg', 1.05, 'all-distinct keys'),
  // Dollars (bench/cost.ts: us-east-1 list prices, Lambda compute modelled), standing costs apart.
  dollars('W1', 0.1, 'one hot key'),
  dollars('W2D', 1, 'all-distinct keys, ≤ 1 KB state'),
  {
    section: 'W5',
    workload: 'W4S',
    system: 'troupe-aws',
    metric: 'usd_per_million_msgs',
    vsPeer: 'durable-functions',
    op: '>=',
    target: 5,
    label: 'troupe-aws saga (a fork of 2 and a join) ≥ 5x cheaper than the same saga on Lambda durable functions',
  },
  // Flow control (issue 22): a type throttle and a concurrency cap that hold nothing back cost a few
  // updates per batch, not per message (run.ts's `flow` line).
  flow('troupe-aws-b100-throttle', 'a type throttle (policy.throttle)'),
  flow('troupe-aws-b100-cap', 'a concurrency cap (policy.concurrency)'),
  // W6: the Lambda bundle of the flagship example.
  // On what a cold start loads (the entry and the chunks it imports); bundle_kb, every file, is reported beside it.
  { section: 'W6', workload: 'W6', system: 'troupe-bundle', metric: 'init_kb', op: '<=', target: 400, label: 'bundle ≤ 400 KB minified, of what module init loads' },
  { section: 'W6', workload: 'W6', system: 'troupe-bundle', metric: 'init_ms', op: '<=', target: 80, label: 'module init ≤ 80 ms' },
]

function cost(workload: string, metric: string, target: number, what: string): Check {
  const api = metric === 'putrecords_per_msg' ? 'PutRecords calls' : 'DynamoDB writes'
  return { section: 'W5', workload, system: 'troupe-aws', metric, op: '<=', target, label: `troupe-aws ${workload} (${what}): ≤ ${target} ${api} per message` }
}

/** What flow control that holds nothing back adds per message, at batch size 100, against the same system without it. */
function flow(system: string, what: string): Check {
  return {
    section: 'W5',
    workload: 'W2D',
    system,
    metric: 'dynamodb_writes_per_msg',
    vs: 'troupe-aws-b100',
    by: 'difference',
    op: '<=',
    target: 0.02,
    label: `${what} that holds nothing back adds ≤ 0.02 DynamoDB writes per message at batch size 100 (W2D, against troupe-aws-b100)`,
  }
}

function dollars(workload: string, target: number, what: string): Check {
  return { section: 'W5', workload, system: 'troupe-aws', metric: 'usd_per_million_msgs', op: '<=', target, label: `troupe-aws ${workload} (${what}): ≤ $${target.toFixed(2)} per million messages, fixed costs apart` }
}

export interface Verdict {
  value: number
  met: boolean
  /** How far off, as a factor (> 1) when missed: e.g. 2.5 = needs 2.5x better. */
  offBy?: number
}

/** Checks a value (a ratio or a median) against its target. */
export function verdict(check: Check, value: number): Verdict {
  const met = check.op === '>=' ? value >= check.target : value <= check.target
  if (met) return { value, met }
  const offBy = check.op === '>=' ? check.target / value : value / check.target
  return { value, met, offBy }
}
