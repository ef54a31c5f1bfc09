// The record codec: envelopes survive the trip to a Kinesis record and back, and hostile records
// come back as `{ ok: false, reason }`, without a throw, a hang or a polluted prototype.
import t from 'tap'
import superjson from 'superjson'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { RecordCodec, decodeRecord, encodeRecord, type DecodeResult } from '../../lib/routing/record-codec.js'
import { InvalidEnvelopeError, RecordTooLargeError } from '../../lib/routing/record-errors.js'
import { Router } from '../../lib/routing/router.js'

function envelope(fields: Partial<Parameters<typeof makeEnvelope>[0]> = {}): Envelope {
  return makeEnvelope({
    id: 'msg-1' as MessageId,
    type: 'pageStats',
    key: '/home',
    body: { url: '/home' },
    correlationId: 'corr-1' as CorrelationId,
    sentAt: 1_700_000_000_000,
    ...fields,
  })
}

/** Builds record text from a superjson document, the way a stranger could. */
const record = (doc: unknown) => Buffer.from(JSON.stringify(doc))
const validJson = { id: 'm', type: 't', key: '', correlationId: 'c', attempt: 0, sentAt: 1 }

t.test('every envelope field and superjson type survives the round trip', async (t) => {
  const shared = { n: 1 }
  const body = {
    at: new Date(1_234_567),
    tags: new Set(['a', 'b']),
    counts: new Map<unknown, unknown>([
      ['x', 1n],
      [new Date(1), new Set([undefined, NaN])],
    ]),
    huge: 2n ** 70n,
    neg: -0,
    inf: -Infinity,
    nan: NaN,
    nothing: undefined,
    nil: null,
    re: /a\/b.c/gi,
    url: new URL('https://example.com/a?b=1'),
    err: new Error('boom'),
    nested: { list: [1, 'two', { three: [new Date(3)] }], 'dotted.key': new Date(4), 'back\\slash': 5n },
    shared,
    again: shared,
  }
  const full = envelope({
    body,
    parentId: 'parent' as MessageId,
    causationId: 'cause' as MessageId,
    attempt: 3,
    replyTo: 'joiner',
    deadline: 1_700_000_005_000,
    fork: { forkId: 'fork-1', index: 2 },
  })
  const codec = new RecordCodec()
  const data = codec.encode(full)
  t.ok(Buffer.isBuffer(data))
  t.same(JSON.parse(data.toString('utf8')).json.id, 'msg-1', 'the data is superjson text in UTF-8')

  for (const input of [data, new Uint8Array(data), data.toString('base64')]) {
    const r = codec.decode(input)
    if (!r.ok) throw new Error(r.reason)
    const e = r.envelope
    t.strictSame(Object.keys(e), Object.keys(full), 'the same fields, in the same order')
    t.equal(e.id, 'msg-1')
    t.equal(e.type, 'pageStats')
    t.equal(e.key, '/home')
    t.equal(e.correlationId, 'corr-1')
    t.equal(e.parentId, 'parent')
    t.equal(e.causationId, 'cause')
    t.equal(e.attempt, 3)
    t.equal(e.sentAt, 1_700_000_000_000)
    t.equal(e.replyTo, 'joiner')
    t.equal(e.deadline, 1_700_000_005_000)
    t.strictSame(e.fork, { forkId: 'fork-1', index: 2 })
    const b = e.body as typeof body
    t.ok(b.at instanceof Date && b.at.getTime() === 1_234_567, 'Date')
    t.ok(b.tags instanceof Set && [...b.tags].join() === 'a,b', 'Set')
    t.ok(b.counts instanceof Map && b.counts.get('x') === 1n, 'Map with a BigInt value')
    const [[, inner]] = [...b.counts].slice(1) as [[Date, Set<unknown>]]
    t.ok(inner instanceof Set && inner.has(undefined) && [...inner].some(Number.isNaN), 'a Set in a Map, with undefined and NaN')
    t.equal(b.huge, 2n ** 70n, 'BigInt')
    t.ok(Object.is(b.neg, -0), '-0')
    t.equal(b.inf, -Infinity)
    t.ok(Number.isNaN(b.nan))
    t.ok('nothing' in b && b.nothing === undefined, 'an undefined property stays, undefined')
    t.equal(b.nil, null)
    t.ok(b.re instanceof RegExp && b.re.source === 'a\\/b.c' && b.re.flags === 'gi', 'RegExp')
    t.ok(b.url instanceof URL && b.url.href === 'https://example.com/a?b=1', 'URL')
    t.ok(b.err instanceof Error && b.err.message === 'boom', 'Error')
    t.ok(b.nested.list[2] && (b.nested.list[2] as { three: Date[] }).three[0] instanceof Date)
    t.ok(b.nested['dotted.key'] instanceof Date, 'a key with a dot')
    t.equal(b.nested['back\\slash'], 5n, 'a key with a backslash')
    t.equal(b.again, b.shared, 'shared references stay shared')
  }
})

t.test('a minimal envelope: undefined fields are left out of the record and come back undefined', async (t) => {
  const plain = envelope({ key: '', body: undefined })
  const data = encodeRecord(plain)
  const text = data.toString('utf8')
  t.notMatch(text, /parentId|causationId|replyTo|deadline|fork|body/, 'nothing written for undefined fields')
  t.notMatch(text, /"meta"/, 'no superjson metadata at all')
  const r = decodeRecord(data)
  t.ok(r.ok)
  if (r.ok) t.strictSame(r.envelope, plain)
})

/** An envelope that inherits `fields` from its prototype, owning the rest. */
function inheriting(fields: Record<string, unknown>): Envelope {
  const e = Object.assign(Object.create(fields) as Record<string, unknown>, envelope())
  for (const k of Object.keys(fields)) delete e[k]
  return e as unknown as Envelope
}

t.test('the record is the text superjson writes, whether the body takes the plain-JSON path or not', async (t) => {
  const full = {
    parentId: 'p-1' as MessageId,
    causationId: 'c-1' as MessageId,
    replyTo: 'asker',
    deadline: 1_700_000_005_000,
    fork: { forkId: 'f-1', index: 3 },
    receipt: 'reply' as const,
  }
  const cases: [string, Envelope][] = [
    ['a plain body', envelope()],
    ['every field set', { ...envelope(full), origin: { lane: 'p:abc', pos: '12', i: 0, fence: '7' }, trace: { parent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }, diedAt: 1_700_000_000_000 }],
    ['no body', envelope({ body: undefined })],
    ['a body superjson annotates', envelope({ body: { at: new Date(5), n: -0 } })],
    ['attempt -0', { ...envelope(), attempt: -0 }],
    ['sentAt -0', envelope({ sentAt: -0 })],
    ['a fork index -0', envelope({ fork: { forkId: 'f-1', index: -0 } })],
    ['an origin index -0', { ...envelope(), origin: { lane: 'p:abc', pos: '12', i: -0, fence: '7' } }],
    ['a deadline -0', envelope({ deadline: -0 })],
    ['a control record, and a trace with its state', { ...envelope({ body: undefined }), control: 'flush', trace: { parent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, state: 'k=v' } }],
    // Fields an envelope inherits are read as it reads its own, and written as superjson would.
    ['an inherited bigint deadline', inheriting({ deadline: 10n })],
    ['an inherited Date parentId', inheriting({ parentId: new Date(5) })],
    ['an inherited NaN deadline', inheriting({ deadline: NaN })],
  ]
  for (const [name, e] of cases) {
    const wire: Record<string, unknown> = { id: e.id, type: e.type, key: e.key }
    if (e.body !== undefined) wire.body = e.body
    wire.correlationId = e.correlationId
    for (const k of ['parentId', 'causationId'] as const) if (e[k] !== undefined) wire[k] = e[k]
    wire.attempt = e.attempt
    wire.sentAt = e.sentAt
    for (const k of ['replyTo', 'deadline', 'fork', 'receipt'] as const) if (e[k] !== undefined) wire[k] = e[k]
    if (e.origin) wire.origin = [e.origin.lane, e.origin.pos, e.origin.i, e.origin.fence]
    if (e.control) wire.control = e.control
    if (e.trace) wire.trace = e.trace.state === undefined ? e.trace.parent : [e.trace.parent, e.trace.state]
    if (e.diedAt !== undefined) wire.diedAt = e.diedAt
    t.equal(encodeRecord(e).toString('utf8'), JSON.stringify(superjson.serialize(wire as never)), `${name}: the text superjson writes`)
    const r = decodeRecord(encodeRecord(e))
    if (!Object.getPrototypeOf(e) || Object.getPrototypeOf(e) === Object.prototype) {
      t.ok(r.ok && Object.is(r.envelope.attempt, e.attempt) && Object.is(r.envelope.sentAt, e.sentAt), `${name}: attempt and sentAt come back as they were`)
      t.equal(r.ok && r.envelope.diedAt, e.diedAt, `${name}: diedAt comes back as it was`)
    }
  }
})

t.test('a field read twice is written as it was read for the record, not as it was first checked', async (t) => {
  // Getters that answer otherwise on each read: what is written is what the record's own read got.
  const reads = (...values: unknown[]) => {
    let n = 0
    return () => values[Math.min(n++, values.length - 1)]
  }
  const body = reads({ plain: true }, new Map([['k', 1]]), { plain: true })
  const withBody = Object.defineProperty(envelope(), 'body', { get: body, enumerable: true })
  const r = decodeRecord(encodeRecord(withBody))
  t.ok(r.ok && r.envelope.body instanceof Map, 'a body read as a Map for the record comes back a Map')
  const sentAt = reads(5, -0, 5)
  const withSentAt = Object.defineProperty(envelope(), 'sentAt', { get: sentAt, enumerable: true })
  const s = decodeRecord(encodeRecord(withSentAt))
  t.ok(s.ok && Object.is(s.envelope.sentAt, -0), 'a sentAt read as -0 for the record comes back -0')
})

t.test('cyclic bodies round-trip as superjson allows', async (t) => {
  const body: Record<string, unknown> = { name: 'loop' }
  body.self = body
  const r = decodeRecord(encodeRecord(envelope({ body })))
  t.ok(r.ok)
  if (r.ok) t.equal((r.envelope.body as typeof body).self, r.envelope.body)
})

t.test('toRecord adds the stream and partition key, and counts their bytes', async (t) => {
  const router = new Router({ defaultStream: 'events' })
  const rec = new RecordCodec().toRecord(envelope({ key: 'ü' }), router)
  t.equal(rec.stream, 'events')
  t.equal(rec.partitionKey, 'pageStats#ü')
  t.equal(rec.bytes, rec.data.byteLength + Buffer.byteLength('pageStats#ü'), 'data + partition key, UTF-8')
})

t.test('unknown fields: ignored and dropped by default, refused on request', async (t) => {
  const doc = superjson.serialize({ ...validJson, future: new Date(0), fork: { forkId: 'f', index: 0, extra: 1 } })
  const futureOnly = superjson.serialize({ ...validJson, future: new Date(0) })
  const lenient = decodeRecord(record(doc))
  t.ok(lenient.ok)
  if (lenient.ok) {
    t.notOk('future' in lenient.envelope, 'not carried into the envelope')
    t.strictSame(lenient.envelope.fork, { forkId: 'f', index: 0 })
  }
  const strict = new RecordCodec({ unknownFields: 'reject' }).decode(record(futureOnly))
  t.match(strict, { ok: false, reason: /unknown field "future"/ })
  const strictFork = new RecordCodec({ unknownFields: 'reject' }).decode(record({ json: { ...validJson, fork: { forkId: 'f', index: 0, extra: 1 } } }))
  t.match(strictFork, { ok: false, reason: /"fork" has unknown field "extra"/ })
  const full = { parentId: 'p-1' as MessageId, causationId: 'c-1' as MessageId, replyTo: 'asker', deadline: 5, fork: { forkId: 'f-1', index: 3 } }
  const all: Envelope = { ...envelope(full), receipt: 'reply', origin: { lane: 'p:abc', pos: '1', i: 0, fence: '1' }, control: 'flush', trace: { parent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }, diedAt: 7 }
  const written = Object.keys((JSON.parse(encodeRecord(all).toString('utf8')) as { json: object }).json)
  t.same(written.filter((k) => all[k as keyof Envelope] === undefined), [], 'the envelope sets every field a record carries')
  const every = new RecordCodec({ unknownFields: 'reject' }).decode(encodeRecord(all))
  t.ok(every.ok, `every field troupe writes (${written.join(', ')}) is known${every.ok ? '' : `: ${every.reason}`}`)
  t.equal(every.ok && every.envelope.diedAt, 7, 'diedAt among them')
})

t.test('encoding refuses what decoding would refuse, naming the actor and message', async (t) => {
  const codec = new RecordCodec({ maxDepth: 8, maxLiteralLength: 50 })
  const cases: [string, Envelope, RegExp][] = [
    ['id too long', envelope({ id: 'x'.repeat(257) as MessageId }), /"id" must be a string of 1 to 256 characters, got a string of 257/],
    ['empty type', envelope({ type: '' }), /"type" must be a string of 1 to 256/],
    ['attempt not whole', envelope({ attempt: 1.5 }), /"attempt" must be a whole number/],
    ['sentAt NaN', envelope({ sentAt: NaN }), /"sentAt" must be a time/],
    ['deadline Infinity', envelope({ deadline: Infinity }), /"deadline" must be a time/],
    ['diedAt a string', { ...envelope(), diedAt: '5' as never }, /"diedAt" must be a time/],
    ['sentAt past what a Date holds (DynamoDB could not keep it as a letter’s deadAt)', envelope({ sentAt: 1e300 }), /"sentAt" must be a time \(epoch ms, at most 8640000000000000 either way\), got the number 1e\+300/],
    ['diedAt past what a Date holds', { ...envelope(), diedAt: -8.7e15 }, /"diedAt" must be a time/],
    ['fork index', envelope({ fork: { forkId: 'f', index: -1 } }), /"fork.index" must be a whole number/],
    ['too deep', envelope({ body: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }), /nests deeper than 8 levels/],
    ['long BigInt', envelope({ body: { n: 10n ** 60n } }), /BigInt at "body.n" is 61 characters long, over the limit of 50/],
    ['constructor key with a Date', envelope({ body: { constructor: new Date(0) } }), /superjson cannot encode its body .*constructor/],
  ]
  for (const [name, e, reason] of cases) {
    const err = t.throws(() => codec.encode(e), name) as InvalidEnvelopeError
    t.type(err, InvalidEnvelopeError, name)
    t.equal(err.code, 'TROUPE_INVALID_ENVELOPE', name)
    t.match(err.message, reason, name)
    if (name !== 'id too long' && name !== 'empty type') t.match(err.message, /message msg-1 for pageStats/, `${name}: names the message and actor`)
  }
  const small = new RecordCodec({ maxRecordBytes: 1_000 })
  const err = t.throws(() => small.encode(envelope({ body: 'x'.repeat(2_000) }))) as RecordTooLargeError
  t.type(err, RecordTooLargeError)
  t.equal(err.code, 'TROUPE_RECORD_TOO_LARGE')
  t.match(err.message, /message msg-1 for pageStats is \d+ bytes/)
  t.throws(() => new RecordCodec({ maxDepth: 0 }), { code: 'TROUPE_CONFIG' })
  t.throws(() => new RecordCodec({ unknownFields: 'drop' as never }), { code: 'TROUPE_CONFIG' })
})

t.test('a body exactly at the depth limit passes; one level more does not', async (t) => {
  const codec = new RecordCodec({ maxDepth: 10 })
  const nest = (levels: number) => {
    let v: unknown = 1
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v }
    return v
  }
  t.ok(codec.decode(codec.encode(envelope({ body: nest(10) }))).ok)
  t.throws(() => codec.encode(envelope({ body: nest(11) })), /deeper than 10/)
  const r = codec.decode(record({ json: { ...validJson, body: nest(11) } }))
  t.match(r, { ok: false, reason: /the body nests deeper than 10 levels/ })
  // Sets inside Sets: the metadata nests twice as deep as the body, and still passes.
  let sets: unknown = new Set([new Date(0)])
  for (let i = 1; i < 10; i++) sets = new Set([sets])
  const deepSets = codec.decode(codec.encode(envelope({ body: sets })))
  t.ok(deepSets.ok, 'nested Sets at the limit pass')
})

t.test('hostile records: each refused with a reason, nothing thrown, nothing polluted', async (t) => {
  const small = new RecordCodec({ maxRecordBytes: 4_096 })
  const codec = new RecordCodec()
  const deep = (n: number) => `{"json":{"id":"m","type":"t","key":"","correlationId":"c","attempt":0,"sentAt":1,"body":${'['.repeat(n)}${']'.repeat(n)}}}`
  const bigMap = Array.from({ length: 200_000 }, (_, i) => [i, i])
  const manyRefs = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`body.m.${199_999 - i}.1`, [`body.x${i}`]]))
  const cases: [string, Uint8Array | string, RegExp, RecordCodec?][] = [
    // transport layer
    ['not base64', '@@@@', /not valid base64/],
    ['base64 with a bad length', 'YWJjZ', /not valid base64/],
    ['base64 with whitespace', 'YWJj\nZGVm', /not valid base64/],
    ['base64 over the size limit', 'A'.repeat(8_000), /base64 data is 8000 characters, more than a record of 4096 bytes/, small],
    ['bytes over the size limit', Buffer.alloc(4_097, 0x20), /4097 bytes, over the limit of 4096/, small],
    ['a huge string, refused before parsing', Buffer.from(`{"json":{"id":"${'x'.repeat(11 * 1024 * 1024)}"}}`), /over the limit of 10485760/],
    ['empty bytes', Buffer.alloc(0), /the record is empty/],
    ['empty base64', '', /the record is empty/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
    // JSON layer
    ['truncated JSON', encodeRecord(envelope()).subarray(0, 40), /not JSON/],
    ['not JSON', Buffer.from('hello'), /not JSON/],
    ['JSON, not an object', Buffer.from('[1,2,3]'), /not a superjson document/],
    ['JSON null', Buffer.from('null'), /not a superjson document/],
    ['no json field', record({ meta: {} }), /not a superjson document/],
    ['json is an array', record({ json: [1] }), /holds no envelope/],
    ['10,000 levels deep', Buffer.from(deep(10_000)), /nests deeper than a body of 64 levels can/],
    ['65 levels deep', Buffer.from(deep(65)), /the body nests deeper than 64 levels/],
    // prototype pollution
    ['__proto__ key in the body', Buffer.from('{"json":{"id":"m","type":"t","key":"","correlationId":"c","attempt":0,"sentAt":1,"body":{"a":[{"__proto__":{"polluted":1}}]}}}'), /key named "__proto__"/],
    ['__proto__ key written with escapes', Buffer.from('{"json":{"\\u005f_proto__":{"polluted":1},"id":"m"}}'), /key named "__proto__"/],
    // superjson reads these keys but refuses to write them: the message could never be kept or sent on.
    ['constructor key in the body', record({ json: { ...validJson, body: { n: 1, constructor: 1 } } }), /the record has a key named "constructor", which superjson refuses to write/],
    ['prototype key deep in the body', record({ json: { ...validJson, body: { a: [{ b: { prototype: {} } }] } } }), /the record has a key named "prototype", which superjson refuses to write/],
    ['meta path through __proto__', record({ json: validJson, meta: { values: { '__proto__.polluted': ['Date'] }, v: 1 } }), /path through "__proto__"/],
    ['meta path through constructor.prototype', record({ json: { ...validJson, body: {} }, meta: { values: { 'body.constructor.prototype.polluted': ['bigint'] }, v: 1 } }), /path through "constructor"/],
    ['nested meta key __proto__', Buffer.from(`{"json":${JSON.stringify({ ...validJson, body: [] })},"meta":{"values":{"body":["set",{"__proto__":["Date"]}]},"v":1}}`), /key named "__proto__"|through "__proto__"/],
    ['reference into __proto__', record({ json: { ...validJson, body: { a: {} } }, meta: { referentialEqualities: { 'body.a': ['__proto__.polluted'] }, v: 1 } }), /path through "__proto__"/],
    ['reference into constructor.prototype', record({ json: { ...validJson, body: { a: {} } }, meta: { referentialEqualities: { 'body.a': ['body.constructor.prototype.polluted'] }, v: 1 } }), /path through "constructor"/],
    ['reference from prototype', record({ json: { ...validJson, body: { a: {} } }, meta: { referentialEqualities: { 'body.prototype': ['body.a'] }, v: 1 } }), /path through "prototype"/],
    // metadata troupe never writes
    ['a registered class', record({ json: { ...validJson, body: {} }, meta: { values: { body: [['class', 'Foo']] }, v: 1 } }), /superjson type \["class","Foo"\] at "body" is not one troupe messages carry/],
    ['a custom type', record({ json: { ...validJson, body: 1 }, meta: { values: { body: [['custom', 'x']] }, v: 1 } }), /not one troupe messages carry/],
    ['a symbol', record({ json: { ...validJson, body: 's' }, meta: { values: { body: [['symbol', 's']] }, v: 1 } }), /not one troupe messages carry/],
    ['a typed array', record({ json: { ...validJson, body: [1] }, meta: { values: { body: [['typed-array', 'Uint8Array']] }, v: 1 } }), /not one troupe messages carry/],
    ['type name toString', record({ json: { ...validJson, body: 1 }, meta: { values: { body: ['toString'] }, v: 1 } }), /"toString" at "body" is not one/],
    ['annotation on the envelope itself', record({ json: validJson, meta: { values: ['map'], v: 1 } }), /annotates the envelope itself/],
    ['envelope referring to itself', record({ json: { ...validJson, body: {} }, meta: { referentialEqualities: [['body.self']], v: 1 } }), /envelope refer to itself/],
    ['metadata without a version', record({ json: { ...validJson, body: 1 }, meta: { values: { body: ['bigint'] } } }), /version undefined is not supported/],
    ['metadata of version 0', record({ json: { ...validJson, body: 1 }, meta: { values: { body: ['bigint'] }, v: 0 } }), /version 0 is not supported/],
    ['metadata not an object', record({ json: validJson, meta: 'x' }), /metadata is not an object/],
    ['annotation not a list or tree', record({ json: { ...validJson, body: 1 }, meta: { values: { body: 5 }, v: 1 } }), /neither an annotation nor a subtree/],
    ['empty annotation', record({ json: { ...validJson, body: 1 }, meta: { values: { body: [] }, v: 1 } }), /malformed/],
    ['bad path escape', record({ json: { ...validJson, body: 1 }, meta: { values: { 'body\\x': ['Date'] }, v: 1 } }), /bad escape/],
    ['path not in the record', record({ json: { ...validJson, body: {} }, meta: { values: { 'body.nope': ['map'] }, v: 1 } }), /names "body.nope", which is not in the record/],
    ['a Map that is not an array', record({ json: { ...validJson, body: 'x' }, meta: { values: { body: ['map'] }, v: 1 } }), /Map at "body" is not an array/],
    // a key written twice: JSON.parse keeps the last, and the message in the first would be lost
    ['a document naming json twice', Buffer.from(`{"json":${JSON.stringify(validJson)},"json":${JSON.stringify({ ...validJson, id: 'm2' })}}`), /the record names a field of its document twice/],
    ['json twice, once escaped', Buffer.from(`{"json":${JSON.stringify(validJson)},"\\u006ason":${JSON.stringify({ ...validJson, id: 'm2' })}}`), /the record names a field of its document twice/],
    ['an aggregate naming its field twice', Buffer.from(`{"@troupe.aggregate":[{"json":${JSON.stringify(validJson)}}], "@troupe.aggregate":[{"json":${JSON.stringify({ ...validJson, id: 'm2' })}}]}`), /the record names a field of its document twice/],
    ['an aggregate member naming json twice', Buffer.from(`{"@troupe.aggregate":[{"json":${JSON.stringify(validJson)}},{"json":${JSON.stringify({ ...validJson, id: 'm2' })},"json":${JSON.stringify({ ...validJson, id: 'm3' })}}]}`), /member 2 of 2 of the aggregate record names a field of its document twice/],
    // superjson would read an Invalid Date, and write it again as null: the text sent would be lost
    ['a Date that is no time', record({ json: { ...validJson, body: { d: 'not a date at all' } }, meta: { values: { 'body.d': ['Date'] }, v: 1 } }), /Date at "body.d" is "not a date at all", not a time/],
    ['a Date that is a number', record({ json: { ...validJson, body: 5 }, meta: { values: { body: ['Date'] }, v: 1 } }), /Date at "body" is 5, not a time/],
    ['references not a list', record({ json: { ...validJson, body: {} }, meta: { referentialEqualities: { body: 'x' }, v: 1 } }), /not a list/],
    // metadata shaped for quadratic work
    ['flattened path through a Map', record({ json: { ...validJson, body: { m: bigMap } }, meta: { values: { 'body.m': ['map'], 'body.m.199999.1': ['Date'] }, v: 1 } }), /not in the shape superjson writes/],
    ['one path annotated twice', record({ json: { ...validJson, body: { m: [] } }, meta: { values: { body: { m: ['map'] }, 'body.m': ['set'] }, v: 1 } }), /names "body.m" twice/],
    ['references walking a big Map', record({ json: { ...validJson, body: { m: bigMap } }, meta: { values: { 'body.m': ['map'] }, referentialEqualities: manyRefs, v: 1 } }), /would walk more than 10000000 Map\/Set entries/],
    ['a 100,000-digit BigInt', record({ json: { ...validJson, body: '9'.repeat(100_000) }, meta: { values: { body: ['bigint'] }, v: 1 } }), /BigInt at "body" is 100000 characters long, over the limit of 10000/],
    ['a 1 MB RegExp', record({ json: { ...validJson, body: `/${'(?:a|b)'.repeat(150_000)}/` }, meta: { values: { body: ['regexp'] }, v: 1 } }), /RegExp at "body" is \d+ characters long/],
    ['a BigInt that is not a number', record({ json: { ...validJson, body: 'abc' }, meta: { values: { body: ['bigint'] }, v: 1 } }), /superjson could not decode the record \(SyntaxError/],
    ['a RegExp that does not compile', record({ json: { ...validJson, body: '/(/' }, meta: { values: { body: ['regexp'] }, v: 1 } }), /superjson could not decode the record \(SyntaxError/],
    // fields
    ['no id', record({ json: { ...validJson, id: undefined } }), /"id" must be a string of 1 to 256 characters, got nothing/],
    ['numeric id', record({ json: { ...validJson, id: 7 } }), /"id" must be .* got the number 7/],
    ['id of 257 characters', record({ json: { ...validJson, id: 'i'.repeat(257) } }), /"id" must be a string of 1 to 256 characters, got a string of 257/],
    ['id turned into a Date by metadata', record({ json: { ...validJson, id: '2026-12-07T00:00:00.000Z' }, meta: { values: { id: ['Date'] }, v: 1 } }), /"id" must be a string .* got a Date/],
    ['empty type', record({ json: { ...validJson, type: '' } }), /"type" must be a string of 1 to 256/],
    ['key too long', record({ json: { ...validJson, key: 'k'.repeat(1_025) } }), /"key" must be a string of 0 to 1024/],
    // DynamoDB keeps keys as UTF-8, where a lone surrogate becomes U+FFFD: '\uD800' and '\uDC00' would share an item
    ['key with a lone surrogate', record({ json: { ...validJson, key: 'a\uD800' } }), /"key" must be well-formed UTF-16 \(no lone surrogate\), got "a\\ud800"/],
    ['id with a lone surrogate', record({ json: { ...validJson, id: '\uDC00' } }), /"id" must be well-formed UTF-16/],
    ['type with a lone surrogate', record({ json: { ...validJson, type: 'x\uDFFF' } }), /"type" must be well-formed UTF-16/],
    ['no correlation id', record({ json: { ...validJson, correlationId: '' } }), /"correlationId"/],
    ['parentId null', record({ json: { ...validJson, parentId: null } }), /"parentId" must be a string of 1 to 256 characters when set, got null/],
    ['replyTo a number', record({ json: { ...validJson, replyTo: 5 } }), /"replyTo"/],
    ['attempt a fraction', record({ json: { ...validJson, attempt: 0.5 } }), /"attempt" must be a whole number from 0 up, got the number 0.5/],
    ['attempt negative', record({ json: { ...validJson, attempt: -1 } }), /"attempt"/],
    ['attempt a string', record({ json: { ...validJson, attempt: '1' } }), /"attempt" .* got a string/],
    ['sentAt NaN by metadata', record({ json: { ...validJson, sentAt: 'NaN' }, meta: { values: { sentAt: ['number'] }, v: 1 } }), /"sentAt" must be a time \(epoch ms, at most 8640000000000000 either way\), got NaN/],
    ['deadline Infinity by metadata', record({ json: { ...validJson, deadline: 'Infinity' }, meta: { values: { deadline: ['number'] }, v: 1 } }), /"deadline" must be a time/],
    ['fork an array', record({ json: { ...validJson, fork: [] } }), /"fork" must be \{ forkId, index \}/],
    ['fork without an id', record({ json: { ...validJson, fork: { index: 0 } } }), /"fork.forkId"/],
    ['fork index a string', record({ json: { ...validJson, fork: { forkId: 'f', index: '0' } } }), /"fork.index"/],
  ]

  const started = Date.now()
  for (const [name, input, reason, c] of cases) {
    let r: DecodeResult | undefined
    // A hang would end the file at its timeout; how fast each one is refused is bench's business.
    t.doesNotThrow(() => (r = (c ?? codec).decode(input)), `${name}: no throw`)
    t.match(r, { ok: false, reason }, name)
  }
  for (const odd of [null, undefined, 42, {}, [1], new ArrayBuffer(4)]) {
    t.match(codec.decode(odd as never), { ok: false, reason: /not bytes or a base64 string/ }, `data of type ${typeof odd}`)
  }
  t.comment(`${cases.length} hostile records refused in ${Date.now() - started} ms`)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is clean')
  t.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false)
  t.equal(([] as unknown as Record<string, unknown>).polluted, undefined)
})

t.test('a refusal names the message and actor when they are readable', async (t) => {
  const r = decodeRecord(record({ json: { ...validJson, id: 'm-9', type: 'pageView', attempt: -2 } }))
  t.match(r, { ok: false, messageId: 'm-9', actor: 'pageView', reason: /"attempt"/ })
  const surrogate = decodeRecord(record({ json: { ...validJson, id: 'm\uD800', type: 'page\uDC00' } }))
  t.notOk('messageId' in surrogate || 'actor' in surrogate, 'an id or a type with a lone surrogate is not named as one')
  const anon = decodeRecord(Buffer.from('nope'))
  t.notOk('messageId' in anon)
})

t.test('superjson itself is not weakened for the rest of the process', async (t) => {
  // The codec calls superjson's own deserialize; the guard only refuses documents first.
  t.throws(() => superjson.parse('{"json":{},"meta":{"values":{"__proto__.x":["Date"]},"v":1}}'), /__proto__ is not allowed/)
  t.equal(({} as Record<string, unknown>).x, undefined)
})

t.test('aggregate records: a run of one instance’s messages in one record, members in order', async (t) => {
  const codec = new RecordCodec()
  const run = [0, 1, 2].map((n) => envelope({ id: `m${n}` as MessageId, body: { n, at: new Date(n), tags: new Set([n]) } }))
  const data = codec.encodeAggregate(
    run.map((e) => codec.encode(e)),
    'pageStats',
    'm0',
  )
  for (const input of [data, data.toString('base64')]) {
    const r = codec.decodeAll(input)
    if (!r.ok) throw new Error(r.reason)
    t.equal(r.aggregate, true)
    t.strictSame(
      r.envelopes.map((e) => e.id),
      ['m0', 'm1', 'm2'],
    )
    t.ok((r.envelopes[2]!.body as { at: Date }).at instanceof Date, 'superjson types survive in members')
    t.ok((r.envelopes[1]!.body as { tags: Set<number> }).tags.has(1))
  }
  const plain = codec.decodeAll(codec.encode(run[0]!))
  t.match(plain, { ok: true, aggregate: false }, 'a plain record decodes as one envelope')
  t.equal(plain.ok && plain.envelopes.length, 1)
  t.match(codec.decode(data), { ok: false, reason: /aggregate of 3 messages where one message was expected/, messageId: 'm0', actor: 'pageStats' }, 'decode() wants one message')
  t.equal(decodeRecord(encodeRecord(run[0]!)).ok, true, 'plain records still decode with decode() (rolling deploys)')
})

t.test('aggregate records are encoded within the record limit', async (t) => {
  const codec = new RecordCodec({ maxRecordBytes: 1_000 })
  const member = codec.encode(envelope({ body: { s: 'x'.repeat(300) } }))
  t.ok(codec.encodeAggregate([member, member], 'pageStats', 'msg-1').byteLength <= 1_000)
  t.throws(() => codec.encodeAggregate([member, member, member], 'pageStats', 'msg-1'), RecordTooLargeError)
})

t.test('hostile aggregate records: each refused whole with a reason naming the member, nothing thrown', async (t) => {
  const codec = new RecordCodec({ unknownFields: 'reject' })
  const doc = (fields: Record<string, unknown> = {}) => ({ json: { ...validJson, ...fields } })
  const aggregate = (members: unknown, extra = '') => Buffer.from(`{"@troupe.aggregate":${JSON.stringify(members)}${extra}}`)
  const cases: [string, Buffer, RegExp][] = [
    ['an empty list', aggregate([]), /must be a list of one or more messages/],
    ['not a list', aggregate({ json: validJson }), /must be a list of one or more messages, got an object/],
    ['a member that is no document', aggregate([doc(), 'text']), /member 2 of 2 of the aggregate record: the record is not a superjson document/],
    ['a member with a bad field', aggregate([doc(), doc({ id: 'n', attempt: -1 })]), /member 2 of 2 of the aggregate record: the field "attempt" must be a whole number/],
    ['a member with an unknown field', aggregate([doc({ sneaky: 1 })]), /member 1 of 1 .*unknown field "sneaky"/],
    ['members of two keys', aggregate([doc(), doc({ id: 'n', key: 'other' })]), /member 2 of 2 of the aggregate record is for t .*one aggregate carries one actor instance/],
    ['members of two types', aggregate([doc(), doc({ id: 'n', type: 'u' })]), /member 2 of 2 of the aggregate record is for u/],
    ['a second top-level field', aggregate([doc()], ',"json":{}'), /must hold the one field "@troupe.aggregate"/],
    ['metadata through __proto__', Buffer.from(`{"@troupe.aggregate":[{"json":${JSON.stringify(validJson)},"meta":{"values":{"__proto__":["map"]}}}]}`), /member 1 of 1/],
    ['a member nested too deep', aggregate([{ json: { ...validJson, body: JSON.parse('['.repeat(200) + ']'.repeat(200)) } }]), /nests deeper/],
    ['truncated', Buffer.from('{"@troupe.aggregate":[{"json":'), /not JSON/],
  ]
  for (const [name, data, reason] of cases) {
    let r: ReturnType<RecordCodec['decodeAll']> | undefined
    t.doesNotThrow(() => (r = codec.decodeAll(data)), `${name}: no throw`)
    t.match(r, { ok: false, reason }, name)
  }
  t.equal(({} as Record<string, unknown>).map, undefined, 'Object.prototype is clean')
  const named = codec.decodeAll(aggregate([doc(), doc({ id: 'n2', attempt: 'x' })]))
  t.match(named, { ok: false, messageId: 'n2', actor: 't' }, 'the failing member’s id and actor are named when readable')
})
