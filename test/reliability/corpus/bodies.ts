// The hostile-body corpus for `tell`: bodies a caller (or a caller's caller) may hand troupe.
// Each is refused at `tell` with a clear error, or accepted and run as a normal turn; what is
// accepted depends on the mode (the embedded host keeps bodies in memory and needs no record
// limits; the AWS mode refuses what would not fit, or not decode safely from, a Kinesis record).

export type Expect = 'accepted' | RegExp

export interface HostileBody {
  name: string
  /** The actor told: 'rel.sink' keeps anything keyed by `k`; other names do not exist. */
  actor: string
  body: () => unknown
  embedded: Expect
  aws: Expect
}

const MiB = 1024 * 1024
function deep(levels: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < levels; i++) v = { d: v }
  return v
}
function cyclic(): unknown {
  const o: Record<string, unknown> = { k: 'a' }
  o.self = o
  return o
}

export const hostileBodies: HostileBody[] = [
  { name: '__proto__ key (from JSON.parse)', actor: 'rel.sink', body: () => JSON.parse('{"k":"a","__proto__":{"polluted":true}}'), embedded: /TROUPE_NOT_SERIALIZABLE.*rel\.sink.*key named "__proto__"/, aws: /TROUPE_NOT_SERIALIZABLE.*rel\.sink.*key named "__proto__"/ },
  { name: 'constructor.prototype (from JSON.parse)', actor: 'rel.sink', body: () => JSON.parse('{"k":"a","constructor":{"prototype":{"polluted":true}}}'), embedded: /TROUPE_NOT_SERIALIZABLE.*rel\.sink.*key named "constructor"/, aws: /TROUPE_NOT_SERIALIZABLE.*rel\.sink.*key named "constructor"/ },
  { name: 'a Map keyed "__proto__"', actor: 'rel.sink', body: () => ({ k: 'a', m: new Map([['__proto__', { polluted: true }]]) }), embedded: 'accepted', aws: 'accepted' },
  { name: '10,000 levels deep', actor: 'rel.sink', body: () => ({ k: 'a', p: deep(10_000) }), embedded: 'accepted', aws: /TROUPE_INVALID_ENVELOPE.*nests deeper than 64/ },
  { name: 'a 10 MiB string', actor: 'rel.sink', body: () => ({ k: 'a', p: 'x'.repeat(10 * MiB) }), embedded: 'accepted', aws: /TROUPE_RECORD_TOO_LARGE.*rel\.sink.*over the 10485760-byte limit of the record codec; nothing was sent/ },
  { name: 'a 2 MiB string (over the stream\'s 1 MiB records)', actor: 'rel.sink', body: () => ({ k: 'a', p: 'x'.repeat(2 * MiB) }), embedded: 'accepted', aws: /TROUPE_RECORD_TOO_LARGE.*rel\.sink.*over the 1048576-byte limit of stream "rel-tell-\d+"; nothing was sent/ },
  { name: 'a BigInt of 100,000 digits', actor: 'rel.sink', body: () => ({ k: 'a', b: 10n ** 99_999n }), embedded: 'accepted', aws: /TROUPE_INVALID_ENVELOPE.*BigInt.*over the limit of 10000/ },
  { name: 'a self-referencing body', actor: 'rel.sink', body: cyclic, embedded: 'accepted', aws: 'accepted' },
  { name: 'a huge partition key (2,000 characters)', actor: 'rel.sink', body: () => ({ k: 'k'.repeat(2_000) }), embedded: /TROUPE_INVALID_MESSAGE.*rel\.sink.*key\(msg\) must return a string of 1 to/, aws: /TROUPE_INVALID_MESSAGE.*rel\.sink.*key\(msg\)/ },
  { name: 'a function in the body', actor: 'rel.sink', body: () => ({ k: 'a', f: () => 1 }), embedded: /rel\.sink.*body\.f/, aws: /rel\.sink.*body\.f/ },
  { name: 'a missing key', actor: 'rel.sink', body: () => ({ p: 1 }), embedded: /TROUPE_INVALID_MESSAGE.*rel\.sink/, aws: /TROUPE_INVALID_MESSAGE.*rel\.sink/ },
  { name: 'null', actor: 'rel.sink', body: () => null, embedded: /rel\.sink/, aws: /rel\.sink/ },
  { name: 'an actor that does not exist', actor: 'rel.retired', body: () => ({ k: 'a' }), embedded: /TROUPE_UNKNOWN_ACTOR.*rel\.retired/, aws: /TROUPE_UNKNOWN_ACTOR.*rel\.retired/ },
  { name: 'an actor named "__proto__"', actor: '__proto__', body: () => ({ k: 'a' }), embedded: /TROUPE_UNKNOWN_ACTOR.*__proto__/, aws: /TROUPE_UNKNOWN_ACTOR.*__proto__/ },
  { name: 'an actor named "constructor"', actor: 'constructor', body: () => ({ k: 'a' }), embedded: /TROUPE_UNKNOWN_ACTOR.*constructor/, aws: /TROUPE_UNKNOWN_ACTOR.*constructor/ },
  { name: 'a body of the wrong schema version', actor: 'rel.counter', body: () => ({ key: 'a', amount: '1' }), embedded: /TROUPE_INVALID_MESSAGE.*rel\.counter/, aws: /TROUPE_INVALID_MESSAGE.*rel\.counter/ },
]
