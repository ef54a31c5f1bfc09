// bench/REPORT.md from one run's reps: one table per workload (system, N, reps, median,
// min–max, the ratio to troupe), then every target met or missed and by how much.
import { costTable } from './cost-table.js'
import { evaluate, medianOf, type Rep } from './evaluate.js'
import { median } from './harness.js'
import { CHECKS } from './targets.js'

interface Table {
  title: string
  /** (suite, workload) pairs whose systems are rows. */
  from: [suite: string, workload: string][]
  /** The system the ratio column compares with. */
  reference: string
  metric: string
  latency?: boolean
  /** In one process: the collections during the measured run, beside the tail they make. */
  gc?: boolean
  cost?: boolean
}

const TABLES: Table[] = [
  { title: 'W1 tell throughput, one producer to one actor (in one process)', from: [['local', 'W1']], reference: 'troupe', metric: 'msgs_per_s' },
  { title: 'W2 many keyed actors, round-robin (in one process)', from: [['local', 'W2']], reference: 'troupe', metric: 'msgs_per_s' },
  { title: 'W3 ask latency, sequential (in one process)', from: [['local', 'W3']], reference: 'troupe', metric: 'asks_per_s', latency: true, gc: true },
  { title: 'W4 fork/join of 10, sequential (in one process)', from: [['local', 'W4']], reference: 'troupe', metric: 'joins_per_s', latency: true, gc: true },
  { title: 'W7 big state: one singleton holding 20,000 keys, each message touches one (in one process)', from: [['local', 'W7']], reference: 'troupe', metric: 'msgs_per_s' },
  { title: 'W5 durable W1: one hot key (local Kinesis + DynamoDB; Restate)', from: [['aws', 'W1'], ['restate', 'W1']], reference: 'troupe-aws', metric: 'msgs_per_s', cost: true },
  { title: 'W5 durable W2: keyed counters × 5 messages', from: [['aws', 'W2'], ['restate', 'W2']], reference: 'troupe-aws', metric: 'msgs_per_s', cost: true },
  { title: 'W5 durable W2D: all-distinct keys, one message each', from: [['aws', 'W2D']], reference: 'troupe-aws', metric: 'msgs_per_s', cost: true },
  { title: 'W5 durable W3: ask latency (direct Lambda Invoke vs the stream; Restate ingress)', from: [['aws', 'W3'], ['restate', 'W3']], reference: 'troupe-lambda-invoke', metric: 'asks_per_s', latency: true },
  { title: 'W5 durable W4: fork/join of 10 (Restate)', from: [['restate', 'W4']], reference: 'troupe', metric: 'joins_per_s', latency: true },
  { title: 'W5 durable W4S: sagas, a fork of 2 and a join, 50 in flight (per saga)', from: [['aws', 'W4S']], reference: 'troupe-aws', metric: 'joins_per_s', latency: true, cost: true },
]

const fmt = (x: number | undefined, digits = 0): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
const ratio = (x: number): string => (x >= 10 ? `${fmt(x, 1)}x` : `${fmt(x, 3)}x`)
const us = (x: number | undefined): string => (x === undefined ? '–' : x >= 1000 ? `${fmt(x / 1000, 2)} ms` : `${fmt(x, 2)} µs`)

function size(r: Rep): string {
  const m = r.metrics
  if (m.state_keys !== undefined) return `${fmt(m.n)} into ${fmt(m.state_keys)} keys`
  if (m.actors !== undefined && m.per_actor !== undefined) return `${fmt(m.actors)} × ${fmt(m.per_actor)}`
  return fmt(m.n)
}

export function report(reps: readonly Rep[], meta: { commit: string | null; machine: Record<string, unknown>; mode: string; command: string }): string {
  const out: string[] = []
  out.push('# troupe benchmark report', '')
  out.push(
    `Written by \`${meta.command}\` (${meta.mode}); commit \`${meta.commit ?? '?'}\`; ${String(meta.machine.cpu ?? '')} × ${String(meta.machine.cpus)}, Node ${String(meta.machine.node)}.`,
    'Each figure is the median over the rounds (each a fresh process, after a warm-up), with the min–max of the rounds.',
    'Ratios compare medians of the same run on the same machine: read those, not the absolute numbers, which drift on a shared machine.',
    'What each system does is in bench/README.md.',
    '',
  )
  const of = (suite: string, workload: string, system: string) => reps.filter((r) => r.suite === suite && r.workload === workload && r.system === system)

  for (const t of TABLES) {
    const rows: { system: string; reps: Rep[] }[] = []
    for (const [suite, workload] of t.from) {
      const systems = [...new Set(reps.filter((r) => r.suite === suite && r.workload === workload).map((r) => r.system))]
      for (const system of systems) rows.push({ system, reps: of(suite, workload, system) })
    }
    if (rows.length === 0) continue
    const ref = rows.find((r) => r.system === t.reference)
    const refRate = ref && medianOf(ref.reps, t.metric)
    const refP50 = ref && medianOf(ref.reps, 'p50_us')
    out.push(`## ${t.title}`, '')
    const head = ['system', 'N', 'reps', t.metric.replace(/_/g, ' '), 'min–max']
    if (t.latency) head.push('p50', 'p99')
    head.push(`${t.reference} / it (${t.latency ? 'rate' : t.metric.replace(/_/g, ' ')})`)
    if (t.latency) head.push(`its p50 / ${t.reference}'s`)
    // Only a run with BENCH_GC=1 has them (bench/harness.ts).
    const gc = t.gc === true && rows.some((r) => r.reps.some((rep) => rep.metrics.scavenges !== undefined))
    if (gc) head.push('scavenges', 'GC pauses', 'slowest 1 % in a GC')
    if (t.cost) head.push('PutRecords / msg', 'DynamoDB writes / msg', 'requests / msg', '$ per M msgs')
    out.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`)
    rows.sort((a, b) => (medianOf(b.reps, t.metric) ?? 0) - (medianOf(a.reps, t.metric) ?? 0))
    for (const row of rows) {
      const rates = row.reps.map((r) => r.metrics[t.metric]!).filter(Number.isFinite)
      const rate = median(rates)
      const cells = [row.system === t.reference ? `**${row.system}**` : row.system, size(row.reps[0]!), String(row.reps.length), fmt(rate, rate < 100 ? 1 : 0), `${fmt(Math.min(...rates), rate < 100 ? 1 : 0)}–${fmt(Math.max(...rates), rate < 100 ? 1 : 0)}`]
      if (t.latency) cells.push(us(medianOf(row.reps, 'p50_us')), us(medianOf(row.reps, 'p99_us')))
      cells.push(refRate !== undefined && rate > 0 ? ratio(refRate / rate) : '–')
      if (t.latency) {
        const p50 = medianOf(row.reps, 'p50_us')
        cells.push(refP50 !== undefined && p50 !== undefined ? ratio(p50 / refP50) : '–')
      }
      if (gc) {
        const share = medianOf(row.reps, 'slowest_in_gc')
        const pauses = medianOf(row.reps, 'gc_ms')
        cells.push(fmt(medianOf(row.reps, 'scavenges')), pauses === undefined ? '–' : `${fmt(pauses, 1)} ms`, share === undefined ? '–' : `${fmt(share * 100)} %`)
      }
      if (t.cost) {
        for (const k of ['putrecords_per_msg', 'dynamodb_writes_per_msg', 'requests_per_msg']) cells.push(fmt(medianOf(row.reps, k), 4))
        const dollars = medianOf(row.reps, 'usd_per_million_msgs')
        cells.push(dollars === undefined ? '–' : `$${fmt(dollars, 4)}`)
      }
      out.push(`| ${cells.join(' | ')} |`)
    }
    out.push('')
  }

  const cold = reps.filter((r) => r.workload === 'W6')
  if (cold.length) {
    out.push('## W6 cold start: the flagship example’s Lambda bundle (examples/analytics)', '')
    out.push('| system | loaded at init (minified) | all files | zip | module init, median | min–max | init runs |', '|---|---:|---:|---:|---:|---:|---:|')
    for (const r of cold) {
      const m = r.metrics
      out.push(`| ${r.system} | ${fmt(m.init_kb, 1)} KB | ${fmt(m.bundle_kb, 1)} KB in ${fmt(m.bundle_files)} | ${fmt(m.zip_kb, 1)} KB | ${fmt(m.init_ms, 1)} ms | ${fmt(m.init_min_ms, 1)}–${fmt(m.init_max_ms, 1)} ms | ${fmt(m.n)} |`)
    }
    out.push('')
  }

  out.push(...costTable(reps))

  out.push('## Targets', '', '| section | target | figure | met? |', '|---|---|---:|---|')
  for (const c of CHECKS) {
    const v = evaluate(c, reps)
    if (!v) {
      out.push(`| ${c.section} | ${c.label} | – | not run${c.vs === 'restate' ? ' (Restate runs with --full)' : ''} |`)
      continue
    }
    const times = (c.vs !== undefined && c.by !== 'difference') || c.vsPeer !== undefined
    const verdictText = v.met ? 'met' : `**missed** by ${fmt(v.offBy, 2)}x (${c.op === '>=' ? 'needs' : 'must fall to'} ${fmt(c.target, 3)}${times ? 'x' : ''})`
    out.push(`| ${c.section} | ${c.label} | ${times ? ratio(v.value) : c.metric.startsWith('usd_') ? `$${fmt(v.value, 4)}` : fmt(v.value, 4)} | ${verdictText} |`)
  }
  out.push('')
  return out.join('\n')
}
