// Which requests keep their whole trace: decided by correlation id, the same in every host.
import t from 'tap'
import { sampledTrace } from '../../lib/turn/trace-sampling.js'

/** Ids shaped like troupe's (21 characters of nanoid's alphabet), from a fixed seed (an LCG's high bits: its low bits repeat): the same every run. */
function ids(n: number): string[] {
  const alphabet = 'useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict'
  let seed = 42
  const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0)
  return Array.from({ length: n }, () => Array.from({ length: 21 }, () => alphabet[next() >>> 26]).join(''))
}

t.test('rate 0 keeps none, 1 keeps all; a decision is the same every time it is asked', async (t) => {
  const sample = ids(1_000)
  t.equal(sample.filter((id) => sampledTrace(id, 0)).length, 0)
  t.equal(sample.filter((id) => sampledTrace(id, 1)).length, 1_000)
  t.equal(sample.filter((id) => sampledTrace(id, Number.NaN)).length, 0, 'no rate is none')
  t.same(sample.map((id) => sampledTrace(id, 0.3)), sample.map((id) => sampledTrace(id, 0.3)), 'deterministic')
})

t.test('a rate keeps about that share of requests, and a lower rate keeps a subset of a higher one', async (t) => {
  const sample = ids(20_000)
  for (const rate of [0.01, 0.1, 0.5]) {
    const kept = sample.filter((id) => sampledTrace(id, rate)).length
    // Binomial: the standard deviation is at most 71 here; 5 of them either side.
    t.ok(Math.abs(kept - rate * 20_000) < 5 * Math.sqrt(20_000 * rate * (1 - rate)), `rate ${rate}: kept ${kept} of 20000`)
  }
  t.ok(
    sample.every((id) => !sampledTrace(id, 0.1) || sampledTrace(id, 0.5)),
    'raising the rate adds requests, never drops one already kept',
  )
})
