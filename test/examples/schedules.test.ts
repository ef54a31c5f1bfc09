// The schedules example end to end, in both modes: recurring schedules on an accelerated clock,
// and the sample AWS events told through the adapters.
import t from 'tap'
import { acceleratedClock } from '../../lib/testing/accelerated-clock.js'
import { ACTORS, DIGEST_CRON, HEARTBEAT_EVERY, runSchedules } from '../../examples/schedules/run.js'
import { exampleModes } from './fixtures/modes.js'

const FIVE_MINUTES = 300_000
const RULE = 'arn:aws:events:us-east-2:123456789012:rule/my-schedule'

for (const mode of exampleModes(t)) {
  t.test(`${mode.name}: schedules fire on time, and every sample event becomes the right state`, async (t) => {
    // 30 times real time (a minute in 2 s), from a minute before a five-minute mark; the run
    // lasts past the mark (however long the system took to start), so the digest's cron fires.
    const start = Math.ceil(Date.now() / FIVE_MINUTES) * FIVE_MINUTES + FIVE_MINUTES - 60_000
    const clock = acceleratedClock(30, start)
    const { system, close } = await mode.start({ actors: ACTORS, clock })
    t.teardown(close)
    const toMark = (FIVE_MINUTES - (clock.now() % FIVE_MINUTES)) / 60_000
    const r = await runSchedules(system, { minutes: Math.max(2.5, toMark + 1) })

    const beats = r.heartbeat?.byOrigin[HEARTBEAT_EVERY] ?? 0
    t.ok(beats >= 2, `rate(1 minute) beat again and again (${beats} in ${r.ranMinutes.toFixed(1)} minutes)`)
    t.ok(beats <= r.ranMinutes, 'never more than once a minute')
    t.equal(r.heartbeat?.byOrigin[RULE], 1, 'the EventBridge scheduled rule beat once')
    t.ok((r.digest?.runs.length ?? 0) >= 1, `the cron ran (${r.digest?.runs.join(', ')})`)
    for (const run of r.digest?.runs ?? []) t.equal(Number(run.slice(3)) % 5, 0, `the digest ran on a five-minute mark (${run})`)
    t.same(
      r.timers.filter((x) => x.every !== undefined).sort((a, b) => a.target.localeCompare(b.target)),
      [
        { target: 'digest', every: DIGEST_CRON },
        { target: 'heartbeat', every: HEARTBEAT_EVERY },
      ],
    )

    // S3: the created objects, keys decoded; the removal skipped; the repeated event counted once.
    t.same(r.uploads?.objects, { 'HappyFace.jpg': 1024, 'photos/summer trip, 2026.mp4': 52_428_800 })
    t.equal(r.uploads?.bytes, 1024 + 52_428_800)
    t.same(r.delivered.s3?.map((d) => [d.told.length, d.skipped.length, d.refused.length, d.failed.length]), [[2, 1, 0, 0], [2, 1, 0, 0]])
    // SNS, the DynamoDB stream and EventBridge.
    t.same(r.alerts, { count: 1, last: { subject: 'TestInvoke', text: 'Hello from SNS!' } })
    t.same(r.mirror, { item: null, changes: 3, sequence: '333', removed: true }, 'INSERT, MODIFY, REMOVE in stream order')
    t.same(r.instance, {
      current: 'running',
      history: [
        { state: 'pending', at: '2015-11-11T21:29:54Z' },
        { state: 'running', at: '2015-11-11T21:30:34Z' },
      ],
    })
    t.equal(r.delivered.dynamodbStream?.[0]?.told.length, 3)
  })
}
