// troupe example: pipeline components with lineage.
//
// What it shows
// - The source → transform → sink model as actors (readings.ts):
//     CsvSource (reads a file a page at a time) → each line → ParseReading → Enrich → SqliteSink
//   with SQLite through sql.js (WebAssembly inside the npm package: nothing to build).
// - Lineage: every record carries the chain of component, version and message id that made it
//   (`traced(ctx, version, data, from)`), and the sink stores it beside the row:
//     SELECT lineage FROM readings WHERE id = 'cairo@2026-01-01T00:00:00.000Z'
// - Heartbeat and timing metrics per component as structured log lines (`componentMetrics`).
// - Bad lines are dead letters naming the file and line.
//
// Run it
//   npx tsx examples/pipeline/main.ts [--readings N] [--dir D]
//   npx troupe dev --app examples/pipeline/troupe.app.ts --once
import { createLogger, createSystem } from 'troupe'
import { readings } from './readings.js'
import { runReadings } from './run.js'
import { readFlags, wholeNumberFlag } from '../shared/flags.js'

const USAGE = `Usage: tsx examples/pipeline/main.ts [options]

Writes a readings CSV, runs it through source → parse → enrich → SQLite sink in one process,
and prints the rows written, one row's lineage and the dead letters. Heartbeats go to stderr.

Options
  --readings N   readings per station, 4 stations (default 250)
  --dir D        where the CSV and the SQLite file go (default .troupe/pipeline)
  -h, --help     show this help
`

const values = readFlags(USAGE, { readings: { type: 'string' }, dir: { type: 'string' } })
const perStation = wholeNumberFlag(USAGE, 'readings', values.readings, 250, 1, 100_000)
const dir = values.dir ?? '.troupe/pipeline'

const logger = createLogger('info')
const system = createSystem({ actors: readings.actors, logger: createLogger('error') })
try {
  const r = await runReadings(system, { dir, perStation, logger })
  process.stdout.write(`${r.rows} rows in ${dir}/readings.sqlite (${r.extremes} extreme)\n`)
  process.stdout.write(`lineage of ${r.sample?.id}:\n${r.sample?.lineage.map((s) => `  ${s.component}@${s.version}  ${s.messageId}`).join('\n')}\n`)
  process.stdout.write(`dead letters: ${r.deadLetters.length}\n${r.deadLetters.map((d) => `  ${d.error}`).join('\n')}\n`)
} finally {
  await system.stop()
}
