// The pipeline over any System: write a readings file, tell the source where it is, wait until
// every line went through, then read the sink's rows back and the metrics' heartbeats. One
// reading carries its raw samples, a record larger than a Kinesis record holds: in the AWS mode
// it goes through the claim check (the app's `payloads`), and arrives whole at the sink.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { componentMetrics, type ComponentBeat, type Logger, type System } from 'troupe'
import { seededRandom } from 'troupe/testing'
import { CsvSource } from './components/CsvSource.js'
import { closeDatabase, database, useDatabase } from './db.js'

const STATIONS = ['oslo', 'lisbon', 'cairo', 'yakutsk'] as const
const BASE: Record<string, number> = { oslo: 4, lisbon: 17, cairo: 30, yakutsk: -35 }
/** The raw samples of yakutsk's first reading: 50 a second for an hour, about 1.2 MB as a record (a Kinesis record holds 1 MiB). */
export const RAW_SAMPLES = 180_000

/** The reading that carries raw samples, and the samples. */
export interface LargeReading {
  id: string
  samples: number[]
  /** Bytes of its CSV line. */
  lineBytes: number
}

/** A readings CSV: a header, `perStation` hourly readings per station (the first of yakutsk with its raw samples), and 3 broken lines. */
export function writeReadings(dir: string, perStation: number, seed = 3): { file: string; good: number; bad: number[]; large: LargeReading } {
  mkdirSync(dir, { recursive: true })
  const random = seededRandom(seed)
  const lines = ['station,time,celsius']
  const start = Date.UTC(2026, 0, 1)
  let large: LargeReading | undefined
  for (let h = 0; h < perStation; h++) {
    for (const s of STATIONS) {
      const at = new Date(start + h * 3_600_000).toISOString()
      const celsius = (BASE[s]! + (random() - 0.5) * 20).toFixed(1)
      if (h === 0 && s === 'yakutsk') {
        const samples = rawSamples(Number(celsius), seed)
        const line = `${s},${at},${celsius},${samples.join(' ')}`
        large = { id: `${s}@${at}`, samples, lineBytes: Buffer.byteLength(line) }
        lines.push(line)
      } else {
        lines.push(`${s},${at},${celsius}`)
      }
    }
  }
  // Broken on purpose: a missing field, a word for a number, a bad time. (Lines are 1-based.)
  const bad = [5, 17, 30].filter((n) => n <= lines.length)
  const broken = ['oslo,2026-01-01T00:00:00.000Z', 'lisbon,2026-01-01T00:00:00.000Z,warm', 'cairo,yesterday,31.0']
  bad.forEach((n, i) => lines.splice(n - 1, 0, broken[i]!))
  const file = join(dir, 'readings.csv')
  writeFileSync(file, `${lines.join('\n')}\n`)
  return { file, good: perStation * STATIONS.length, bad, large: large! }
}

/** Samples around `celsius`, to two decimals (their own random sequence, so the readings stay as they were). */
function rawSamples(celsius: number, seed: number): number[] {
  const random = seededRandom(seed + 1)
  return Array.from({ length: RAW_SAMPLES }, () => Number((celsius + (random() - 0.5) * 2).toFixed(2)))
}

export interface ReadingsReport {
  rows: number
  extremes: number
  /** One row and its lineage, as the sink stored it. */
  sample: { id: string; lineage: { component: string; version: string; messageId: string }[] } | undefined
  /** Every row's lineage, by component and version (the message ids differ per row). */
  lineages: string[]
  deadLetters: { error: string }[]
  beats: ComponentBeat[]
  /** The reading with raw samples: how many were sent, how many the sink stored, and whether they are the same. */
  large: { id: string; lineBytes: number; sent: number; stored: number; whole: boolean }
}

export async function runReadings(system: System, options: { dir: string; perStation: number; logger: Logger; page?: number; heartbeatMs?: number }): Promise<ReadingsReport> {
  const { file, large } = writeReadings(options.dir, options.perStation)
  useDatabase(join(options.dir, 'readings.sqlite'))
  const metrics = componentMetrics(system, { logger: options.logger, everyMs: options.heartbeatMs ?? 1_000 })
  const beats: ComponentBeat[] = []
  try {
    await system.tell(CsvSource, { file, fromLine: 1, page: options.page ?? 50 })
    await system.idle()
  } finally {
    beats.push(...metrics.stop())
  }
  const db = await database()
  const rows = Number(db.query('SELECT count(*) AS n FROM readings')[0]?.n ?? 0)
  const extremes = Number(db.query('SELECT count(*) AS n FROM readings WHERE extreme = 1')[0]?.n ?? 0)
  const first = db.query('SELECT id, lineage FROM readings ORDER BY id LIMIT 1')[0]
  const lineages = [
    ...new Set(
      db
        .query('SELECT lineage FROM readings')
        .map((r) => (JSON.parse(String(r.lineage)) as { component: string; version: string }[]).map((s) => `${s.component}@${s.version}`).join(' → ')),
    ),
  ]
  const stored = JSON.parse(String(db.query('SELECT samples FROM samples WHERE id = ?', [large.id])[0]?.samples ?? '[]')) as number[]
  await closeDatabase()
  return {
    rows,
    extremes,
    sample: first && { id: String(first.id), lineage: JSON.parse(String(first.lineage)) },
    lineages,
    deadLetters: (await system.deadLetters()).map((d) => ({ error: d.error.message })),
    beats,
    large: { id: large.id, lineBytes: large.lineBytes, sent: large.samples.length, stored: stored.length, whole: JSON.stringify(stored) === JSON.stringify(large.samples) },
  }
}
