// The benchmark driver: every system x workload in a fresh child process (bench/one.ts), systems
// interleaved within each round so drift on a noisy machine hits them alike. JSON lines on stdout:
// meta, one rep line per child, a summary per system x workload, then troupe's ratios to the baselines.
// Two suites, one after the other: `local` (in one process) and `aws` (troupe's AWS mode on local
// Kinesis and DynamoDB servers, against the emulator's ceiling and a hand-written Lambda), which
// adds the requests per message and the cost targets.
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { emit, int, list, machine, median, parseArgs, progress, round, spread, type Args } from './harness.js'
import {
  AWS_BASELINES,
  BASELINES,
  COST_TARGET_SYSTEM,
  COST_TARGETS,
  SUITE_NAMES,
  suiteOf,
  SYSTEMS,
  TARGET_SYSTEM,
  TARGETS,
  type Suite,
} from './systems/index.js'
import { POLL_MS, RECORD_BYTES, SHARDS } from './systems/aws-settings.js'
import type { WorkloadName } from './systems/system.js'
import { isWorkload, WORKLOADS, type Size } from './workloads.js'

const AWS_SYSTEMS = Object.keys(SYSTEMS).filter((s) => suiteOf(s) === 'aws')
const LOCAL_SYSTEMS = Object.keys(SYSTEMS).filter((s) => suiteOf(s) === 'local')
const awsSize = (w: 'W1' | 'W2', q: boolean) => WORKLOADS[w].aws![q ? 'quick' : 'full']

const USAGE = `usage: npm run bench -- [options]        (or: npx tsx bench/run.ts [options])

Runs each system x workload in a fresh child process, R rounds, systems interleaved
(and rotated) within each round. JSON lines on stdout, progress on stderr. Two suites run
one after the other: local (in one process), then aws (local Kinesis and DynamoDB servers).

  --only SUITE       run one suite: local or aws (default: both, local first)
  --reps R           measured rounds (default 5; 2 with --quick)
  --warmup W         warm-up runs inside each child before the measured one (default 1)
  --quick            small sizes for a smoke run (W1 n=50k, W2 1,000 x 20, W3 n=5k, W4 n=1k;
                     aws: W1 n=${awsSize('W1', true).n.toLocaleString('en')}, W2 ${awsSize('W2', true).actors.toLocaleString('en')} x ${awsSize('W2', true).perActor})
  --n N              W1 messages / W3 asks / W4 fork/joins (default 1,000,000 / 100,000 / 20,000)
  --actors A         W2 keyed instances (default 10,000)
  --per-actor M      W2 messages per instance (default 100)
  --fanout F         W4 children per fork (default 10)
  --aws-n N          aws W1 messages (default ${awsSize('W1', false).n.toLocaleString('en')})
  --aws-actors A     aws W2 keys (default ${awsSize('W2', false).actors.toLocaleString('en')})
  --aws-per-actor M  aws W2 messages per key (default ${awsSize('W2', false).perActor}; 1 = all-distinct keys)
  --workloads LIST   comma-separated, default W1,W2,W3,W4 (the aws suite has W1 and W2)
  --systems LIST     comma-separated, default: ${LOCAL_SYSTEMS.join(', ')}
                     (troupe-async and troupe-checked run W1 only, troupe-fork-in-turn
                     and promises W4 only, unless named here); aws: ${AWS_SYSTEMS.join(', ')}
  --timeout S        watchdog per child in seconds (default 180; 60 with --quick)
  --help             this text

workloads:
${Object.values(WORKLOADS).map((w) => `  ${w.name}  ${w.title} (${w.rate})`).join('\n')}

targets (troupe / baseline, ratio of medians): ${Object.entries(TARGETS)
  .map(([w, t]) => Object.entries(t).map(([b, x]) => `${w} >= ${x}x ${b}`).join(', '))
  .join('; ')}

aws suite: troupe-aws (AwsSystem, its shard consumer in the same process), raw-kinesis (the
emulator's ceiling: PutRecords of 500, then GetRecords; no troupe) and hand-lambda (the
baseline: PutRecord per message, GetItem + PutItem per message), all on kinesalite + dynalite
in a server process each child starts (in memory, ${SHARDS} shards, pollMs ${POLL_MS}, ${RECORD_BYTES} B records
for the two references). Reported besides msgs/s: requests per message by kind.
cost targets (${COST_TARGET_SYSTEM}, requests per message, median at most): ${Object.entries(COST_TARGETS)
  .map(([w, t]) => `${w} ${Object.entries(t).map(([m, x]) => `${m} <= ${x}`).join(', ')}`)
  .join('; ')}
`

interface Rep {
  round: number
  system: string
  workload: WorkloadName
  metrics: Record<string, number>
}

const ONE = fileURLToPath(new URL('./one.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const args = parseArgs()
if (args.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const KNOWN = ['help', 'only', 'reps', 'warmup', 'quick', 'n', 'actors', 'per-actor', 'fanout', 'aws-n', 'aws-actors', 'aws-per-actor', 'workloads', 'systems', 'timeout']
for (const k of Object.keys(args)) if (!KNOWN.includes(k)) fail(`unknown option --${k}`)
const quick = args.quick === 'true'
const reps = int(args.reps, quick ? 2 : 5)
const timeoutS = int(args.timeout, quick ? 60 : 180)
const workloads = list(args.workloads, Object.keys(WORKLOADS)).map((w) => w.toUpperCase())
const named = args.systems !== undefined
const systems = list(args.systems, Object.keys(SYSTEMS))
const suites = list(args.only, SUITE_NAMES) as Suite[]
for (const w of workloads) if (!isWorkload(w)) fail(`unknown workload ${w}`)
for (const s of systems) if (!SYSTEMS[s]) fail(`unknown system ${s}; known: ${Object.keys(SYSTEMS).join(', ')}`)
for (const s of suites) if (!SUITE_NAMES.includes(s)) fail(`unknown suite ${s} for --only; known: ${SUITE_NAMES.join(', ')}`)

/** Per suite, which systems run a workload: all named ones of the suite, or each system's defaults. */
type Plan = Map<WorkloadName, string[]>
const plans = new Map<Suite, Plan>()
for (const suite of suites) {
  const plan: Plan = new Map()
  for (const w of workloads as WorkloadName[]) {
    if (suite === 'aws' && !WORKLOADS[w].aws) continue
    const names = systems.filter((s) => suiteOf(s) === suite && (named || SYSTEMS[s]!.defaultWorkloads.includes(w)))
    if (names.length > 0) plan.set(w, names)
  }
  if (plan.size > 0) plans.set(suite, plan)
}
if (plans.size === 0) fail('nothing to run: no system of the chosen suites runs the chosen workloads')

emit({
  phase: 'meta',
  machine: machine(),
  commit: gitCommit(),
  reps,
  warmup: int(args.warmup, 1),
  quick,
  plan: Object.fromEntries(
    [...plans].map(([suite, plan]) => [suite, Object.fromEntries([...plan].map(([w, s]) => [w, { systems: s, size: sizeOf(w, suite) }]))]),
  ),
  ...(plans.has('aws')
    ? {
        aws: {
          servers: 'kinesalite + dynalite via startLocalStack, in memory, in a process of their own started by each child',
          shards: SHARDS,
          poll_ms: POLL_MS,
          record_bytes_references: RECORD_BYTES,
          cost_targets: { system: COST_TARGET_SYSTEM, ...COST_TARGETS },
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
      for (const system of order) {
        const rep = await runChild(r, system, w, suite)
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
      if (w === 'W4') Object.assign(line, { fanout: first.fanout })
      line.rate = spread(mine.map((x) => x.metrics[metric]!))
      for (const k of Object.keys(first)) {
        if (k === metric || k === 'n' || k === 'actors' || k === 'per_actor' || k === 'fanout') continue
        // Requests per message are small fractions: keep four decimals.
        line[k] = spread(mine.map((x) => x.metrics[k]!), k.endsWith('_per_msg') ? 4 : 2)
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
    for (const system of names.filter((s) => s.startsWith('troupe'))) {
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
        const target = system === TARGET_SYSTEM ? TARGETS[w]?.[vs as (typeof BASELINES)[number]] : undefined
        if (target !== undefined) Object.assign(line, { target, met: ratio >= target })
        emit(line)
        const req = suite === 'aws' ? line.cost as Record<string, { x: number | null }> : undefined
        const reqText = req?.requests_per_msg?.x != null ? `, requests/msg ${req.requests_per_msg.x}x` : ''
        progress(`${w} ${system} / ${vs}: ${round(ratio, 3)}x ${metric}${reqText}${target === undefined ? '' : ` (target ${target}x: ${ratio >= target ? 'met' : 'MISSED'})`}`)
      }
    }
  }
}

// Cost targets: requests per message of troupe-aws, median over the reps, at most the target.
const awsPlan = plans.get('aws')
for (const [w, names] of awsPlan ?? []) {
  if (!names.includes(COST_TARGET_SYSTEM)) continue
  const mine = repsOf(w, COST_TARGET_SYSTEM)
  if (mine.length === 0) continue
  for (const [metric, target] of Object.entries(COST_TARGETS[w] ?? {})) {
    const value = med(mine, metric)
    const worst = Math.max(...mine.map((x) => x.metrics[metric]!))
    const met = value <= target
    emit({
      phase: 'target',
      suite: 'aws',
      workload: w,
      system: COST_TARGET_SYSTEM,
      n: mine[0]!.metrics.n,
      metric,
      target,
      median: value,
      worst,
      reps: mine.length,
      target_met: met,
      ...(met ? {} : { over_by_x: round(value / target, 2) }),
    })
    progress(`${w} ${COST_TARGET_SYSTEM} ${metric}: ${value} (target <= ${target}: ${met ? 'met' : `MISSED, ${round(value / target, 2)}x the target`})`)
  }
}
process.exit(errors === 0 ? 0 : 1)

// ── helpers ──────────────────────────────────────────────────────────────

/** The size options of a suite: `--n` etc. for local, `--aws-n` etc. for aws. */
function optionOf(suite: Suite, k: string): string {
  return suite === 'aws' && k !== 'fanout' ? `aws-${k}` : k
}

function sizeOf(w: WorkloadName, suite: Suite): Size {
  const sizes = suite === 'aws' ? (WORKLOADS[w].aws ?? WORKLOADS[w]) : WORKLOADS[w]
  const preset = quick ? sizes.quick : sizes.full
  return {
    n: int(args[optionOf(suite, 'n')], preset.n),
    actors: int(args[optionOf(suite, 'actors')], preset.actors),
    perActor: int(args[optionOf(suite, 'per-actor')], preset.perActor),
    fanout: int(args.fanout, preset.fanout),
  }
}

function childArgs(system: string, w: WorkloadName, suite: Suite, a: Args): string[] {
  const out = ['--system', system, '--workload', w, '--timeout', String(timeoutS)]
  for (const k of ['n', 'actors', 'per-actor', 'fanout']) if (a[optionOf(suite, k)] !== undefined) out.push(`--${k}`, a[optionOf(suite, k)]!)
  if (a.warmup !== undefined) out.push('--warmup', a.warmup)
  if (quick) out.push('--quick')
  return out
}

/** Runs one child; emits and returns its rep, or emits the error and returns undefined. */
function runChild(r: number, system: string, w: WorkloadName, suite: Suite): Promise<Rep | undefined> {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ONE, ...childArgs(system, w, suite, args)], {
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
        resolve({ round: r, system, workload: w, metrics })
        return
      }
      const skipped = lines.find((l) => l.phase === 'skip')
      const reported = lines.find((l) => l.phase === 'error')
      const error = skipped?.reason ?? reported?.error ?? `child exited with ${signal ?? `code ${code}`} after ${secs}s and no result`
      emit({ phase: skipped ? 'skip' : 'error', suite, round: r, workload: w, system, error })
      progress(`[round ${r}/${reps}] ${w} ${system}: ${skipped ? 'skipped' : 'ERROR'}: ${String(error).split('\n')[0]}`)
      resolve(undefined)
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
