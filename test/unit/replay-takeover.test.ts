// Two replays of one dead letter, the first taken over while it stalls: the replay rules of
// lib/aws/dead-letter-replay.ts on the memory stores, each step's timing in the test's hands. The
// same rules against the local servers, with faults in the clients: test/reliability/replay-in-doubt.test.ts.
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import t from 'tap'
import { replayDeadLetter, type ReplayParts } from '../../lib/aws/dead-letter-replay.js'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { encode } from '../../lib/core/serialization.js'
import { decodeMeta, encodeMeta } from '../../lib/hosts/durable/instance-meta.js'
import { verdict } from '../../lib/hosts/durable/record-reads.js'
import { MemoryJournalStore } from '../../lib/store/memory-journal.js'
import { MemoryStateStore } from '../../lib/store/memory.js'
import type { ReceiptRecord } from '../../lib/store/index.js'

const NOW = 1_700_000_000_000

/** An instance `tally#k` whose message m1 died, and replays of it whose first read of the item may wait for the test. */
function world() {
  const journal = new MemoryJournalStore()
  const state = new MemoryStateStore()
  state.put('tally', 'k', { state: encode({ n: 0 }), version: 1, updatedAt: NOW }, undefined)
  const envelope = makeEnvelope({ id: 'm1' as MessageId, type: 'tally', key: 'k', body: {}, correlationId: 'c' as CorrelationId, sentAt: NOW })
  journal.putDeadLetters([{ envelope, error: { name: 'Error', message: 'x' }, attempts: [], deadAt: NOW }])
  const sent: Envelope[] = []
  const parts = (now: number, stall?: Promise<void>): ReplayParts => {
    let first = stall !== undefined
    return {
      // Answers as the DynamoDB journal does: by promise.
      journal: new Proxy(journal, { get: (o, k) => (typeof Reflect.get(o, k) === 'function' ? async (...a: unknown[]) => Reflect.apply(Reflect.get(o, k) as (...a: unknown[]) => unknown, o, a) : Reflect.get(o, k)) }) as never,
      state: {
        get: async (type: string, key: string) => {
          if (first) {
            first = false
            await stall
          }
          return state.get(type, key)
        },
        put: async (...a: Parameters<MemoryStateStore['put']>) => state.put(...a),
      } as never,
      lane: { take: () => 0, origin: () => ({ lane: 'p:x', pos: '0', i: 0, fence: '0' }), settle: () => {} } as never,
      codec: undefined as never,
      sender: () => ({ streams: ['s'], putData: async () => {}, send: async (e) => void sent.push(structuredClone(e)) }),
      accepted: (e): ReceiptRecord => ({ id: e.id, actor: e.type, key: e.key, entry: { status: 'accepted', at: now, attempt: 0 }, expiresAt: now + 1e9 }),
      keepsState: () => true,
      now: () => now,
      sideEffects: new MemorySideEffects(),
    }
  }
  const meta = () => decodeMeta(state.get('tally', 'k')!.meta)
  return { journal, state, sent, parts, meta }
}

/**
 * A first replay that holds the letter and stalls before it reads the instance's item, and a
 * second, six minutes on, that takes it over and runs to its end. Returns how the first ends
 * (its error's code) once woken.
 */
async function takenOver(parts: (now: number, stall?: Promise<void>) => ReplayParts): Promise<{ first: Promise<string | undefined>; wake: () => void }> {
  let wake!: () => void
  const stalled = new Promise<void>((r) => (wake = r))
  const first = replayDeadLetter(parts(NOW, stalled), 'm1').then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  )
  await new Promise((r) => setImmediate(r))
  await replayDeadLetter(parts(NOW + 6 * 60_000), 'm1')
  return { first, wake }
}

t.test('a replay taken over while it stalls before its note, then noting late, undoes nothing of the replay that took over', async (t) => {
  const { journal, sent, parts, meta } = world()
  const { first, wake } = await takenOver(parts)
  t.equal(sent.length, 1, 'the replay that took over sent the message')
  t.same(journal.deadLetters(), [], 'and deleted the letter')
  wake()
  t.equal(await first, 'TROUPE_REPLAY_UNDER_WAY', 'the first one stops')
  t.equal(sent.length, 1, 'having sent nothing')
  t.same(meta().replays?.map(([, lane]) => lane), [sent[0]!.origin!.lane], 'the note of the message on its way is the one kept')
  t.equal(verdict(meta(), { kind: 'direct', stream: 's', envelope: sent[0]! }, undefined, sent[0]!, undefined), 'new', 'so its copy is applied when read')
})

t.test('a replay taken over that notes after the copy of the one that took over was read makes no later copy of it new', async (t) => {
  const { sent, parts, meta, state } = world()
  const { first, wake } = await takenOver(parts)
  // The instance reads the copy, and its commit ends the note.
  const stored = state.get('tally', 'k')!
  const read = meta()
  delete read.replays
  state.put('tally', 'k', { ...stored, version: stored.version + 1, meta: encodeMeta(read) }, stored.version)
  wake()
  t.equal(await first, 'TROUPE_REPLAY_UNDER_WAY', 'the first one stops')
  t.equal(sent.length, 1, 'having sent nothing')
  t.equal(verdict(meta(), { kind: 'direct', stream: 's', envelope: sent[0]! }, undefined, sent[0]!, undefined), 'copy', 'a later copy of the message sent is no new one')
  t.same(meta().replays, undefined, 'and its own note goes: the letter was ended under another origin, so it never sent (no note is left to keep the item for ever)')
})
