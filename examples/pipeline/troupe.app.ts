// The readings pipeline in the AWS mode, on this machine:
//   npx troupe dev --app examples/pipeline/troupe.app.ts --once      (READINGS=n per station)
//   npx troupe graph --app examples/pipeline/troupe.app.ts
import { join } from 'node:path'
import { createLogger } from 'troupe'
import { defineApp } from 'troupe/aws'
import { readings } from './readings.js'
import { runReadings } from './run.js'

export default defineApp({
  actors: readings.actors,
  pipelines: [readings],
  async start(system, { dir, log }) {
    const r = await runReadings(system, { dir: join(dir, 'pipeline'), perStation: Number(process.env.READINGS ?? 50), logger: createLogger('info') })
    log(`pipeline: ${r.rows} rows in ${join(dir, 'pipeline', 'readings.sqlite')}, ${r.deadLetters.length} dead letters`)
    log(`pipeline: lineage of ${r.sample?.id}: ${r.sample?.lineage.map((s) => `${s.component}@${s.version}`).join(' → ')}`)
  },
})
