// The source → transforms → sink example end to end, in both modes: every good line becomes a
// SQLite row with its whole lineage, bad lines are dead letters naming the line, and each
// component beats with its counts and timings in the logs.
import t from 'tap'
import { createLogger } from '../../lib/index.js'
import { readings } from '../../examples/pipeline/readings.js'
import { runReadings } from '../../examples/pipeline/run.js'
import { exampleModes } from './fixtures/modes.js'

const COMPONENTS = ['csvSource', 'parseReading', 'enrich', 'sqliteSink']

// The sink is one instance: let its records share PutRecords calls in the AWS mode.
for (const mode of exampleModes(t, { ordering: 'batched' })) {
  t.test(`${mode.name}: lines to rows, with lineage and heartbeats`, async (t) => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger('info', {}, (line) => lines.push(JSON.parse(line)))
    const { system, close } = await mode.start({ actors: readings.actors, logger })
    t.teardown(close)
    const dir = t.testdir()
    const r = await runReadings(system, { dir, perStation: 30, logger, page: 25, heartbeatMs: 500 })

    t.equal(r.rows, 120, 'every good line is a row')
    t.ok(r.extremes > 0, `${r.extremes} readings flagged extreme`)
    t.same(r.lineages, ['csvSource@1.0.0 → parseReading@1.1.0 → enrich@2.0.0 → sqliteSink@1.0.0'], 'every row carries the whole chain, with versions')
    const ids = r.sample!.lineage.map((s) => s.messageId)
    t.equal(new Set(ids).size, 4, 'a message id per step')
    t.same(
      r.deadLetters.map((d) => d.error.replace(/^.*readings\.csv:/, '')).sort(),
      ['17: celsius "warm" is not a number', '30: time "yesterday" is not ISO 8601', '5: expected station,time,celsius, got "oslo,2026-01-01T00:00:00.000Z"'],
    )

    const beats = lines.filter((l) => l.msg === 'heartbeat')
    t.same([...new Set(beats.map((b) => b.component))].sort(), [...COMPONENTS].sort(), "a heartbeat per component, none for troupe's own actors")
    const done = (c: string) => beats.filter((b) => b.component === c).reduce((n, b) => n + Number(b.done), 0)
    t.equal(done('sqliteSink'), 120, 'the heartbeats count every row written')
    t.equal(done('parseReading'), 120)
    t.equal(beats.filter((b) => b.component === 'parseReading').reduce((n, b) => n + Number(b.dead), 0), 3)
    t.ok(beats.filter((b) => Number(b.done) > 0).every((b) => typeof b.p50Ms === 'number' && Number(b.maxMs) >= Number(b.p50Ms)), 'timings with the work')
  })
}
