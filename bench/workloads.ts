// The workloads: the same work for every system, timed the same way. Each returns one rep's metrics.
import { gc, GcWatch, latencySummary, msSince, nowNs, round, watchingGc } from './harness.js'
import type { Suite } from './systems/index.js'
import type { BenchSystem, ForkJoinHandle, WorkloadName } from './systems/system.js'

export interface Size {
  /** W1, W7: messages; W3: asks; W4: fork/joins. */
  n: number
  /** W2: keyed instances; W7: keys in the one singleton's state. */
  actors: number
  /** W2: messages per instance. */
  perActor: number
  /** W4: children per fork. */
  fanout: number
}

export interface WorkloadSpec {
  name: WorkloadName
  title: string
  /** The metric compared across systems (higher is better). */
  rate: string
  full: Size
  quick: Size
  /** The suites that run it. */
  suites: readonly Suite[]
  /** Sizes for the AWS systems (local Kinesis and DynamoDB servers), when the workload has them. */
  aws?: { full: Size; quick: Size }
  /** Sizes for Restate (a durable server: hundreds of messages a second, not millions). */
  restate?: { full: Size; quick: Size }
  /** Measured once per run, not once per round: it repeats inside its child (W6: n fresh processes). */
  once?: boolean
  /**
   * The warm-up runs on the system it measures, as in a process that runs one system for its life
   * (an API server, a Lambda environment): one.ts makes the handle once (`kept`) and tears it down
   * after the measured run. Only where a run leaves nothing the next one meets (W4's fork/joins
   * are each done when they return). Otherwise every run makes a system of its own.
   */
  warmsItsSystem?: boolean
  run(sys: BenchSystem, size: Size, kept?: KeptHandle): Promise<Record<string, number>>
}

/** A handle kept across the runs of one process (WorkloadSpec.warmsItsSystem). */
export interface KeptHandle {
  handle?: { teardown(): unknown }
}

/** W1: one producer sends n fire-and-forget { by: 1 } to one counter; timed until the n-th is processed. */
async function tell(sys: BenchSystem, { n }: Size): Promise<Record<string, number>> {
  const h = await sys.W1!(n)
  const t0 = nowNs()
  for (let i = 0; i < n; i++) h.send(1)
  const sendMs = msSince(t0)
  await h.done()
  const ms = msSince(t0)
  const count = await h.count()
  if (count !== n) throw new Error(`W1: counted ${count}, sent ${n}`)
  const extra = (await h.metrics?.()) ?? {}
  await h.teardown()
  return { n, ms: round(ms), send_loop_ms: round(sendMs), msgs_per_s: Math.round(n / (ms / 1000)), ...extra }
}

/** W2: `actors` keyed counters, `perActor` messages each, sent round-robin; timed until every counter is done. */
async function many(sys: BenchSystem, { actors, perActor }: Size): Promise<Record<string, number>> {
  const keys = Array.from({ length: actors }, (_, i) => `key-${i}`)
  gc()
  const heap0 = process.memoryUsage().heapUsed
  const ts = nowNs()
  const h = await sys.W2!(keys, perActor)
  const setupMs = msSince(ts)
  const n = actors * perActor
  const t0 = nowNs()
  for (let m = 0; m < perActor; m++) for (let k = 0; k < actors; k++) h.send(keys[k]!, 1)
  await h.done()
  const ms = msSince(t0)
  // Heap still held once every instance exists and its mailbox is empty, per instance.
  gc()
  const heapPerActor = Math.round((process.memoryUsage().heapUsed - heap0) / actors)
  const total = await h.total()
  if (total !== n) throw new Error(`W2: counted ${total}, sent ${n}`)
  const extra = (await h.metrics?.()) ?? {}
  await h.teardown()
  return {
    n,
    actors,
    per_actor: perActor,
    setup_ms: round(setupMs),
    ms: round(ms),
    msgs_per_s: Math.round(n / (ms / 1000)),
    heap_bytes_per_actor: heapPerActor,
    ...extra,
  }
}

/** W3: n sequential asks; each reply is the counter's value. */
async function ask(sys: BenchSystem, { n }: Size): Promise<Record<string, number>> {
  const h = await sys.W3!()
  const lat = new Float64Array(n)
  let reply = 0
  const t0 = nowNs()
  const gcs = watchingGc() ? new GcWatch(t0, n) : undefined
  for (let i = 0; i < n; i++) {
    const s = nowNs()
    reply = await h.ask()
    lat[i] = Number(nowNs() - s)
    gcs?.started(i, s)
  }
  const ms = msSince(t0)
  const collected = (await gcs?.summary(lat)) ?? {}
  if (reply !== n) throw new Error(`W3: last reply ${reply}, asked ${n} times`)
  await h.teardown()
  return { n, ms: round(ms), asks_per_s: Math.round(n / (ms / 1000)), ...latencySummary(lat), ...collected }
}

/**
 * W4: n sequential fork/joins of `fanout` children; child j replies x + j, the join sums.
 * Each is awaited before the next starts, so the rate is 1 / latency.
 */
async function forkJoin(sys: BenchSystem, { n, fanout }: Size, kept?: KeptHandle): Promise<Record<string, number>> {
  const h = (kept?.handle as ForkJoinHandle | undefined) ?? (await sys.W4!(fanout))
  if (kept) kept.handle = h
  const base = (fanout * (fanout - 1)) / 2
  const lat = new Float64Array(n)
  const t0 = nowNs()
  const gcs = watchingGc() ? new GcWatch(t0, n) : undefined
  for (let i = 0; i < n; i++) {
    const s = nowNs()
    const sum = await h.forkJoin(i)
    lat[i] = Number(nowNs() - s)
    gcs?.started(i, s)
    if (sum !== fanout * i + base) throw new Error(`W4: fork/join ${i} summed ${sum}, want ${fanout * i + base}`)
  }
  const ms = msSince(t0)
  const collected = (await gcs?.summary(lat)) ?? {}
  const extra = (await h.metrics?.()) ?? {}
  if (!kept) await h.teardown()
  return { n, fanout, ms: round(ms), joins_per_s: Math.round(n / (ms / 1000)), ...latencySummary(lat), ...collected, ...extra }
}

/** W4S: sagas in flight at once, as a busy service has them (the cost of one is what matters, not its latency alone). */
const SAGAS_IN_FLIGHT = 50

/**
 * W4S: n sagas, each a fork of `fanout` children and a join that sums their replies, up to
 * {@link SAGAS_IN_FLIGHT} at once; the rate is sagas done per second, the latency each saga's.
 */
async function sagas(sys: BenchSystem, { n, fanout }: Size): Promise<Record<string, number>> {
  const h = await sys.W4!(fanout)
  const base = (fanout * (fanout - 1)) / 2
  const lat = new Float64Array(n)
  let next = 0
  const t0 = nowNs()
  const worker = async () => {
    while (next < n) {
      const i = next++
      const s = nowNs()
      const sum = await h.forkJoin(i)
      lat[i] = Number(nowNs() - s)
      if (sum !== fanout * i + base) throw new Error(`W4S: saga ${i} summed ${sum}, want ${fanout * i + base}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(SAGAS_IN_FLIGHT, n) }, worker))
  const ms = msSince(t0)
  const extra = (await h.metrics?.()) ?? {}
  await h.teardown()
  return { n, fanout, in_flight: Math.min(SAGAS_IN_FLIGHT, n), ms: round(ms), joins_per_s: Math.round(n / (ms / 1000)), ...latencySummary(lat), ...extra }
}

/**
 * W7: one singleton whose state holds `actors` keys (a Map); n messages, each adds to one key
 * (spread over all of them); timed until the n-th is processed. What a turn costs when it touches
 * one key of a large state: a state copied per turn makes every turn cost the whole state.
 */
async function bigState(sys: BenchSystem, { n, actors }: Size): Promise<Record<string, number>> {
  const keys = Array.from({ length: actors }, (_, i) => `key-${i}`)
  const ts = nowNs()
  const h = await sys.W7!(keys, n)
  const setupMs = msSince(ts)
  const t0 = nowNs()
  const cpu0 = process.cpuUsage()
  // 7919 is prime and shares no factor with the key counts used: successive messages hit keys far apart.
  for (let i = 0; i < n; i++) h.send(keys[(i * 7919) % actors]!, 1)
  await h.done()
  const ms = msSince(t0)
  // CPU time of every thread of the process (GC included): steadier than wall time on a busy machine.
  const cpu = process.cpuUsage(cpu0)
  const total = await h.total()
  if (total !== n) throw new Error(`W7: the state's keys sum to ${total}, sent ${n}`)
  await h.teardown()
  return { n, state_keys: actors, setup_ms: round(setupMs), ms: round(ms), msgs_per_s: Math.round(n / (ms / 1000)), cpu_us_per_msg: round((cpu.user + cpu.system) / n, 3) }
}

/** W6: the system builds the bundle and measures n module inits, each in a fresh process. */
async function coldStart(sys: BenchSystem, { n }: Size): Promise<Record<string, number>> {
  return { n, ...(await sys.W6!(n)) }
}

// AWS sizes: what runs in seconds on kinesalite and dynalite (see bench/README.md).
/**
 * One hot key: long enough for a rate. At 3,000 a run lasts about 300 ms, most of it the
 * pipeline filling (the first read waits for its shard's pace, one PutRecords carries the burst),
 * on both sides: the raw put ceiling itself ran 8.8 k msgs/s at 3,000 and 11.3–12.2 k at
 * 10,000–20,000 (bench/README.md, "What changed after the run at `c995570`").
 */
const AWS_W1_N = 10_000
const AWS_W1_QUICK_N = 1_000
const AWS_W2_ACTORS = 1_000
const AWS_W2_QUICK_ACTORS = 200
const AWS_W2D_ACTORS = 3_000
const AWS_W2D_QUICK_ACTORS = 1_000
const AWS_W3_N = 200
const AWS_W3_QUICK_N = 50
/** W4S: sagas, 50 in flight, each a few hops through the stream (about half a second each on the local servers). */
const AWS_W4S_N = 2_000
const AWS_W4S_QUICK_N = 500

const size = (n: number, actors = 1, perActor = 0, fanout = 0): Size => ({ n, actors, perActor, fanout })

export const WORKLOADS: Record<WorkloadName, WorkloadSpec> = {
  W1: {
    name: 'W1',
    title: 'tell throughput, one producer to one actor',
    rate: 'msgs_per_s',
    full: { n: 1_000_000, actors: 1, perActor: 0, fanout: 0 },
    quick: { n: 200_000, actors: 1, perActor: 0, fanout: 0 },
    suites: ['local', 'aws', 'restate'],
    aws: { full: size(AWS_W1_N), quick: size(AWS_W1_QUICK_N) },
    restate: { full: size(2_000), quick: size(500) },
    run: tell,
  },
  W2: {
    name: 'W2',
    title: 'many keyed actors, round-robin',
    rate: 'msgs_per_s',
    full: { n: 0, actors: 10_000, perActor: 100, fanout: 0 },
    quick: { n: 0, actors: 2_000, perActor: 20, fanout: 0 },
    suites: ['local', 'aws', 'restate'],
    aws: { full: size(0, AWS_W2_ACTORS, 5), quick: size(0, AWS_W2_QUICK_ACTORS, 5) },
    restate: { full: size(0, 200, 5), quick: size(0, 50, 5) },
    run: many,
  },
  W2D: {
    name: 'W2D',
    title: 'many keyed actors, all-distinct keys (one message each)',
    rate: 'msgs_per_s',
    full: size(0, AWS_W2D_ACTORS, 1),
    quick: size(0, AWS_W2D_QUICK_ACTORS, 1),
    suites: ['aws'],
    aws: { full: size(0, AWS_W2D_ACTORS, 1), quick: size(0, AWS_W2D_QUICK_ACTORS, 1) },
    run: many,
  },
  W3: {
    name: 'W3',
    title: 'ask latency, sequential request/reply',
    rate: 'asks_per_s',
    full: { n: 100_000, actors: 1, perActor: 0, fanout: 0 },
    quick: { n: 20_000, actors: 1, perActor: 0, fanout: 0 },
    suites: ['local', 'aws', 'restate'],
    aws: { full: size(AWS_W3_N), quick: size(AWS_W3_QUICK_N) },
    restate: { full: size(1_000), quick: size(200) },
    run: ask,
  },
  W4: {
    name: 'W4',
    title: 'fork/join latency, 10 children, sequential',
    rate: 'joins_per_s',
    full: { n: 20_000, actors: 1, perActor: 0, fanout: 10 },
    quick: { n: 5_000, actors: 1, perActor: 0, fanout: 10 },
    suites: ['local', 'restate'],
    restate: { full: size(300, 1, 0, 10), quick: size(50, 1, 0, 10) },
    warmsItsSystem: true,
    run: forkJoin,
  },
  W4S: {
    name: 'W4S',
    title: 'saga: a fork of 2 and a join, 50 in flight (priced per saga)',
    rate: 'joins_per_s',
    full: size(AWS_W4S_N, 1, 0, 2),
    quick: size(AWS_W4S_QUICK_N, 1, 0, 2),
    suites: ['aws'],
    aws: { full: size(AWS_W4S_N, 1, 0, 2), quick: size(AWS_W4S_QUICK_N, 1, 0, 2) },
    run: sagas,
  },
  W7: {
    name: 'W7',
    title: 'big state: one singleton holding 20,000 keys, each message touches one',
    rate: 'msgs_per_s',
    full: size(100_000, 20_000),
    quick: size(20_000, 20_000),
    suites: ['local'],
    run: bigState,
  },
  W6: {
    name: 'W6',
    title: 'cold start: Lambda bundle size and module init of the flagship example',
    rate: 'init_ms',
    full: size(20),
    quick: size(10),
    suites: ['aws'],
    aws: { full: size(20), quick: size(10) },
    once: true,
    run: coldStart,
  },
}

/** A workload's sizes in a suite. */
export function suiteSizes(spec: WorkloadSpec, suite: Suite): { full: Size; quick: Size } {
  return suite === 'local' ? spec : (spec[suite] ?? spec)
}

/** A smaller run of the same workload, to warm the JIT before the measured one. */
export function warmupSize(size: Size): Size {
  return {
    n: Math.max(1, Math.floor(size.n / 5)),
    actors: Math.max(1, Math.floor(size.actors / 10)),
    perActor: size.perActor,
    fanout: size.fanout,
  }
}

export function isWorkload(name: string): name is WorkloadName {
  return Object.hasOwn(WORKLOADS, name)
}
