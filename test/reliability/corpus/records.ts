// The hostile-record corpus: record data no troupe sender would write, each with the reason a
// host must give when it dead-letters it. The small ones are literal text; the large ones (10 MiB,
// 10,000 levels) are built on demand so the repository stays small. Every entry is fed both as
// bytes (what GetRecords returns to the shard consumer) and as the base64 string of a Lambda
// event record. `tell`-side hostility (bodies, keys, unknown actors) is in ../tell-corpus.ts.

/** One hostile record: its data and the dead letter's reason it must produce. */
export interface HostileRecord {
  name: string
  /** Record data as bytes, or `{ base64 }` for data only a Lambda event can carry (bad base64). */
  data: () => Buffer | { base64: string }
  /** What the dead letter's error message must say. */
  reason: RegExp
}

const MiB = 1024 * 1024
const text = (s: string) => () => Buffer.from(s, 'utf8')
/** A superjson document of a well-formed envelope around `body` and `meta`, as text. */
let made = 0
function doc(fields: Record<string, unknown>, meta?: unknown): string {
  const id = `m-hostile-${++made}`
  const json = { id, type: 'rel.counter', key: 'h', correlationId: id, attempt: 0, sentAt: 1, ...fields }
  return JSON.stringify(meta === undefined ? { json } : { json, meta })
}
function nested(levels: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(levels) + leaf + close.repeat(levels)
}

export const hostileRecords: HostileRecord[] = [
  // ── bytes that are not text, or not JSON ──
  { name: 'malformed base64 (bad alphabet)', data: () => ({ base64: 'eyJqc29uIjp7fX0*!' }), reason: /not valid base64/ },
  { name: 'malformed base64 (bad length)', data: () => ({ base64: 'eyJqc29uIjp7fX0' }), reason: /not valid base64/ },
  { name: 'empty record', data: () => Buffer.alloc(0), reason: /empty/ },
  { name: 'invalid UTF-8', data: () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reason: /not valid UTF-8/ },
  { name: 'truncated JSON', data: () => Buffer.from(doc({ body: { k: 'h', n: 1 } }).slice(0, 40)), reason: /not JSON/ },
  { name: 'invalid JSON', data: text('{"json": {id: nope}}'), reason: /not JSON/ },
  { name: 'JSON but not a document', data: text('[1,2,3]'), reason: /not a superjson document/ },
  { name: 'a document with no envelope', data: text('{"json":"just a string"}'), reason: /holds no envelope/ },
  // ── a message hidden by a key written twice (JSON.parse keeps the last) ──
  { name: 'a document naming json twice', data: () => Buffer.from(doc({ body: { k: 'h', n: 1 } }).replace(/}$/, `,"json":${JSON.stringify(JSON.parse(doc({ body: { k: 'h', n: 2 } })).json)}}`)), reason: /names a field of its document twice/ },
  { name: 'an aggregate naming its field twice', data: () => Buffer.from(`{"@troupe.aggregate":[${doc({ body: { k: 'h', n: 1 } })}],"@troupe.aggregate":[${doc({ body: { k: 'h', n: 2 } })}]}`), reason: /names a field of its document twice/ },
  { name: 'a Date that is no time', data: text(doc({ body: { k: 'h', n: 1, at: 'not a date at all' } }, { values: { 'body.at': ['Date'] }, v: 1 })), reason: /Date at "body.at" is "not a date at all", not a time/ },
  // ── prototype pollution through JSON keys and superjson metadata ──
  { name: '__proto__ key in the body', data: text(doc({ body: JSON.parse('{"k":"h","n":1,"__proto__":{"polluted":true}}') }).replace('"k":"h","n":1', '"k":"h","n":1,"__proto__":{"polluted":true}')), reason: /__proto__/ },
  { name: 'superjson meta through __proto__', data: text(doc({ body: { k: 'h', n: 1 } }, { values: { 'body.__proto__.polluted': ['undefined'] }, v: 1 })), reason: /__proto__/ },
  { name: 'superjson meta through constructor.prototype', data: text(doc({ body: { k: 'h', n: 1 } }, { values: { 'body.constructor.prototype.polluted': ['undefined'] }, v: 1 })), reason: /"constructor"/ },
  { name: 'superjson meta through prototype', data: text(doc({ body: { k: 'h', n: 1 } }, { values: { 'body.prototype': ['set'] }, v: 1 })), reason: /"prototype"/ },
  { name: 'superjson referential equality through __proto__', data: text(doc({ body: { k: 'h', n: 1, a: {} } }, { referentialEqualities: { 'body.a': ['body.__proto__'] }, v: 1 })), reason: /__proto__/ },
  { name: 'superjson meta with a type troupe never sends', data: text(doc({ body: { k: 'h', n: 1, c: 'x' } }, { values: { 'body.c': [['custom', 'Evil']] }, v: 1 })), reason: /not one troupe messages carry/ },
  { name: 'superjson meta with an unknown type name', data: text(doc({ body: { k: 'h', n: 1, c: 'x' } }, { values: { 'body.c': ['function'] }, v: 1 })), reason: /not one troupe messages carry/ },
  { name: 'superjson meta of a wrong version', data: text(doc({ body: { k: 'h', n: 1, c: 'x' } }, { values: { 'body.c': ['undefined'] }, v: 99 })), reason: /version 99 is not supported/ },
  // ── size and depth ──
  { name: 'a body nested 10,000 deep (objects)', data: () => Buffer.from(doc({ body: '@' }).replace('"@"', nested(10_000, '{"d":', '}'))), reason: /nests deeper/ },
  { name: 'a body nested 10,000 deep (arrays)', data: () => Buffer.from(doc({ body: '@' }).replace('"@"', nested(10_000, '[', ']'))), reason: /nests deeper/ },
  { name: 'a 10 MiB string body', data: () => Buffer.from(doc({ body: { k: 'h', n: 1, s: 'x'.repeat(10 * MiB) } })), reason: /over the limit of/ },
  { name: 'a 10 MiB base64 string', data: () => ({ base64: Buffer.alloc(10 * MiB + 3, 0x41).toString('base64') }), reason: /more than a record of/ },
  { name: 'a BigInt literal of 100,000 digits', data: text(doc({ body: { k: 'h', n: 1, b: '9'.repeat(100_000) } }, { values: { 'body.b': ['bigint'] }, v: 1 })), reason: /BigInt .* over the limit/ },
  { name: 'an instance key of 100,000 characters', data: text(doc({ key: 'k'.repeat(100_000), body: { k: 'h', n: 1 } })), reason: /"key" must be a string of 0 to 1024/ },
  // ── envelope fields ──
  { name: 'a missing id', data: text(JSON.stringify({ json: { type: 'rel.counter', key: 'h', correlationId: 'c', attempt: 0, sentAt: 1 } })), reason: /"id" must be a string/ },
  { name: 'attempt not a number', data: text(doc({ attempt: 'many', body: { k: 'h', n: 1 } })), reason: /"attempt" must be a whole number/ },
  { name: 'sentAt not finite', data: text(doc({ sentAt: null, body: { k: 'h', n: 1 } })), reason: /"sentAt" must be a time/ },
  { name: 'sentAt past what a Date holds, to a type no host runs', data: text(doc({ type: 'rel.retired', sentAt: 1e300, body: { k: 'h', n: 1 } })), reason: /"sentAt" must be a time/ },
  { name: 'a replay whose diedAt is past what a Date holds', data: text(doc({ diedAt: 1e300, body: { k: 'h', n: 1 } })), reason: /"diedAt" must be a time/ },
  { name: 'a malformed fork', data: text(doc({ fork: { forkId: 'f', index: -1 }, body: { k: 'h', n: 1 } })), reason: /"fork.index" must be a whole number/ },
  { name: 'a receipt kind no one asks for', data: text(doc({ receipt: 'everything', body: { k: 'h', n: 1 } })), reason: /"receipt" must be "status" or "reply"/ },
  // ── readable envelopes this host cannot run ──
  { name: 'an actor that no longer exists', data: text(doc({ type: 'rel.retired', body: { k: 'h', n: 1 } })), reason: /no actor rel\.retired/ },
  // Bodies are validated at `tell`; a host does not run schemas again on receipt (a schema's
  // transform need not accept its own output), so the actor's own check refuses this one.
  { name: 'a body of an older schema version', data: text(doc({ body: { key: 'h', amount: '1' } })), reason: /rel\.counter refuses a body without a number n/ },
]
