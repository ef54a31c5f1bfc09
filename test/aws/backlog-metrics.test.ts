// The backlog as metrics from a process that consumes its streams (AwsSystem's `metrics`), on the
// local Kinesis and DynamoDB: the Lambda host writes its gauges after each invocation; a consumer
// writes the same EMF lines every interval and once more at stop. A capped type whose only slot
// another host holds parks its messages here: the lines say how many wait and how old the oldest
// is, the slot held on every host, and how long the type's records were in the stream.
import t from 'tap'
import { Actor, type Context } from '../../lib/index.js'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { readEmf } from '../../lib/metrics/emf.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { localStackFor } from '../fixtures/local-stack.js'

class Capped extends Actor<{ k: string }, void, { seen: number }> {
  static readonly type = 'cm.capped'
  static readonly policy = { concurrency: 1 }
  key(m: { k: string }) {
    return m.k
  }
  initialState() {
    return { seen: 0 }
  }
  receive(_m: { k: string }, ctx: Context<{ seen: number }>) {
    ctx.state.seen++
  }
}

const { aws } = await localStackFor(t)

type Reading = { at: number; service: string; gauges: Record<string, number> }

t.test('a consuming process writes Parked, OldestParkedAgeMs, Running and IteratorAgeMs per type, every interval and at stop', async (t) => {
  const name = 'cm-backlog'
  await ensureResources({ ...aws, tableName: name, streams: [name], shards: 1 })
  const slots = new DynamoDBTypeSlots({ client: aws.dynamodb, tableName: name })
  t.ok((await slots.take(Capped.type, { holder: 'another-host', count: 1, expiresAt: Date.now() + 10 * 60_000 }, 1, [])).taken, 'another host holds the only slot')

  const readings: Reading[] = []
  let heard: (() => void) | undefined
  const write = (line: string) => {
    const points = readEmf(line) ?? []
    const gauges = Object.fromEntries(points.filter((p) => p.dimensions.Actor === Capped.type).map((p) => [p.name, p.value]))
    if (Object.keys(gauges).length !== 0) readings.push({ at: points[0]!.at, service: points[0]!.dimensions.Service!, gauges })
    heard?.()
  }
  /** Resolves with the first reading from now on that `fits`: each line written wakes it. */
  const reading = (fits: (r: Reading) => boolean) =>
    new Promise<Reading>((resolve) => {
      const from = readings.length
      heard = () => {
        const found = readings.slice(from).find(fits)
        if (found) resolve(found)
      }
    })

  const system = new AwsSystem({ actors: [Capped], ...aws, tableName: name, stream: name, pollMs: 20, lingerMs: 0, logLevel: 'error', metrics: { everyMs: 50, write } })
  let stopped = false
  t.teardown(() => (stopped ? undefined : system.stop()))
  const parked = reading((r) => r.gauges.Parked === 3)
  const sentFrom = Date.now()
  for (const k of ['a', 'b', 'c']) await system.tell(Capped, { k })
  const sentTo = Date.now()
  const first = await parked
  t.equal(first.service, name, 'the Service dimension is the table name')
  t.equal(first.gauges.Parked, 3, 'the three messages wait, parked for the slot')
  t.ok(first.gauges.OldestParkedAgeMs! >= 0 && first.gauges.OldestParkedAgeMs! <= first.at - sentFrom, `the oldest has waited ${first.gauges.OldestParkedAgeMs} ms since it was sent`)

  // The gauges are readings since the last write: the claim that found the slot held and the batch's
  // intake came before the commit that parked the three, so the writes up to that one carry them.
  const upTo = readings.slice(0, readings.indexOf(first) + 1)
  t.ok(upTo.some((r) => r.gauges.Running === 1), 'Running: the slot held on every host, as the claim read it')
  const age = upTo.map((r) => r.gauges.IteratorAgeMs).find((a) => a !== undefined)
  t.ok(age !== undefined && age >= 0 && age <= first.at - sentFrom, `IteratorAgeMs ${age} ms: how long the type's records were in the stream when the batch was taken in`)

  // Later writes go on saying what waits: the wake-ups find the slot still held and park them again.
  const later = await reading((r) => r.gauges.Parked === 3 && r.gauges.OldestParkedAgeMs! > first.gauges.OldestParkedAgeMs!)
  t.ok(later.gauges.OldestParkedAgeMs! >= later.at - sentTo, `a later write: still three, the oldest now ${later.gauges.OldestParkedAgeMs} ms old`)

  const before = readings.length
  await system.stop()
  stopped = true
  t.ok(readings.length > before, 'stop writes the last readings')
  t.match(readings.at(-1)!.gauges, { Parked: 3 })
})
