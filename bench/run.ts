// The benchmark driver: every system x workload in a fresh child process (bench/one.ts), systems
// interleaved within each round so drift on a noisy machine hits them alike. JSON lines on stdout:
// meta, one rep line per child, a summary per system x workload, then troupe's ratios to the baselines.
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { emit, int, list, machine, median, parseArgs, progress, round, spread, type Args } from './harness.js'
import { BASELINES, SYSTEMS, TARGET_SYSTEM, TARGETS } from './systems/index.js'
import type { WorkloadName } from './systems/system.js'
import { isWorkload, WORKLOADS, type Size } from './workloads.js'

const USAGE = `usage: npm run bench -- [options]        (or: npx tsx bench/run.ts [options])

Runs each system x workload in a fresh child process, R rounds, systems interleaved
(and rotated) within each round. JSON lines on stdout, progress on stderr.

  --reps R           measured rounds (default 5; 2 with --quick)
  --warmup W         warm-up runs inside each child before the measured one (default 1)
  --quick            small sizes for a smoke run (W1 n=50k, W2 1,000 x 20, W3 n=5k, W4 n=1k)
  --n N              W1 messages / W3 asks / W4 fork/joins (default 1,000,000 / 100,000 / 20,000)
  --actors A         W2 keyed instances (default 10,000)
  --per-actor M      W2 messages per instance (default 100)
  --fanout F         W4 children per fork (default 10)
  --workloads LIST   comma-separated, default W1,W2,W3,W4
  --systems LIST     comma-separated, default: ${Object.keys(SYSTEMS).join(', ')}
                     (troupe-async and troupe-checked run W1 only, troupe-fork-in-turn
                     and promises W4 only, unless named here)
  --timeout S        watchdog per child in seconds (default 180; 60 with --quick)
  --help             this text

workloads:
${Object.values(WORKLOADS).map((w) => `  ${w.name}  ${w.title} (${w.rate})`).join('\n')}

targets (troupe / baseline, ratio of medians): ${Object.entries(TARGETS)
  .map(([w, t]) => Object.entries(t).map(([b, x]) => `${w} >= ${x}x ${b}`).join(', '))
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
const KNOWN = ['help', 'reps', 'warmup', 'quick', 'n', 'actors', 'per-actor', 'fanout', 'workloads', 'systems', 'timeout']
for (const k of Object.keys(args)) if (!KNOWN.includes(k)) fail(`unknown option --${k}`)
const quick = args.quick === 'true'
const reps = int(args.reps, quick ? 2 : 5)
const timeoutS = int(args.timeout, quick ? 60 : 180)
const workloads = list(args.workloads, Object.keys(WORKLOADS)).map((w) => w.toUpperCase())
const named = args.systems !== undefined
const systems = list(args.systems, Object.keys(SYSTEMS))
for (const w of workloads) if (!isWorkload(w)) fail(`unknown workload ${w}`)
for (const s of systems) if (!SYSTEMS[s]) fail(`unknown system ${s}; known: ${Object.keys(SYSTEMS).join(', ')}`)

/** Which systems run a workload: all named ones, or each system's defaults. */
const plan = new Map<WorkloadName, string[]>()
for (const w of workloads as WorkloadName[]) {
  plan.set(w, systems.filter((s) => named || SYSTEMS[s]!.defaultWorkloads.includes(w)))
}

emit({
  phase: 'meta',
  machine: machine(),
  commit: gitCommit(),
  reps,
  warmup: int(args.warmup, 1),
  quick,
  plan: Object.fromEntries([...plan].map(([w, s]) => [w, { systems: s, size: sizeOf(w) }])),
})

const results: Rep[] = []
let errors = 0
for (let r = 1; r <= reps; r++) {
  for (const [w, names] of plan) {
    // Rotate the order each round, so no system always runs first (or right after the heaviest one).
    const order = names.map((_, i) => names[(i + r - 1) % names.length]!)
    for (const system of order) {
      const rep = await runChild(r, system, w)
      if (rep) results.push(rep)
      else errors++
    }
  }
}

for (const [w, names] of plan) {
  for (const system of names) {
    const mine = results.filter((x) => x.workload === w && x.system === system)
    if (mine.length === 0) continue
    const metric = WORKLOADS[w].rate
    const first = mine[0]!.metrics
    const line: Record<string, unknown> = { phase: 'summary', workload: w, system, n: first.n, reps: mine.length, metric }
    if (w === 'W2') Object.assign(line, { actors: first.actors, per_actor: first.per_actor })
    if (w === 'W4') Object.assign(line, { fanout: first.fanout })
    line.rate = spread(mine.map((x) => x.metrics[metric]!))
    for (const k of Object.keys(first)) {
      if (k === metric || k === 'n' || k === 'actors' || k === 'per_actor' || k === 'fanout') continue
      line[k] = spread(mine.map((x) => x.metrics[k]!))
    }
    emit(line)
  }
}

for (const [w, names] of plan) {
  const metric = WORKLOADS[w].rate
  for (const system of names.filter((s) => s.startsWith('troupe'))) {
    for (const vs of BASELINES) {
      if (!names.includes(vs)) continue
      const ours = results.filter((x) => x.workload === w && x.system === system)
      const theirs = results.filter((x) => x.workload === w && x.system === vs)
      if (ours.length === 0 || theirs.length === 0) continue
      const rate = (xs: Rep[]) => median(xs.map((x) => x.metrics[metric]!))
      const ratio = rate(ours) / rate(theirs)
      const perRound = ours.flatMap((o) => {
        const t = theirs.find((x) => x.round === o.round)
        return t ? [o.metrics[metric]! / t.metrics[metric]!] : []
      })
      const line: Record<string, unknown> = {
        phase: 'ratio',
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
        const lat = (xs: Rep[]) => median(xs.map((x) => x.metrics[p]!))
        line[`${p.slice(0, 3)}_x`] = round(lat(ours) / lat(theirs), 2)
      }
      const target = system === TARGET_SYSTEM ? TARGETS[w]?.[vs] : undefined
      if (target !== undefined) Object.assign(line, { target, met: ratio >= target })
      emit(line)
      progress(`${w} ${system} / ${vs}: ${round(ratio, 3)}x${target === undefined ? '' : ` (target ${target}x: ${ratio >= target ? 'met' : 'MISSED'})`}`)
    }
  }
}
process.exit(errors === 0 ? 0 : 1)

// ── helpers ──────────────────────────────────────────────────────────────

function sizeOf(w: WorkloadName): Size {
  const preset = quick ? WORKLOADS[w].quick : WORKLOADS[w].full
  return {
    n: int(args.n, preset.n),
    actors: int(args.actors, preset.actors),
    perActor: int(args['per-actor'], preset.perActor),
    fanout: int(args.fanout, preset.fanout),
  }
}

function childArgs(system: string, w: WorkloadName, a: Args): string[] {
  const out = ['--system', system, '--workload', w, '--timeout', String(timeoutS)]
  for (const k of ['n', 'actors', 'per-actor', 'fanout', 'warmup']) if (a[k] !== undefined) out.push(`--${k}`, a[k]!)
  if (quick) out.push('--quick')
  return out
}

/** Runs one child; emits and returns its rep, or emits the error and returns undefined. */
function runChild(r: number, system: string, w: WorkloadName): Promise<Rep | undefined> {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ONE, ...childArgs(system, w, args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
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
        emit({ phase: 'rep', round: r, workload: w, system, ...metrics, notes })
        const metric = WORKLOADS[w].rate
        progress(`[round ${r}/${reps}] ${w} ${system}: ${metrics[metric]?.toLocaleString('en')} ${metric} (${secs}s)`)
        resolve({ round: r, system, workload: w, metrics })
        return
      }
      const skipped = lines.find((l) => l.phase === 'skip')
      const reported = lines.find((l) => l.phase === 'error')
      const error = skipped?.reason ?? reported?.error ?? `child exited with ${signal ?? `code ${code}`} after ${secs}s and no result`
      emit({ phase: skipped ? 'skip' : 'error', round: r, workload: w, system, error })
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
