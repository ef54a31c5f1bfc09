// Hostile bodies through `tell`, embedded and on the AWS mode (local servers): each is refused
// with a clear error naming the actor, or accepted and run; a good neighbour told after each one
// arrives; nothing pollutes Object.prototype.
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { AwsSystem } from '../../lib/aws/aws-system.js'
import { ensureResources } from '../../lib/aws/resources.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import { TroupeError } from '../../lib/core/errors.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import type { System } from '../../lib/core/system.js'
import { assertSerializable } from '../../lib/core/validate.js'
import { decodeRecord, encodeRecord } from '../../lib/routing/record-codec.js'
import { isDeepStrictEqual } from 'node:util'

/** Deep equality that takes an Invalid Date as equal to itself and -0 as 0 (JSON has no -0). */
function sameValue(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(shape(a), shape(b))
}
/** A value as plain data, its types kept (Map, Set, BigInt, Date), prototypes and -0 left out. */
function shape(v: unknown): unknown {
  if (typeof v === 'bigint') return `bigint:${v}`
  if (v instanceof Map) return ['Map', [...v].map(([k, x]) => [shape(k), shape(x)])]
  if (v instanceof Set) return ['Set', [...v].map(shape)]
  if (v instanceof Date) return ['Date', Number.isNaN(v.getTime()) ? 'NaN' : v.getTime()]
  if (Array.isArray(v)) return Array.from(v, shape)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
  return typeof v === 'number' && Object.is(v, -0) ? 0 : v
}
import { createTestSystem } from '../../lib/testing/index.js'
import { hostileBodies, type Expect } from './corpus/bodies.js'
import { Counter } from './fixtures/actors.js'
import { Sink } from './fixtures/sink.js'
import { localStackFor } from '../fixtures/local-stack.js'

const polluted = () => (({}) as Record<string, unknown>).polluted

async function feed(t: Test, system: System, settle: () => Promise<void>, mode: 'embedded' | 'aws') {
  let accepted = 0
  for (const entry of hostileBodies) {
    const expect: Expect = entry[mode]
    const outcome = await system.tell(entry.actor, entry.body()).then(
      () => undefined,
      (error: Error) => error,
    )
    if (expect === 'accepted') {
      t.equal(outcome, undefined, `${mode}: ${entry.name}: accepted`)
      if (entry.actor === Sink.type && outcome === undefined) accepted++
    } else {
      t.ok(outcome instanceof Error, `${mode}: ${entry.name}: refused at tell`)
      t.match(String(outcome?.message), expect, `${mode}: ${entry.name}: the error says why`)
    }
    await system.tell(Sink, { k: 'neighbour' })
  }
  await settle()
  t.equal(polluted(), undefined, `${mode}: no prototype pollution`)
  t.same(await system.state(Sink, 'neighbour'), { n: hostileBodies.length }, `${mode}: every neighbour arrived once`)
  t.same(await system.state(Sink, 'a'), { n: accepted }, `${mode}: every accepted hostile body had one turn`)
}

t.test('embedded', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Sink, Counter] })
  await feed(t, system, settle, 'embedded')
})

t.test('aws mode (kinesalite, dynalite)', async (t) => {
  const { kinesis, dynamodb } = (await localStackFor(t)).aws
  const name = `rel-tell-${process.pid}`
  await ensureResources({ kinesis, dynamodb, tableName: name, streams: [name], shards: 1 })
  const system = new AwsSystem({ actors: [Sink, Counter], kinesis, dynamodb, tableName: name, stream: name, pollMs: 20, lingerMs: 2, logLevel: 'error' })
  t.teardown(() => system.stop())
  await feed(t, system, () => system.idle(), 'aws')
  t.same(await system.deadLetters(), [], 'nothing accepted became a dead letter')
})

t.test('fast-check: any body is refused with a troupe error or round-trips through the record codec unchanged; embedded tell never throws anything else', async (t) => {
  const { system, settle } = createTestSystem({ actors: [Sink, Counter] })
  let refused = 0
  let accepted = 0
  let roundTrips = 0
  const body = fc.record({ k: fc.string({ minLength: 1, maxLength: 20 }), p: fc.anything({ maxDepth: 5, withMap: true, withSet: true, withBigInt: true, withDate: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true }) })
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const envelope = makeEnvelope({ id: 'm-fc' as MessageId, type: Sink.type, key: b.k, body: b, correlationId: 'm-fc' as CorrelationId, sentAt: 1 })
      // What `tell` on AWS does: the serialisable check, then the codec.
      let data: Buffer | undefined
      try {
        assertSerializable(Sink.type, 'message', b)
        data = encodeRecord(envelope)
      } catch (e) {
        if (!(e instanceof TroupeError)) throw e
      }
      if (data !== undefined) {
        const back = decodeRecord(data)
        if (!back.ok) throw new Error(`encoded, then refused on decode: ${back.reason}`)
        if (!sameValue(back.envelope.body, b)) throw new Error('the body came back different')
        roundTrips++
      }
      const told = await system.tell(Sink, b).then(
        () => true,
        (e: unknown) => {
          if (!(e instanceof TroupeError)) throw e
          return false
        },
      )
      if (told) accepted++
      else refused++
      return polluted() === undefined
    }),
    { numRuns: 300, seed: Number(process.env.FC_SEED ?? 4242) },
  )
  await settle()
  t.comment(`embedded: ${accepted} accepted, ${refused} refused at tell; ${roundTrips} bodies the AWS mode would send round-tripped unchanged`)
  t.ok(roundTrips > 0, 'some bodies round-tripped')
  t.equal(polluted(), undefined, 'no prototype pollution')
  const counts = system.inspect().actors.find((a) => a.type === Sink.type)!.counts
  t.equal(counts.done + counts.dead + counts.filtered, counts.accepted, 'every accepted message ended')
})
