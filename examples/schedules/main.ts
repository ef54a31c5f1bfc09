// troupe example: scheduled and event-driven actors.
//
// What it shows
// - Recurring schedules: Heartbeat runs on `rate(1 minute)`, Digest on the cron expression
//   `cron(0/5 * * * ? *)` (every five minutes on the clock, UTC). Both are durable timers in the
//   timer store (`system.schedule(…, { every, name })`), so they keep firing with no process
//   sleeping in between: on AWS a scheduled tick wakes the Lambda host.
// - Adapters from troupe/adapters that turn AWS event shapes into tells, each a Lambda handler
//   you export from your own function (handlers.ts, lambda.ts):
//     S3 object created      → UploadIndex   (fromS3; the mailbox is the adapter's own shape)
//     SNS notification       → Alerts        (fromSns, with a map)
//     DynamoDB stream record → ItemMirror    (fromDynamoDBStream; partial batch response)
//     EventBridge event      → InstanceState (fromEventBridge: EC2 state changes)
//     CloudWatch scheduled   → Heartbeat     (fromEventBridge: a "Scheduled Event" rule)
//   The sample events in events/ are shaped as the AWS documentation shows them.
// - Repeats and disorder handled where AWS allows them: S3's sequencer, the stream's sequence
//   number, the event's own time.
//
// Run it
//   npx tsx examples/schedules/main.ts                      # embedded, a minute per second, 6 minutes
//   npx tsx examples/schedules/main.ts --speed 1 --minutes 2  # real time
//   npx troupe dev --app examples/schedules/troupe.app.ts     # the AWS mode, real time
import { createSystem } from 'troupe'
import { acceleratedClock } from 'troupe/testing'
import { ACTORS, runSchedules, type SchedulesReport } from './run.js'
import { readFlags, usageError, wholeNumberFlag } from '../shared/flags.js'

const USAGE = `Usage: tsx examples/schedules/main.ts [options]

Runs actors on rate(1 minute) and on cron(0/5 * * * ? *), and feeds sample S3, SNS,
DynamoDB stream and EventBridge events through troupe's adapters, in one process.

Options
  --speed N     how many times faster than real time the system's clock runs (default 60:
                a minute a second)
  --minutes N   minutes of the system's clock to run for (default 6)
  --json        print the report as JSON
  -h, --help    show this help
`

const values = readFlags(USAGE, { speed: { type: 'string' }, minutes: { type: 'string' }, json: { type: 'boolean' } })
const speed = Number(values.speed ?? '60')
if (!(speed > 0 && speed <= 3600)) usageError(USAGE, `--speed must be a number from above 0 to 3600, got ${values.speed}`)
const minutes = wholeNumberFlag(USAGE, 'minutes', values.minutes, 6, 1, 1440)

const system = createSystem({ actors: ACTORS, clock: acceleratedClock(speed), logLevel: 'warn' })
let result: SchedulesReport
try {
  result = await runSchedules(system, { minutes })
} finally {
  await system.stop()
}
if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
else process.stdout.write(format(result, minutes))

function format(r: SchedulesReport, minutes: number): string {
  const lines = [
    `after ${minutes} minute(s) of the system's clock:`,
    `  heartbeat   ${r.heartbeat?.beats ?? 0} beats: ${JSON.stringify(r.heartbeat?.byOrigin ?? {})}`,
    `  digest      ran at ${r.digest?.runs.join(', ') || 'no time yet'} (UTC)`,
    `  uploads     ${r.uploads ? `${Object.keys(r.uploads.objects).length} objects, ${r.uploads.bytes} bytes: ${Object.keys(r.uploads.objects).join(', ')}` : 'none'}`,
    `  alerts      ${r.alerts ? `${r.alerts.count}, last: ${r.alerts.last?.subject}: ${r.alerts.last?.text}` : 'none'}`,
    `  item 101    ${r.mirror ? `${r.mirror.changes} changes, ${r.mirror.removed ? 'removed' : JSON.stringify(r.mirror.item)}` : 'never seen'}`,
    `  i-abcd1111  ${r.instance ? `${r.instance.current} (${r.instance.history.map((h) => h.state).join(' → ')})` : 'never seen'}`,
    `  adapters    ${Object.entries(r.delivered)
      .map(([source, runs]) => `${source}: ${runs.reduce((n, d) => n + d.told.length, 0)} told, ${runs.reduce((n, d) => n + d.skipped.length, 0)} skipped`)
      .join('; ')}`,
  ]
  return `${lines.join('\n')}\n`
}
