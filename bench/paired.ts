// Two in-process systems measured in one process, block for block: each block runs the workload
// once on each system (A then B, then B then A in the next block), and the ratio is taken block
// by block. On a machine whose memory speed drifts (bench/README.md, "Paired blocks"), both
// systems of a block run at the same speed and in the same heap, so the ratio depends far less on
// which speed a process got than a ratio of rounds run in separate processes does.
//   node --expose-gc --import tsx bench/paired.ts --workload W4 --systems troupe,comedy
import { emit, gc, int, list, machine, median, parseArgs, percentile, progress, round } from './harness.js'
import { suiteOf, SYSTEMS } from './systems/index.js'
import type { BenchSystem } from './systems/system.js'
import { WORKLOADS, type Size, type WorkloadSpec } from './workloads.js'

/** Workloads that hold one ask or one fork/join at a time (bench/README.md says why only these). */
const PAIRED = ['W3', 'W4'] as const
type Paired = (typeof PAIRED)[number]
const LOCAL = Object.keys(SYSTEMS).filter((s) => suiteOf(s) === 'local')

const USAGE = `usage: node --expose-gc --import tsx bench/paired.ts --workload W --systems A,B [options]

Runs workload W on systems A and B in this one process, in alternating blocks (A then B, then
B then A), and compares them block by block. JSON lines on stdout: \`machine\`, one \`block\`
line per block and system, then \`paired\`: each system's medians and the median, p25–p75 and
min–max of A's figure over B's for the rate (above 1: A is faster) and the latency's p50 and
p99 (below 1: A is faster). The summary goes to stderr too.

  --workload W       ${PAIRED.join(' | ')} (the workloads that hold one ask or one fork/join at a time)
  --systems A,B      two in-process systems (the same one twice checks the method):
                     ${LOCAL.join(', ')}
  --blocks K         measured blocks (default 30)
  --warmup K         blocks run first and not counted (default 4)
  --n N              asks or joins a block (default a tenth of the full run's: W3 10,000, W4 2,000)
  --help             this text

troupe's systems load the compiled package (dist/): run \`npm run build\` first, as \`npm run bench\` does.`

function fail(message: string): never {
  progress(`bench/paired.ts: ${message}\n\n${USAGE}`)
  process.exit(2)
}

const args = parseArgs()
if (args.help === 'true') {
  console.log(USAGE)
  process.exit(0)
}
const KNOWN = ['help', 'workload', 'systems', 'blocks', 'warmup', 'n']
for (const k of Object.keys(args)) if (!KNOWN.includes(k)) fail(`unknown option --${k}`)
const workload = (args.workload ?? '').toUpperCase() as Paired
if (!PAIRED.includes(workload)) fail(`--workload ${JSON.stringify(args.workload ?? '')}: one of ${PAIRED.join(', ')}`)
const names = list(args.systems, [])
if (names.length !== 2) fail(`--systems ${JSON.stringify(args.systems ?? '')}: two systems, A,B`)
for (const s of names) if (!LOCAL.includes(s)) fail(`--systems: ${s} is not an in-process system`)
const spec = WORKLOADS[workload]
const size: Size = { ...spec.full, n: int(args.n, Math.floor(spec.full.n / 10)) }
const blocks = int(args.blocks, 30)
const warmups = int(args.warmup, 4)
if (size.n < 1 || blocks < 1) fail('--n and --blocks: 1 or more')

const systems: BenchSystem[] = []
for (const name of names) systems.push(await SYSTEMS[name]!.load())
for (const [i, sys] of systems.entries()) if (sys[workload] === undefined) fail(`${names[i]} has no ${workload} adapter`)
// Each side runs the workload through a copy of its module of its own (one URL each): a call
// site of the workload's code shared by both (W4's `h.forkJoin`) would see two systems'
// functions, and V8 would optimize it for neither as it does for one.
const runs: WorkloadSpec['run'][] = []
for (const i of [0, 1]) runs.push(((await import(`./workloads.js?side=${i}`)) as typeof import('./workloads.js')).WORKLOADS[workload].run)

/** The figures a block compares: the rate, and the latency's p50 and p99. */
const FIGURES = [spec.rate, 'p50_us', 'p99_us']
type Figures = Record<string, number>

async function block(i: number): Promise<Figures> {
  const out = await runs[i]!(systems[i]!, size)
  return Object.fromEntries(FIGURES.map((f) => [f, out[f]!]))
}

emit({ phase: 'machine', ...machine() })
// One collection before the first block, none between blocks: a collection forced before each
// would drop optimized code and slow the joins after it (bench/README.md, W4's p99), in the
// one system that ran next. Each block's scavenges take what either system left.
gc()
const got: [Figures[], Figures[]] = [[], []]
try {
  for (let k = -warmups; k < blocks; k++) {
    // A first in the measured blocks 1, 3, 5…, B first in 2, 4, 6…
    const order = k % 2 === 0 ? [0, 1] : [1, 0]
    const pair: Figures[] = []
    for (const i of order) pair[i] = await block(i)
    if (k < 0) continue
    for (const i of [0, 1]) {
      got[i]!.push(pair[i]!)
      emit({ phase: 'block', workload, system: names[i], side: i === 0 ? 'A' : 'B', block: k + 1, first: names[order[0]!], n: size.n, ...pair[i] })
    }
  }
} catch (error) {
  emit({ phase: 'error', workload, systems: names, error: String((error as Error)?.stack ?? error).slice(0, 2000) })
  await Promise.all(systems.map((s) => s.close?.().catch(() => {})))
  process.exit(1)
}

/** Median and spread of A's figure over B's, block by block. */
function ratioOf(figure: string): Record<string, number> {
  const sorted = got[0].map((a, k) => a[figure]! / got[1][k]![figure]!).sort((x, y) => x - y)
  return { median: round(median(sorted), 3), p25: round(percentile(sorted, 25), 3), p75: round(percentile(sorted, 75), 3), min: round(sorted[0]!, 3), max: round(sorted[sorted.length - 1]!, 3) }
}
const medians = (i: number) => Object.fromEntries(FIGURES.map((f) => [f, round(median(got[i]!.map((g) => g[f]!)), 2)]))
const ratios = Object.fromEntries(FIGURES.map((f) => [f, ratioOf(f)]))
emit({ phase: 'paired', workload, systems: names, blocks, n: size.n, a: medians(0), b: medians(1), ratios })
const r = ratios[spec.rate]!
progress(
  `${workload} ${names[0]} / ${names[1]}, median of ${blocks} blocks: ${r.median}x ${spec.rate} (p25–p75 ${r.p25}–${r.p75}), ` +
    `p50 ${ratios.p50_us!.median}x, p99 ${ratios.p99_us!.median}x`,
)
await Promise.all(systems.map((s) => s.close?.()))
process.exit(0)
