// A batch of many keys reads its states in slices of a hundred (state-slices.ts): its first turns
// run after one read, the next slice's read overlaps them, and a slice whose read fails leaves
// only its own instances' records for redelivery, which then applies each message once.
import t from 'tap'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { createLogger } from '../../lib/core/logger.js'
import { DurableHost, type DurableRecord } from '../../lib/hosts/durable/durable-host.js'
import { encodeRecord } from '../../lib/routing/record-codec.js'
import type { StoredInstance } from '../../lib/store/index.js'
import { MemoryStateStore, MemoryTimerStore } from '../../lib/store/memory.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { decode } from '../../lib/core/serialization.js'
import { Tally } from '../fixtures/log-actors.js'

/** A memory store with a batch read, which counts its reads, notes the turns run before each, and fails the ones asked to. */
class SlicedStore extends MemoryStateStore {
  readonly reads: { keys: number; turnsBefore: number }[] = []
  turns = 0
  failing = new Set<number>()

  async getMany(refs: readonly { type: string; key: string }[]): Promise<(StoredInstance | undefined)[]> {
    const n = this.reads.push({ keys: refs.length, turnsBefore: this.turns })
    await new Promise((resolve) => setImmediate(resolve))
    if (this.failing.has(n)) throw new Error('the table is away')
    return refs.map((r) => this.get(r.type, r.key))
  }

  override put(type: string, key: string, value: StoredInstance, expectedVersion: number | undefined, expectedUpdatedAt?: number): void {
    super.put(type, key, value, expectedVersion, expectedUpdatedAt)
    this.turns++
  }
}

function envelope(key: string, id: string): Envelope {
  return makeEnvelope({ id: id as MessageId, type: Tally.type, key, body: { k: key }, correlationId: `c-${id}` as CorrelationId, sentAt: 1 })
}

/** 250 keys, one message each, then a second message to k0: sequence numbers 1000 on. */
function records(): DurableRecord[] {
  const sent = [...Array.from({ length: 250 }, (_, k) => envelope(`k${k}`, `m${k}`)), envelope('k0', 'm-again')]
  return sent.map((e, i) => ({ sequenceNumber: String(1000 + i), data: encodeRecord(e) }))
}

function host(state: SlicedStore): DurableHost {
  return new DurableHost({ actors: [Tally], state, timers: new MemoryTimerStore(), journal: new MemoryJournalStore(), messages: { send: async (sent) => ({ results: [], sent: sent.length, failed: 0 }) }, logger: createLogger('silent') })
}

function count(state: SlicedStore, key: string): number | undefined {
  const stored = state.get(Tally.type, key)
  return stored && decode<{ n: number }>(stored.state).n
}

t.test('a batch of 250 keys reads its states in three slices, the later ones while turns run', async (t) => {
  const state = new SlicedStore()
  const result = await host(state).handle({ stream: 's', shardId: 'shardId-000000000000', records: records() })
  t.equal(result.failedFrom, undefined)
  t.equal(result.applied, 251)
  t.same(state.reads.map((r) => r.keys), [100, 100, 51], "the first slice's states with the type's pause item, then a hundred keys a read")
  t.equal(state.reads[1]!.turnsBefore, 0, 'the second slice is read as the first runs')
  t.ok(state.reads[2]!.turnsBefore > 0, `the third once the workers reach the second (${state.reads[2]!.turnsBefore} turns before it)`)
  t.equal(count(state, 'k0'), 2, "the key with two messages ran both, in the first slice")
  t.same(Array.from({ length: 249 }, (_, k) => count(state, `k${k + 1}`)), Array(249).fill(1))
})

t.test("a slice whose read fails leaves its instances' records for redelivery, and only those", async (t) => {
  const state = new SlicedStore()
  state.failing.add(2)
  const h = host(state)
  const all = records()
  const result = await h.handle({ stream: 's', shardId: 'shardId-000000000000', records: all })
  // The second slice is k99..k198: records 1099..1198.
  t.equal(result.failedFrom, '1099', 'the earliest record of the slice not read')
  t.equal(result.applied, 251 - 100)
  t.same(Array.from({ length: 100 }, (_, k) => count(state, `k${99 + k}`)), Array(100).fill(undefined), 'none of its turns ran')
  t.equal(count(state, 'k199'), 1, 'the slice after it ran')
  // Delivered again from there: the unread slice runs, what ran before is known as a copy.
  const again = await h.handle({ stream: 's', shardId: 'shardId-000000000000', records: all.filter((r) => BigInt(r.sequenceNumber) >= 1099n) })
  t.equal(again.failedFrom, undefined)
  t.equal(again.applied, 100)
  t.equal(again.duplicates, 52)
  t.same(Array.from({ length: 250 }, (_, k) => count(state, `k${k}`)), [2, ...Array(249).fill(1)], 'every message applied once')
})

t.test('a failed first read leaves the whole batch, as before', async (t) => {
  const state = new SlicedStore()
  state.failing.add(1)
  const result = await host(state).handle({ stream: 's', shardId: 'shardId-000000000000', records: records() })
  t.equal(result.failedFrom, '1000')
  t.equal(state.turns, 0)
  t.equal(state.reads.length, 1, 'no later slice is read')
})
