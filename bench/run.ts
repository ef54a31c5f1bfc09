// The benchmark driver: every system x workload in a fresh child process (bench/one.ts), systems
// interleaved within each round so drift on a noisy machine hits them alike. JSON lines on stdout:
// meta, one rep line per child, a summary per system x workload, troupe's ratios to the baselines,
// what flow control adds per message (flow), then every target (targets.ts) met or missed; a whole
// run also writes bench/REPORT.md.
// The suites, one after the other: `local` (in one process), `aws` (troupe's AWS mode and Lambda
// path on local Kinesis and DynamoDB servers, against the emulators' limits and a hand-written
// Lambda, with requests per message; and W6, the bundle's cold start) and, with --full, `restate`.
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { emit, int, list, machine, median, parseArgs, progress, round, spread, type Args } from './harness.js'
import { evaluate, type Rep } from './evaluate.js'
import { report } from './report.js'
import { AWS_BASELINES, BASELINES, DEFAULT_SUITES, FLOW_BASE, FLOW_VARIANTS, sizeSuiteOf, SUITE_NAMES, suiteOf, SYSTEMS, type Suite } from './systems/index.js'
import { CHECKS } from './targets.js'
import { BENCH_PRICES } from './cost.js'
import { peerCosts } from './cost-peers.js'
import { FLOW_BATCH_SIZE, POLL_MS, RECORD_BYTES, SHARDS } from './systems/aws-settings.js'
import type { WorkloadName } from './systems/system.js'
import { isWorkload, suiteSizes, WORKLOADS, type Size } from './workloads.js'

const systemsOf = (suite: Suite) => Object.keys(SYSTEMS).filter((s) => suiteOf(s) === suite)
const sizeText = (w: WorkloadName, suite: 'local' | 'aws' | 'restate', q: boolean) => {
  const spec = WORKLOADS[w]
  const z = suiteSizes(spec, suite)[q ? 'quick' : 'full']
  if (w === 'W7') return `n=${z.n.toLocaleString('en')} into ${z.actors.toLocaleString('en')} keys`
  return w === 'W2' || w === 'W2D' ? `${z.actors.toLocaleString('en')} x ${z.perActor}` : `n=${z.n.toLocaleString('en')}`
}
const sizes = (suite: 'local' | 'aws' | 'restate', q: boolean) =>
  (Object.keys(WORKLOADS) as WorkloadName[])
    .filter((w) => WORKLOADS[w].suites.includes(suite) && !WORKLOADS[w].once)
    .map((w) => `${w} ${sizeText(w, suite, q)}`)
    .join(', ')

const sizedAsText = Object.entries(SYSTEMS)
  .flatMap(([name, entry]) => Object.entries(entry.sizedAs ?? {}).map(([w, suite]) => `\n                     ${name} runs ${w} at ${suite}'s sizes, and takes its size options`))
  .join('')
const USAGE = `usage: npm run bench -- [options]        (or: npx tsx bench/run.ts [options])

Runs each system x workload in a fresh child process, R rounds, systems interleaved
(and rotated) within each round. JSON lines on stdout, progress on stderr. The suites run one
after the other: local (in one process), aws (local Kinesis and DynamoDB servers, the Lambda
path, the bundle's cold start) and, with --full, restate (a Restate server on loopback).
Without --systems, --workloads or --only it writes bench/REPORT.md (or --report FILE).

  --full             the full sizes and Restate; default: the quick set (both 3 rounds)
                     (${sizes('local', true)}; aws: ${sizes('aws', true)})
                     full: ${sizes('local', false)}; aws: ${sizes('aws', false)}; restate: ${sizes('restate', false)}${sizedAsText}
  --only SUITE       run these suites: ${SUITE_NAMES.join(', ')} (comma-separated)
  --reps R           measured rounds (default 3)
  --warmup W         warm-up runs inside each child before the measured one (default 1)
  --n N              W1, W7 messages / W3 asks / W4 fork/joins (in-process)
  --actors A         W2 keyed instances / W7 keys in the singleton's state (in-process)
  --per-actor M      W2 messages per instance (in-process)
  --fanout F         W4 children per fork (default 10)
  --aws-n N          aws W1 messages / W3 asks
  --aws-actors A     aws W2 keys
  --aws-per-actor M  aws W2 messages per key (1 = all-distinct keys)
  --workloads LIST   comma-separated: ${Object.keys(WORKLOADS).join(', ')}
  --systems LIST     comma-separated; local: ${systemsOf('local').join(', ')}
                     aws: ${systemsOf('aws').join(', ')}; restate: ${systemsOf('restate').join(', ')}
                     (named systems run every workload of their suite)
  --report FILE      write the markdown report there (default bench/REPORT.md for a whole run)
  --timeout S        watchdog per child in seconds (default 120; 300 with --full)
  --help             this text

workloads:
${Object.values(WORKLOADS).map((w) => `  ${w.name.padEnd(4)} ${w.title} (${w.rate})`).join('\n')}

targets (medians in one run):
${CHECKS.map((c) => `  ${c.section} ${c.label}`).join('\n')}

flow control: ${FLOW_BASE} and ${Object.keys(FLOW_VARIANTS).join(', ')} run W2D at batch size ${FLOW_BATCH_SIZE}; a \`flow\` line
per variant says what it adds per message (DynamoDB writes, reads, requests, write units).

aws suite: on kinesalite + dynalite in a server process each child starts (in memory, ${SHARDS} shards,
pollMs ${POLL_MS}, ${RECORD_BYTES} B records for the references). Reported besides msgs/s: requests per message,
and dollars per million messages (W4S: per million sagas) at us-east-1 list prices, in each rep and
summary (usd_per_million_msgs and by service) and a cost line per workload beside the same work
priced for Lambda durable functions, Step Functions and a hand-written pipeline (bench/cost-peers.ts).
`

const ONE = fileURLToPath(new URL('./one.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const args = parseArgs()
if (args.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const KNOWN = ['help', 'only', 'reps', 'warmup', 'full', 'quick', 'n', 'actors', 'per-actor', 'fanout', 'aws-n', 'aws-actors', 'aws-per-actor', 'workloads', 'systems', 'report', 'timeout']
for (const k of Object.keys(args)) if (!KNOWN.includes(k)) fail(`unknown option --${k}`)
const full = args.full === 'true'
if (full && args.quick === 'true') fail('--full and --quick: choose one')
const quick = !full
const reps = int(args.reps, 3)
const timeoutS = int(args.timeout, full ? 300 : 120)
const workloads = list(args.workloads, Object.keys(WORKLOADS)).map((w) => w.toUpperCase())
const named = args.systems !== undefined
const systems = list(args.systems, Object.keys(SYSTEMS))
const suites = list(args.only, full ? SUITE_NAMES : DEFAULT_SUITES) as Suite[]
for (const w of workloads) if (!isWorkload(w)) fail(`unknown workload ${w}`)
for (const s of systems) if (!SYSTEMS[s]) fail(`unknown system ${s}; known: ${Object.keys(SYSTEMS).join(', ')}`)
for (const s of suites) if (!SUITE_NAMES.includes(s)) fail(`unknown suite ${s} for --only; known: ${SUITE_NAMES.join(', ')}`)
const whole = args.systems === undefined && args.workloads === undefined && args.only === undefined
const reportFile = args.report ?? (whole ? fileURLToPath(new URL('./REPORT.md', import.meta.url)) : undefined)

/** Per suite, which systems run a workload: all named ones of the suite, or each system's defaults. */
type Plan = Map<WorkloadName, string[]>
const plans = new Map<Suite, Plan>()
for (const suite of suites) {
  const plan: Plan = new Map()
  for (const w of workloads as WorkloadName[]) {
    if (!WORKLOADS[w].suites.includes(suite)) continue
    const names = systems.filter(
      (s) => suiteOf(s) === suite && (named || (SYSTEMS[s]!.defaultWorkloads.includes(w) && (full || !SYSTEMS[s]!.fullOnly))),
    )
    if (names.length > 0) plan.set(w, names)
  }
  if (plan.size > 0) plans.set(suite, plan)
}
if (plans.size === 0) fail('nothing to run: no system of the chosen suites runs the chosen workloads')

const meta = { machine: machine(), commit: gitCommit() }
emit({
  phase: 'meta',
  ...meta,
  reps,
  warmup: int(args.warmup, 1),
  full,
  plan: Object.fromEntries(
    [...plans].map(([suite, plan]) => [
      suite,
      Object.fromEntries(
        [...plan].map(([w, s]) => {
          // A system sized as another suite (sizedAs) says so beside the suite's size.
          const other = s.filter((name) => sizeSuiteOf(name, w) !== suite)
          return [w, { systems: s, size: sizeOf(w, suite), ...(other.length > 0 ? { sized_as: Object.fromEntries(other.map((name) => [name, sizeOf(w, sizeSuiteOf(name, w))])) } : {}) }]
        }),
      ),
    ]),
  ),
  ...(plans.has('aws')
    ? {
        aws: {
          servers: 'kinesalite + dynalite via startLocalStack, in memory, in a process of their own started by each child',
          shards: SHARDS,
          poll_ms: POLL_MS,
          record_bytes_references: RECORD_BYTES,
        },
      }
    : {}),
})

const results: Rep[] = []
let errors = 0
for (const [suite, plan] of plans) {
  for (let r = 1; r <= reps; r++) {
    for (const [w, names] of plan) {
      // Rotate the order each round, so no system always runs first (or right after the heaviest one).
      const order = names.map((_, i) => names[(i + r - 1) % names.length]!)
      // A workload measured once (W6 repeats inside its child) runs in the first round only.
      if (WORKLOADS[w].once && r > 1) continue
      for (const system of order) {
        const rep = await runChild(r, system, w, suite)
        if (rep === 'skipped') continue
        if (rep) results.push(rep)
        else errors++
      }
    }
  }
}

const repsOf = (w: WorkloadName, system: string) => results.filter((x) => x.workload === w && x.system === system)
const med = (xs: Rep[], k: string) => round(median(xs.map((x) => x.metrics[k]!)), 4)

for (const [suite, plan] of plans) {
  for (const [w, names] of plan) {
    for (const system of names) {
      const mine = repsOf(w, system)
      if (mine.length === 0) continue
      const metric = WORKLOADS[w].rate
      const first = mine[0]!.metrics
      const line: Record<string, unknown> = { phase: 'summary', suite, workload: w, system, n: first.n, reps: mine.length, metric }
      if (w === 'W2') Object.assign(line, { actors: first.actors, per_actor: first.per_actor })
      if (w === 'W4' || w === 'W4S') Object.assign(line, { fanout: first.fanout })
      line.rate = spread(mine.map((x) => x.metrics[metric]!))
      for (const k of Object.keys(first)) {
        if (k === metric || k === 'n' || k === 'actors' || k === 'per_actor' || k === 'fanout') continue
        // Requests per message are small fractions: keep four decimals; billed units and dollars six (a hot key's are ten-thousandths).
        const digits = k.startsWith('usd_') || k.startsWith('units.') || /_(units|wru|rru)_per_msg$/.test(k) ? 6 : k.endsWith('_per_msg') ? 4 : 2
        line[k] = spread(mine.map((x) => x.metrics[k]!), digits)
      }
      emit(line)
    }
  }
}

/** Per-message cost figures compared between troupe-aws and a baseline (lower is cheaper). */
const COST_METRICS = [
  'requests_per_msg',
  'putrecords_per_msg',
  'dynamodb_writes_per_msg',
  'dynamodb_reads_per_msg',
  'dynamodb_write_items_per_msg',
  'dynamodb_read_items_per_msg',
] as const

for (const [suite, plan] of plans) {
  const baselines: readonly string[] = suite === 'aws' ? AWS_BASELINES : BASELINES
  for (const [w, names] of plan) {
    const metric = WORKLOADS[w].rate
    for (const system of names.filter((s) => s.startsWith('troupe') && !baselines.includes(s))) {
      for (const vs of baselines) {
        if (!names.includes(vs)) continue
        const ours = repsOf(w, system)
        const theirs = repsOf(w, vs)
        if (ours.length === 0 || theirs.length === 0) continue
        const ratio = med(ours, metric) / med(theirs, metric)
        const perRound = ours.flatMap((o) => {
          const t = theirs.find((x) => x.round === o.round)
          return t ? [o.metrics[metric]! / t.metrics[metric]!] : []
        })
        const line: Record<string, unknown> = {
          phase: 'ratio',
          suite,
          workload: w,
          system,
          vs,
          metric,
          ratio: round(ratio, 3),
          round_min: perRound.length ? round(Math.min(...perRound), 3) : null,
          round_max: perRound.length ? round(Math.max(...perRound), 3) : null,
          rounds: perRound.length,
        }
        // Latency workloads: how many times the baseline's median p50 and p99 troupe's are (higher is slower).
        for (const p of ['p50_us', 'p99_us']) {
          if (ours[0]!.metrics[p] === undefined || theirs[0]!.metrics[p] === undefined) continue
          line[`${p.slice(0, 3)}_x`] = round(med(ours, p) / med(theirs, p), 2)
        }
        // AWS: requests per message side by side (medians), and ours over theirs where theirs is not 0.
        if (suite === 'aws') {
          const cost: Record<string, unknown> = {}
          for (const k of COST_METRICS) {
            if (ours[0]!.metrics[k] === undefined || theirs[0]!.metrics[k] === undefined) continue
            const a = med(ours, k)
            const b = med(theirs, k)
            cost[k] = { [system]: a, [vs]: b, x: b > 0 ? round(a / b, 4) : null }
          }
          line.cost = cost
        }
        emit(line)
        const req = suite === 'aws' ? line.cost as Record<string, { x: number | null }> : undefined
        const reqText = req?.requests_per_msg?.x != null ? `, requests/msg ${req.requests_per_msg.x}x` : ''
        progress(`${w} ${system} / ${vs}: ${round(ratio, 3)}x ${metric}${reqText}`)
      }
    }
  }
}

// Flow control's cost: what a type throttle and a concurrency cap that hold nothing back add per
// message to the same system without them, at the mapping's batch size (100). Medians, and the
// spread of the per-round differences (the three run in the same rounds, interleaved).
const FLOW_METRICS = ['dynamodb_writes_per_msg', 'dynamodb_reads_per_msg', 'requests_per_msg', 'dynamodb_wru_per_msg'] as const
for (const [suite, plan] of plans) {
  for (const [w, names] of plan) {
    if (!names.includes(FLOW_BASE)) continue
    const base = repsOf(w, FLOW_BASE)
    for (const [system, control] of Object.entries(FLOW_VARIANTS)) {
      const mine = repsOf(w, system)
      if (!names.includes(system) || mine.length === 0 || base.length === 0) continue
      const added: Record<string, unknown> = {}
      for (const k of FLOW_METRICS) {
        if (mine[0]!.metrics[k] === undefined || base[0]!.metrics[k] === undefined) continue
        const perRound = mine.flatMap((m) => {
          const b = base.find((x) => x.round === m.round)
          return b ? [m.metrics[k]! - b.metrics[k]!] : []
        })
        added[k] = {
          [system]: med(mine, k),
          [FLOW_BASE]: med(base, k),
          added: round(med(mine, k) - med(base, k), 4),
          round_min: perRound.length ? round(Math.min(...perRound), 4) : null,
          round_max: perRound.length ? round(Math.max(...perRound), 4) : null,
        }
      }
      const writes = added.dynamodb_writes_per_msg as { added: number } | undefined
      // Flow control pays per batch: the batches the consumer ran say how full they were (a shard's last is partial).
      const batches = med(mine, 'consumer_batches')
      const messages = mine[0]!.metrics.n!
      const perBatch: { batches?: number; messages_per_batch?: number; added_writes_per_batch?: number } =
        Number.isFinite(batches) && batches > 0 ? { batches, messages_per_batch: round(messages / batches, 1), ...(writes ? { added_writes_per_batch: round((writes.added * messages) / batches, 2) } : {}) } : {}
      emit({ phase: 'flow', suite, workload: w, system, vs: FLOW_BASE, control, batch_size: FLOW_BATCH_SIZE, rounds: Math.min(mine.length, base.length), messages, ...perBatch, added_per_msg: added })
      if (writes) progress(`${w} flow control, ${control}: +${writes.added} DynamoDB writes per message at batch size ${FLOW_BATCH_SIZE}${perBatch.added_writes_per_batch !== undefined ? ` (${perBatch.added_writes_per_batch} per batch, ${perBatch.messages_per_batch} messages a batch)` : ''}`)
    }
  }
}

// Dollars: each priced system's medians (per million messages; W4S per million sagas) beside the
// same work priced for troupe's alternatives (cost-peers.ts), standing costs apart.
for (const [suite, plan] of plans) {
  for (const [w, names] of plan) {
    const priced = names.filter((s) => repsOf(w, s).some((r) => r.metrics.usd_per_million_msgs !== undefined))
    if (priced.length === 0) continue
    const systems: Record<string, unknown> = {}
    for (const system of priced) {
      const mine = repsOf(w, system).filter((r) => r.metrics.usd_per_million_msgs !== undefined)
      systems[system] = {
        usd_per_million: med(mine, 'usd_per_million_msgs'),
        requests_per_msg: med(mine, 'requests_per_msg'),
        lambda: mine[0]!.metrics.lambda_measured === 1 ? 'measured' : 'modelled',
        usd_fixed_per_month: med(mine, 'usd_fixed_per_month'),
      }
    }
    const peers = Object.fromEntries(peerCosts(w).map((p) => [p.peer, { usd_per_million: round(p.usd, 4), assumption: p.assumption, source: p.source }]))
    emit({ phase: 'cost', suite, workload: w, per: w === 'W4S' ? 'million sagas' : 'million messages', region: BENCH_PRICES.region, prices_date: BENCH_PRICES.date, systems, peers })
    progress(`${w} dollars per ${w === 'W4S' ? 'million sagas' : 'million messages'}: ${Object.entries(systems).map(([n, c]) => `${n} $${(c as { usd_per_million: number }).usd_per_million}`).join(', ')}; ${Object.entries(peers).map(([n, c]) => `${n} $${c.usd_per_million}`).join(', ')}`)
  }
}

// The targets: each one whose systems ran, met or missed and by how much.
for (const check of CHECKS) {
  const v = evaluate(check, results)
  if (!v) continue
  emit({ phase: 'target', ...check, value: round(v.value, 4), target_met: v.met, ...(v.offBy ? { off_by_x: round(v.offBy, 2) } : {}) })
  progress(`target ${check.label}: ${round(v.value, 4)} ${v.met ? 'met' : `MISSED by ${round(v.offBy!, 2)}x`}`)
}

if (reportFile) {
  const command = `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  writeFileSync(reportFile, report(results, { ...meta, command, mode: `${full ? 'full' : 'quick'} set, ${reps} rounds` }))
  progress(`wrote ${reportFile}`)
}
process.exit(errors === 0 ? 0 : 1)

// ── helpers ──────────────────────────────────────────────────────────────

/** The size options of a suite: `--n` etc. for local, `--aws-n` etc. for aws. */
function optionOf(suite: Suite, k: string): string {
  return suite === 'aws' && k !== 'fanout' ? `aws-${k}` : k
}

function sizeOf(w: WorkloadName, suite: Suite): Size {
  const sizes = suiteSizes(WORKLOADS[w], suite)
  const preset = quick ? sizes.quick : sizes.full
  return {
    n: int(args[optionOf(suite, 'n')], preset.n),
    actors: int(args[optionOf(suite, 'actors')], preset.actors),
    perActor: int(args[optionOf(suite, 'per-actor')], preset.perActor),
    fanout: int(args.fanout, preset.fanout),
  }
}

function childArgs(system: string, w: WorkloadName, a: Args): string[] {
  const out = ['--system', system, '--workload', w, '--timeout', String(timeoutS)]
  // The size options of the suite whose sizes it runs: --n reaches a system sized as Restate's.
  const sizedAs = sizeSuiteOf(system, w)
  for (const k of ['n', 'actors', 'per-actor', 'fanout']) if (a[optionOf(sizedAs, k)] !== undefined) out.push(`--${k}`, a[optionOf(sizedAs, k)]!)
  if (a.warmup !== undefined) out.push('--warmup', a.warmup)
  if (quick) out.push('--quick')
  return out
}

/** Runs one child; emits and returns its rep, or emits the error and returns undefined. */
/** One child's rep; 'skipped' when the system has no adapter for the workload (not an error); undefined when it failed. */
function runChild(r: number, system: string, w: WorkloadName, suite: Suite): Promise<Rep | 'skipped' | undefined> {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ONE, ...childArgs(system, w, args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      // The AWS SDK's notice that its 2027 releases need Node 22, once per child: not progress.
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true' },
    })
    // The child has its own watchdog; this one covers a child that hangs before setting it.
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 15) * 1000)
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      const lines = out.split('\n').filter(Boolean).flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>]
        } catch {
          return []
        }
      })
      const rep = lines.find((l) => l.phase === 'rep')
      const secs = ((Date.now() - started) / 1000).toFixed(1)
      if (rep && code === 0) {
        const { phase: _p, system: _s, workload: _w, notes, ...rest } = rep
        const metrics = rest as Record<string, number>
        emit({ phase: 'rep', suite, round: r, workload: w, system, ...metrics, notes })
        const metric = WORKLOADS[w].rate
        progress(`[round ${r}/${reps}] ${w} ${system}: ${metrics[metric]?.toLocaleString('en')} ${metric} (${secs}s)`)
        resolve({ round: r, suite, system, workload: w, metrics })
        return
      }
      const skipped = lines.find((l) => l.phase === 'skip')
      const reported = lines.find((l) => l.phase === 'error')
      const error = skipped?.reason ?? reported?.error ?? `child exited with ${signal ?? `code ${code}`} after ${secs}s and no result`
      emit({ phase: skipped ? 'skip' : 'error', suite, round: r, workload: w, system, error })
      progress(`[round ${r}/${reps}] ${w} ${system}: ${skipped ? 'skipped' : 'ERROR'}: ${String(error).split('\n')[0]}`)
      resolve(skipped ? 'skipped' : undefined)
    })
  })
}

function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head}+dirty-lib` : head
  } catch {
    return null
  }
}

function fail(message: string): never {
  progress(`${message}\n\n${USAGE}`)
  process.exit(2)
}
