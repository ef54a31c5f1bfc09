// The source → transforms → sink example end to end, in both modes: every good line becomes a
// SQLite row with its whole lineage, bad lines are dead letters naming the line, each component
// beats with its counts and timings in the logs, and the reading with raw samples (a record over
// the stream's 1 MiB) reaches the sink whole, through the claim check in the AWS mode. Then the
// app under `troupe dev --host process`, where `payloads` comes from the app itself.
import { join } from 'node:path'
import t from 'tap'
import { createLogger } from '../../lib/index.js'
import app from '../../examples/pipeline/troupe.app.js'
import { readings } from '../../examples/pipeline/readings.js'
import { RAW_SAMPLES, runReadings } from '../../examples/pipeline/run.js'
import { runTroupe } from '../cli/fixtures/troupe-cli.js'
import { exampleModes } from './fixtures/modes.js'

const MiB = 1024 * 1024

const COMPONENTS = ['csvSource', 'parseReading', 'enrich', 'sqliteSink']

// The sink is one instance: let its records share PutRecords calls in the AWS mode.
for (const mode of exampleModes(t, { ordering: 'batched', payloads: app.payloads! })) {
  t.test(`${mode.name}: lines to rows, with lineage and heartbeats`, async (t) => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger('info', {}, (line) => lines.push(JSON.parse(line)))
    const { system, close } = await mode.start({ actors: readings.actors, logger })
    t.teardown(close)
    const dir = t.testdir()
    const r = await runReadings(system, { dir, perStation: 30, logger, page: 25, heartbeatMs: 500 })

    t.equal(r.rows, 120, 'every good line is a row')
    t.ok(r.extremes > 0, `${r.extremes} readings flagged extreme`)
    t.same(r.lineages, ['csvSource@1.0.0 → parseReading@1.2.0 → enrich@2.0.0 → sqliteSink@1.1.0'], 'every row carries the whole chain, with versions')
    const ids = r.sample!.lineage.map((s) => s.messageId)
    t.equal(new Set(ids).size, 4, 'a message id per step')
    t.same(
      r.deadLetters.map((d) => d.error.replace(/^.*readings\.csv:/, '')).sort(),
      ['17: celsius "warm" is not a number', '30: time "yesterday" is not ISO 8601', '5: expected station,time,celsius[,samples], got "oslo,2026-01-01T00:00:00.000Z"'],
    )
    t.ok(r.large.lineBytes > MiB, `the line with raw samples is ${r.large.lineBytes} bytes, more than a record holds`)
    t.match(r.large, { id: 'yakutsk@2026-01-01T00:00:00.000Z', sent: RAW_SAMPLES, stored: RAW_SAMPLES, whole: true }, 'its samples reach the sink whole')

    const beats = lines.filter((l) => l.msg === 'heartbeat')
    t.same([...new Set(beats.map((b) => b.component))].sort(), [...COMPONENTS].sort(), "a heartbeat per component, none for troupe's own actors")
    const done = (c: string) => beats.filter((b) => b.component === c).reduce((n, b) => n + Number(b.done), 0)
    t.equal(done('sqliteSink'), 120, 'the heartbeats count every row written')
    t.equal(done('parseReading'), 120)
    t.equal(beats.filter((b) => b.component === 'parseReading').reduce((n, b) => n + Number(b.dead), 0), 3)
    t.ok(beats.filter((b) => Number(b.done) > 0).every((b) => typeof b.p50Ms === 'number' && Number(b.maxMs) >= Number(b.p50Ms)), 'timings with the work')
  })
}

t.test('troupe dev (the process host): the large record goes through the claim check to the sink', async (t) => {
  const run = await runTroupe(['dev', '--once', '--json', '--host', 'process', '--app', join(process.cwd(), 'examples/pipeline/troupe.app.ts')], {
    cwd: t.testdir(),
    env: { ...process.env, READINGS: '3' },
    timeoutMs: 120_000,
  })
  t.equal(run.code, 0, run.code === 0 ? 'exit 0' : `exit 0\n${run.stderr}`)
  const ready = JSON.parse(run.stdout.split('\n').find((l) => l.includes('"event":"ready"')) ?? '{}')
  t.match(ready.app?.info, { rows: 12, deadLetters: 1, large: { sent: RAW_SAMPLES, stored: RAW_SAMPLES, whole: true } })
})
