// The shortcut of the record encoder and of state encoding (plain-json.ts): a value it takes as plain JSON is one that
// superjson writes as it is, with no meta, so the shortcut's record is byte for byte superjson's;
// everything superjson would annotate, refuse or share is left to superjson.
import t from 'tap'
import superjson from 'superjson'
import { plainJson } from '../../lib/core/plain-json.js'
import { encode } from '../../lib/core/serialization.js'
import { RecordCodec } from '../../lib/routing/record-codec.js'
import { makeEnvelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'

/** Values built from a seed: the shapes message bodies take, now and then with something superjson annotates. */
function value(seed: { n: number }, depth: number): unknown {
  const r = (seed.n = (seed.n * 1_103_515_245 + 12_345) % 2_147_483_648) % 16
  if (depth > 3 || r < 5) return [1, 'text', true, null, 2.5][r % 5]
  if (r === 5) return ['é\u2028\ud83d', -7, 1e21][seed.n % 3]
  if (r < 9) return Array.from({ length: seed.n % 4 }, () => value(seed, depth + 1))
  if (r < 14) return Object.fromEntries(Array.from({ length: seed.n % 4 }, (_, i) => [`k${i}`, value(seed, depth + 1)]))
  return [undefined, Number.NaN, -0, new Date(0), new Map(), Infinity][seed.n % 6]
}

t.test('what the shortcut takes, superjson writes as it is', async (t) => {
  let taken = 0
  let left = 0
  const wrong: string[] = []
  for (let s = 1; s <= 3_000; s++) {
    const v = { body: value({ n: s }, 0) }
    const doc = superjson.serialize(v as Parameters<typeof superjson.serialize>[0])
    const plain = doc.meta === undefined && JSON.stringify(doc.json) === JSON.stringify(v)
    if (plainJson(v)) {
      taken++
      if (!plain) wrong.push(`${s}: taken, yet superjson writes ${JSON.stringify(doc)}`)
    } else left++
    if (encode(v) !== superjson.stringify(v as Parameters<typeof superjson.stringify>[0])) wrong.push(`${s}: encode differs from superjson`)
  }
  t.same(wrong, [], 'no value taken that superjson would write otherwise, and state text byte for byte superjson\'s')
  t.ok(taken > 1_000 && left > 300, `${taken} taken, ${left} left to superjson`)
})

t.test('what superjson annotates, refuses or shares is left to it', async (t) => {
  const shared = { a: 1 }
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  const cases: [string, unknown][] = [
    ['undefined in an object', { a: undefined }],
    ['undefined in an array', [undefined]],
    ['a hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['NaN', Number.NaN],
    ['-0', -0],
    ['Infinity', -Infinity],
    ['a bigint', 10n],
    ['a Date', new Date(0)],
    ['a Map', new Map([[1, 2]])],
    ['a Set', new Set([1])],
    ['a class instance', new (class Point { x = 1 })()],
    ['a null-prototype object', Object.create(null)],
    ['a key superjson refuses', JSON.parse('{"__proto__": 1}')],
    ['a constructor key', { constructor: 1 }],
    ['an object met twice', { x: shared, y: shared }],
    ['a cycle', cycle],
    ['a function', { f: () => 1 }],
    ['a symbol', Symbol('s')],
    ['a typed array', new Uint8Array(2)],
    ['more containers than it looks at', Array.from({ length: 100 }, () => ({}))],
    ['an array subclass with its own toJSON', new (class V extends Array { toJSON() { return 'v' } })()],
    ['a RegExp match (an array with keys of its own)', /(?<a>x)/.exec('x')],
    ['an array with a constructor key', Object.assign([1], { constructor: 1 })],
    ['a getter', Object.defineProperty({}, 'now', { get: () => Date.now(), enumerable: true })],
  ]
  for (const [what, v] of cases) t.notOk(plainJson({ body: v }), what)
  t.ok(plainJson({ body: { a: [1, 'x', { b: null }], c: false } }), 'plain data is taken')
})

t.test('a registered custom transformer turns the shortcut off: the body is superjson\'s to judge', async (t) => {
  const codec = new RecordCodec()
  const envelope = makeEnvelope({ id: 'm1' as MessageId, type: 'a', key: 'k', body: { tagged: 'yes' }, correlationId: 'c1' as CorrelationId, sentAt: 1 })
  const before = codec.encode(envelope)
  t.ok(plainJson({ body: { tagged: 'yes' } }))
  superjson.registerCustom<{ tagged: string }, string>({ isApplicable: (v): v is { tagged: string } => typeof v === 'object' && v !== null && 'tagged' in v, serialize: (v) => v.tagged, deserialize: (tagged) => ({ tagged }) }, 'plain-json-test.tagged')
  t.notOk(plainJson({ body: { tagged: 'yes' } }), 'off once one is registered')
  // troupe's records carry no custom superjson type: superjson annotates the body, and the codec refuses it, as without the shortcut.
  t.throws(() => codec.encode(envelope), /superjson type \["custom","plain-json-test.tagged"\] at "body" is not one troupe messages carry/)
  t.ok(before.length > 0, 'before it, the body was sent as plain data')
})
