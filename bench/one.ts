// One system x one workload in this process: warm-up runs, then one measured run.
// bench/run.ts starts one of these per measurement (fresh heap and JIT); run by hand with
//   node --expose-gc --import tsx bench/one.ts --system troupe --workload W1 [--n 1e6] [--warmup 1] [--quick]
//   node --expose-gc --import tsx bench/one.ts --system troupe --workload W4 [--n 2e4] [--fanout 10]
import { emit, gc, int, parseArgs, progress } from './harness.js'
import { sizeSuiteOf, SYSTEMS } from './systems/index.js'
import type { BenchSystem } from './systems/system.js'
import { isWorkload, suiteSizes, warmupSize, WORKLOADS, type KeptHandle, type Size } from './workloads.js'

const args = parseArgs()
const systemName = args.system ?? ''
const workload = (args.workload ?? '').toUpperCase()
const entry = SYSTEMS[systemName]
if (!entry || !isWorkload(workload)) {
  progress(`usage: node --expose-gc --import tsx bench/one.ts --system ${Object.keys(SYSTEMS).join('|')} --workload ${Object.keys(WORKLOADS).join('|')} [--n N] [--actors A] [--per-actor M] [--fanout F] [--warmup W] [--quick] [--timeout S]`)
  process.exit(2)
}
const spec = WORKLOADS[workload]
// The AWS systems run their own sizes (local servers take seconds for what runs in ms in-process);
// a system sized as another suite for a workload (`sizedAs`) runs that suite's.
const sizes = suiteSizes(spec, sizeSuiteOf(systemName, workload))
const preset = args.quick === 'true' ? sizes.quick : sizes.full
const size: Size = {
  n: int(args.n, preset.n),
  actors: int(args.actors, preset.actors),
  perActor: int(args['per-actor'], preset.perActor),
  fanout: int(args.fanout, preset.fanout),
}
const warmups = int(args.warmup, 1)
const timeoutS = int(args.timeout, 120)
const base = { system: systemName, workload }

// The parent kills a child that overruns; this one says why first.
setTimeout(() => {
  emit({ ...base, phase: 'error', error: `watchdog: still running after ${timeoutS}s` })
  process.exit(3)
}, timeoutS * 1000).unref()

let sys: BenchSystem | undefined
try {
  sys = await entry.load()
  // W2D runs the W2 adapter with one message per key; W4S the W4 adapter with a fork of 2.
  if (!sys[workload === 'W2D' ? 'W2' : workload === 'W4S' ? 'W4' : workload]) {
    emit({ ...base, phase: 'skip', reason: `${sys.name} has no ${workload} adapter` })
    await sys.close?.()
    process.exit(0)
  }
  const kept: KeptHandle | undefined = spec.warmsItsSystem ? {} : undefined
  for (let w = 1; w <= (spec.once ? 0 : warmups); w++) {
    gc()
    emit({ ...base, phase: 'warmup', warmup: w, ...(await spec.run(sys, warmupSize(size), kept)) })
  }
  gc()
  emit({ ...base, phase: 'rep', ...(await spec.run(sys, size, kept)), notes: sys.notes[workload] ?? (workload === 'W2D' ? sys.notes.W2 : workload === 'W4S' ? sys.notes.W4 : undefined) ?? null })
  await kept?.handle?.teardown()
  await sys.close?.()
} catch (error) {
  emit({ ...base, phase: 'error', error: String((error as Error)?.stack ?? error).slice(0, 2000) })
  await sys?.close?.().catch(() => {})
  process.exit(1)
}
process.exit(0)
