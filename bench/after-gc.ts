// W4 around a full collection, timed by tenths: what the first fork/joins after one cost. The
// harness (one.ts) stops its warm-up system and collects it before the measured run, so the
// measured system starts on code V8 compiles again; a process that runs one system for its life
// meets full collections too (V8's memory reducer runs them on an idle process), with the system
// alive. One JSON line per run.
//   node --expose-gc --import tsx bench/after-gc.ts --system troupe --mode same
//     --mode same    one system: warm-up, full collection, measured run (a long-lived process)
//     --mode fresh   a warm-up system, stopped; a new system made; full collection; the new one measured
//     --mode nogc    as fresh, with no collection between
//     --mode harness one.ts's order: the warm-up system stopped and collected before the measured one is made
import { emit, gc, int, nowNs, parseArgs, progress } from './harness.js'
import { SYSTEMS } from './systems/index.js'

const args = parseArgs()
const name = args.system ?? ''
const mode = args.mode ?? 'same'
const entry = SYSTEMS[name]
if (!entry || !['same', 'fresh', 'nogc', 'harness'].includes(mode)) {
  progress(`usage: node --expose-gc --import tsx bench/after-gc.ts --system ${Object.keys(SYSTEMS).join('|')} [--mode same|fresh|nogc|harness] [--n 20000] [--fanout 10]`)
  process.exit(2)
}
const n = int(args.n, 20_000)
const fanout = int(args.fanout, 10)
const sys = await entry.load()
if (!sys.W4) {
  progress(`${name} has no W4 adapter`)
  process.exit(2)
}

type Handle = Awaited<ReturnType<NonNullable<typeof sys.W4>>>
const warm = await sys.W4(fanout)
const base = (fanout * (fanout - 1)) / 2

/** `count` fork/joins from `from` on `h`; the ms of each tenth, and the p99 in µs. */
async function run(h: Handle, from: number, count: number): Promise<{ ms: number; tenths: number[]; slow: number[]; p99_us: number }> {
  const lat = new Float64Array(count)
  const tenths: number[] = []
  // Joins over 30 µs in each tenth: where the p99 comes from.
  const slow: number[] = []
  let slowInTenth = 0
  const t0 = nowNs()
  let last = t0
  for (let i = 0; i < count; i++) {
    const s = nowNs()
    const sum = await h.forkJoin(from + i)
    lat[i] = Number(nowNs() - s)
    if (lat[i]! > 30_000) slowInTenth++
    if (sum !== fanout * (from + i) + base) throw new Error(`W4: fork/join ${from + i} summed ${sum}`)
    if ((i + 1) % (count / 10) === 0) {
      const t = nowNs()
      tenths.push(Math.round(Number(t - last) / 1e5) / 10)
      slow.push(slowInTenth)
      slowInTenth = 0
      last = t
    }
  }
  lat.sort()
  return { ms: Math.round(Number(nowNs() - t0) / 1e5) / 10, tenths, slow, p99_us: Math.round(lat[Math.floor(count * 0.99)]! / 100) / 10 }
}

await run(warm, 0, n / 5)
let measured = warm
if (mode === 'harness') {
  await warm.teardown()
  gc()
  measured = await sys.W4(fanout)
} else {
  if (mode !== 'same') {
    await warm.teardown()
    measured = await sys.W4(fanout)
  }
  if (mode !== 'nogc') gc()
}
const result = await run(measured, mode === 'same' ? n / 5 : 0, n)
await measured.teardown()
emit({ system: name, workload: 'W4', mode, n, fanout, ...result })
process.exit(0)
