// Two in-process systems measured in one process, block for block: each block runs the workload
// once on each system (A then B, then B then A in the next block), and the ratio is taken block
// by block. On a machine whose memory speed drifts (bench/README.md, "Paired blocks"), both
// systems of a block run in the same conditions and the same heap, so the ratio is the code's,
// where rounds in separate processes compare whichever speed each process happened to get.
//   node --expose-gc --import tsx bench/paired.ts --workload W4 --systems troupe,comedy
import { emit, gc, int, list, machine, median, parseArgs, percentile, progress, round } from './harness.js'
import { suiteOf, SYSTEMS } from './systems/index.js'
import type { BenchSystem } from './systems/system.js'
import { isWorkload, WORKLOADS, type Size, type WorkloadSpec } from './workloads.js'

const HELP = `usage: node --expose-gc --import tsx bench/paired.ts --workload W --systems A,B [options]

Runs workload W on systems A and B in this one process, in alternating blocks, and prints
JSON lines: one per block and system, then a summary with the median of A's figure over B's,
block by block, and its spread, for the rate (above 1: A is faster) and the latency's p50 and
p99 (below 1: A is faster). In-process systems, and the workloads that hold one ask or one
fork/join at a time (W3, W4): W1, W2 and W7 queue a block's messages or make its instances
at once, their rates depend on how much of that the young generation holds, and in one heap
each system's collections carry the other's survivors (W2 paired gives troupe 0.8x nact;
each alone in its own process, 1.3x).

  --workload W       W3 | W4
  --systems A,B      two systems of bench/systems/index.ts (the ratio is A's rate / B's)
  --blocks K         measured blocks (default 30)
  --warmup K         blocks run first and not counted (default 4)
  --n N              asks or joins a block (default a tenth of the full run's)
  --help             this text

troupe's systems load the compiled package (dist/): run \`npm run build\` first, as \`npm run bench\` does.`

const args = parseArgs()
if (args.help === 'true') {
  console.log(HELP)
  process.exit(0)
}
const workload = (args.workload ?? '').toUpperCase()
const names = list(args.systems, [])
/** Workloads whose systems hold nothing between asks or joins (see HELP). */
const PAIRED = ['W3', 'W4']
const unknown = names.find((s) => !SYSTEMS[s] || suiteOf(s) !== 'local')
const wrong = !PAIRED.includes(workload)
  ? `--workload ${JSON.stringify(args.workload ?? '')}: one of ${PAIRED.join(', ')}`
  : names.length !== 2
    ? `--systems ${JSON.stringify(args.systems ?? '')}: two systems, A,B`
    : unknown !== undefined
      ? `--systems: ${unknown} is not an in-process system; those are ${Object.keys(SYSTEMS).filter((s) => suiteOf(s) === 'local').join(', ')}`
      : undefined
if (wrong !== undefined || !isWorkload(workload)) {
  progress(`bench/paired.ts: ${wrong}\n\n${HELP}`)
  process.exit(2)
}
const spec = WORKLOADS[workload]
const full = spec.full
const size: Size = { ...full, n: int(args.n, Math.max(1, Math.floor(full.n / 10))) }
const blocks = int(args.blocks, 30)
const warmups = int(args.warmup, 4)

const systems: BenchSystem[] = []
for (const name of names) systems.push(await SYSTEMS[name]!.load())
// Each system runs the workload through a copy of its module of its own: a call site shared by
// both (W4's `h.forkJoin`) would see two systems' functions, and V8 would optimize it for
// neither as it does for one.
const runs: WorkloadSpec['run'][] = []
for (const name of names) runs.push(((await import(`./workloads.js?system=${name}`)) as typeof import('./workloads.js')).WORKLOADS[workload].run)
const missing = names.find((_, i) => systems[i]![workload as 'W3' | 'W4'] === undefined)
if (missing !== undefined) {
  progress(`${workload}: ${missing} has no adapter for it`)
  process.exit(2)
}

/** The figures a block compares: the rate, and the latency's p50 and p99. */
const FIGURES = [spec.rate, 'p50_us', 'p99_us']
type Figures = Record<string, number>

async function block(i: number): Promise<Figures> {
  const out = await runs[i]!(systems[i]!, size)
  return Object.fromEntries(FIGURES.map((f) => [f, out[f]!])) as Figures
}

emit({ phase: 'machine', ...machine() })
gc()
const got: [Figures[], Figures[]] = [[], []]
for (let k = -warmups; k < blocks; k++) {
  // A then B in even blocks, B then A in odd ones: neither always runs first.
  const order = k % 2 === 0 ? [0, 1] : [1, 0]
  const pair: Figures[] = []
  for (const i of order) pair[i] = await block(i)
  if (k < 0) continue
  for (const i of [0, 1]) {
    got[i]!.push(pair[i]!)
    emit({ phase: 'block', workload, system: names[i], block: k + 1, n: size.n, ...pair[i] })
  }
}

/** Median and spread of A's figure over B's, block by block. */
function ratioOf(figure: string): Record<string, number> {
  const sorted = got[0].map((a, k) => a[figure]! / got[1][k]![figure]!).sort((x, y) => x - y)
  return { median: round(median(sorted), 3), p25: round(percentile(sorted, 25), 3), p75: round(percentile(sorted, 75), 3), min: round(sorted[0]!, 3), max: round(sorted[sorted.length - 1]!, 3) }
}
const medians = (i: number) => Object.fromEntries(FIGURES.map((f) => [f, round(median(got[i]!.map((g) => g[f]!)), 2)]))
const ratios = Object.fromEntries(FIGURES.map((f) => [f, ratioOf(f)]))
emit({ phase: 'paired', workload, systems: names, blocks, n: size.n, [names[0]!]: medians(0), [names[1]!]: medians(1), ratios })
const r = ratios[spec.rate]!
progress(
  `${workload} ${names[0]} / ${names[1]}, median of ${blocks} blocks: ${r.median}x ${spec.rate} (p25–p75 ${r.p25}–${r.p75}), ` +
    `p50 ${ratios.p50_us!.median}x, p99 ${ratios.p99_us!.median}x`,
)
await Promise.all(systems.map((s) => s.close?.()))
process.exit(0)
