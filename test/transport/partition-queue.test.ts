// The order keeper: which records may join the next call, and where failures go back.
import t from 'tap'
import { PartitionQueue } from '../../lib/transport/partition-queue.js'

interface Rec {
  partitionKey: string
  bytes: number
  name: string
}
const rec = (partitionKey: string, name: string, bytes = 10): Rec => ({ partitionKey, bytes, name })
const names = (rs: readonly Rec[]) => rs.map((r) => r.name)

t.test('strict: one record per key per call; a key in flight waits', async (t) => {
  const q = new PartitionQueue<Rec>('strict')
  for (const r of [rec('a', 'a1'), rec('b', 'b1'), rec('a', 'a2'), rec('c', 'c1'), rec('a', 'a3')]) q.add(r)
  t.equal(q.size, 5)
  const first = q.take(0, 500, 1e9)
  t.strictSame(names(first), ['a1', 'b1', 'c1'])
  t.strictSame(names(q.take(0, 500, 1e9)), [], 'a, b and c are in flight: nothing else may go')
  q.settle(first, new Set(), () => 0)
  t.strictSame(names(q.take(0, 500, 1e9)), ['a2'])
})

t.test('a failed record goes back to the head of its key, ahead of later ones, and its key backs off', async (t) => {
  const q = new PartitionQueue<Rec>('strict')
  const [a1, a2, b1] = [rec('a', 'a1'), rec('a', 'a2'), rec('b', 'b1')]
  for (const r of [a1, a2, b1]) q.add(r)
  const call = q.take(0, 500, 1e9)
  t.strictSame(names(call), ['a1', 'b1'])
  const out = q.settle(call, new Set([a1]), () => 100)
  t.strictSame(out.map((s) => [s.partitionKey, names(s.retry), names(s.overtook)]), [['a', ['a1'], []]])
  t.strictSame(names(q.take(50, 500, 1e9)), [], 'a is backing off until 100; b has nothing left')
  t.equal(q.nextReadyAt(50), 100)
  t.strictSame(names(q.take(100, 500, 1e9)), ['a1'], 'the failed record goes first, a2 still behind it')
})

t.test('batched: a key sends its run; a failure puts back the failed records of the run, in order', async (t) => {
  const q = new PartitionQueue<Rec>('batched')
  const rs = [rec('k', 'k1'), rec('k', 'k2'), rec('k', 'k3'), rec('k', 'k4'), rec('j', 'j1')]
  for (const r of rs) q.add(r)
  const call = q.take(0, 500, 1e9)
  t.strictSame(names(call), ['k1', 'k2', 'k3', 'k4', 'j1'])
  q.add(rec('k', 'k5'))
  const [k1, k2, k3, k4] = rs
  // Kinesis accepted k1 and k3, failed k2 and k4: k3 overtook k2.
  const out = q.settle(call, new Set([k2!, k4!]), () => 0)
  t.strictSame(out.map((s) => [names(s.retry), names(s.overtook)]), [[['k2', 'k4'], ['k3']]])
  void k1
  void k3
  t.strictSame(names(q.take(0, 500, 1e9)), ['k2', 'k4', 'k5'], 'the retry goes first, then what came later')
})

t.test('limits: records and bytes per call; a key that does not fit stops there', async (t) => {
  const q = new PartitionQueue<Rec>('batched')
  for (const r of [rec('a', 'a1', 40), rec('a', 'a2', 40), rec('b', 'b1', 15), rec('c', 'c1', 5)]) q.add(r)
  t.strictSame(names(q.take(0, 500, 60)), ['a1', 'b1', 'c1'], 'a2 would pass 60 bytes; b1 and c1 still fit')
  const big = new PartitionQueue<Rec>('strict')
  big.add(rec('x', 'x1', 1_000))
  t.strictSame(names(big.take(0, 500, 60)), ['x1'], 'a record larger than the byte limit may go alone')
  const many = new PartitionQueue<Rec>('strict')
  for (let i = 0; i < 1_200; i++) many.add(rec(`k${i}`, `r${i}`))
  t.equal(many.take(0, 500, 1e9).length, 500)
  t.equal(many.take(0, 500, 1e9).length, 500)
  t.equal(many.take(0, 500, 1e9).length, 200)
})

t.test('drop removes every waiting record of a key', async (t) => {
  const q = new PartitionQueue<Rec>('strict')
  for (const r of [rec('a', 'a1'), rec('a', 'a2'), rec('b', 'b1')]) q.add(r)
  const call = q.take(0, 500, 1e9)
  const [a1] = call
  q.settle(call, new Set([a1!]), () => 0)
  t.strictSame(names(q.drop('a')), ['a1', 'a2'])
  t.equal(q.size, 0)
  t.strictSame(q.drop('nothing'), [])
})

t.test('strict with packing: a key’s waiting run is one entry, as far as it fits and joins', async (t) => {
  const q = new PartitionQueue<Rec & { instance: string }>('strict')
  const r = (partitionKey: string, name: string, bytes = 10, instance = partitionKey) => ({ partitionKey, bytes, name, instance })
  const packing = { maxBytes: 40, memberOverheadBytes: 1, runOverheadBytes: 4, joins: (a: { instance: string }, b: { instance: string }) => a.instance === b.instance }
  // a: 4 + 3 × 11 = 37 bytes fit; the fourth would make 48.
  for (const x of [r('a', 'a1'), r('a', 'a2'), r('b', 'b1'), r('a', 'a3'), r('a', 'a4'), r('c', 'c1'), r('c', 'c2', 10, 'other')]) q.add(x)
  const first = q.takeEntries(0, 500, 1e9, packing)
  t.strictSame(first.map(names), [['a1', 'a2', 'a3'], ['b1'], ['c1']], 'runs of a; a single b stays single; c2 is another instance under the same key')
  t.strictSame(q.takeEntries(0, 500, 1e9, packing), [], 'every key is in flight')
  // The whole run of a fails: it goes back to the head, in order, and goes again as one entry with a4.
  const [runA] = first
  const out = q.settle(first.flat(), new Set(runA), () => 0)
  t.strictSame(out.map((s) => [s.partitionKey, names(s.retry), names(s.overtook)]), [['a', ['a1', 'a2', 'a3'], []]])
  t.strictSame(q.takeEntries(0, 500, 1e9, packing).map(names), [['a1', 'a2', 'a3'], ['c2']], 'the failed run first; a4 still waits behind it')
  t.equal(q.size, 1)
})

t.test('packing counts an entry once against the call’s records and its bytes against the call’s bytes', async (t) => {
  const q = new PartitionQueue<Rec>('strict')
  const packing = { maxBytes: 1e6, memberOverheadBytes: 0, runOverheadBytes: 0, joins: () => true }
  for (let i = 0; i < 10; i++) q.add(rec('a', `a${i}`))
  for (let i = 0; i < 3; i++) q.add(rec('b', `b${i}`))
  q.add(rec('c', 'c0'))
  t.strictSame(q.takeEntries(0, 2, 1e9, packing).map((e) => e.length), [10, 3], 'two entries, 13 records')
  const q2 = new PartitionQueue<Rec>('strict')
  for (let i = 0; i < 10; i++) q2.add(rec('a', `a${i}`))
  q2.add(rec('b', 'b0'))
  t.strictSame(q2.takeEntries(0, 500, 50, packing).map(names), [['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']], 'the first entry may pass the call’s bytes alone, as a record may; b waits')
  const batched = new PartitionQueue<Rec>('batched')
  for (let i = 0; i < 3; i++) batched.add(rec('a', `a${i}`))
  t.strictSame(batched.takeEntries(0, 500, 1e9, packing).map(names), [['a0'], ['a1'], ['a2']], 'batched ordering does not pack')
})
