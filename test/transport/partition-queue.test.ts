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
