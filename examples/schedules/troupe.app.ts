// The schedules example in the AWS mode, on this machine:
//   npx troupe dev --app examples/schedules/troupe.app.ts
// troupe dev starts DynamoDB and Kinesis on 127.0.0.1 and runs these actors on them; start()
// sets the two schedules (in the table, so they survive a restart) and feeds the sample events
// through the adapters once. Heartbeat then runs every real minute and Digest every five.
// Under --once it feeds the events and stops when they are handled.
import { defineApp } from 'troupe/aws'
import { ACTORS, feedSampleEvents, startSchedules } from './run.js'

export default defineApp({
  actors: ACTORS,
  async start(system, { log }) {
    await startSchedules(system)
    const delivered = await feedSampleEvents(system)
    for (const [source, runs] of Object.entries(delivered)) {
      log(`schedules: ${source}: ${runs.reduce((n, d) => n + d.told.length, 0)} told, ${runs.reduce((n, d) => n + d.skipped.length, 0)} skipped`)
    }
    return { info: { schedules: 'heartbeat rate(1 minute), digest cron(0/5 * * * ? *)' } }
  },
})
