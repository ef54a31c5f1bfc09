// The readings pipeline in the AWS mode, on this machine:
//   npx troupe dev --app examples/pipeline/troupe.app.ts --once --host process      (READINGS=n per station)
// (the process host: the app waits with system.idle() and reads the sink's SQLite file itself)
//   npx troupe graph --app examples/pipeline/troupe.app.ts
// One reading carries its raw samples, a record over the stream's 1 MiB: `payloads` sends it
// through the claim check (its body kept as DynamoDB chunks in the app's table).
import { join } from 'node:path'
import { createLogger } from 'troupe'
import { defineApp } from 'troupe/aws'
import { readings } from './readings.js'
import { runReadings } from './run.js'

export default defineApp({
  actors: readings.actors,
  pipelines: [readings],
  payloads: {},
  async start(system, { dir, log }) {
    const r = await runReadings(system, { dir: join(dir, 'pipeline'), perStation: Number(process.env.READINGS ?? 50), logger: createLogger('info') })
    log(`pipeline: ${r.rows} rows in ${join(dir, 'pipeline', 'readings.sqlite')}, ${r.deadLetters.length} dead letters`)
    log(`pipeline: lineage of ${r.sample?.id}: ${r.sample?.lineage.map((s) => `${s.component}@${s.version}`).join(' → ')}`)
    log(`pipeline: ${r.large.id} sent ${r.large.sent} raw samples in a line of ${r.large.lineBytes} bytes; the sink stored ${r.large.stored}${r.large.whole ? ', the same' : ', NOT the same'}`)
    return { info: { rows: r.rows, deadLetters: r.deadLetters.length, large: r.large } }
  },
})
