// The conformance suite of the type-bucket port (`TypeBucketStore` in lib/store/index.ts), run the
// same way against every implementation (memory, DynamoDB, and any a user writes):
//
//   typeBucketConformance(t, async () => new MemoryTypeBuckets())
//
// The factory is called once per subtest and must return a store with no buckets.
import type { TypeBucketStore } from '../store/index.js'
import { storeCase, type Assert } from './conformance-assert.js'

export type TypeBucketsFactory = () => Promise<TypeBucketStore & { close?(): Promise<void> }>

const RATE = { ratePerSecond: 10, burst: 5 }

export function typeBucketConformance(t: Assert, factory: TypeBucketsFactory): void {
  const withStore = storeCase<TypeBucketStore>(t, factory)

  withStore('a type without a bucket: restart changes nothing, advance starts it at the floor', async (t, store) => {
    t.equal(await store.read('a'), undefined)
    t.equal(await store.restart('a', 1_500, 1_000, RATE), false, 'no clock to restart')
    t.equal(await store.read('a'), undefined, 'and none made')
    t.equal(await store.advance('a', 100, 1_000, RATE), 1_000, 'a new bucket is full: its clock stood at the floor')
    t.strictSame(await store.read('a'), { clockMs: 1_100, ...RATE }, 'the clock and the rate it keeps')
  })

  withStore('advance moves a clock at or after the floor and says where it stood', async (t, store) => {
    await store.advance('a', 0, 1_000, RATE)
    t.equal(await store.advance('a', 250, 1_000, RATE), 1_000, 'at the floor')
    t.equal(await store.advance('a', 0.5, 900, RATE), 1_250, 'after it')
    t.equal((await store.read('a'))?.clockMs, 1_250.5, 'fractions are kept exactly')
    t.equal(await store.advance('a', 100, 2_000, RATE), undefined, 'before the floor: nothing changes')
    t.equal((await store.read('a'))?.clockMs, 1_250.5)
  })

  withStore('restart moves only a clock before the floor', async (t, store) => {
    await store.advance('a', 0, 1_000, RATE)
    t.equal(await store.restart('a', 5_000, 1_000, RATE), false, 'at the floor: it stays')
    t.equal(await store.restart('a', 5_000, 900, RATE), false, 'after it: it stays')
    t.equal((await store.read('a'))?.clockMs, 1_000)
    t.equal(await store.restart('a', 5_000, 1_001, RATE), true, 'before it: restarted')
    t.equal((await store.read('a'))?.clockMs, 5_000)
  })

  withStore('advances at once are served one after the other: none is lost, none sees the same clock', async (t, store) => {
    await store.advance('a', 0, 0, RATE)
    const befores = await Promise.all(Array.from({ length: 20 }, () => store.advance('a', 10, 0, RATE)))
    t.strictSame(
      [...befores].sort((x, y) => x! - y!),
      Array.from({ length: 20 }, (_, i) => i * 10),
      'each saw the clock the one before left',
    )
    t.equal((await store.read('a'))?.clockMs, 200)
  })

  withStore('types have buckets of their own', async (t, store) => {
    await store.advance('a', 0, 1_000, RATE)
    await store.advance('b', 0, 2_000, { ratePerSecond: 1, burst: 1 })
    await store.advance('a', 5, 0, RATE)
    t.strictSame(await store.read('a'), { clockMs: 1_005, ...RATE })
    t.strictSame(await store.read('b'), { clockMs: 2_000, ratePerSecond: 1, burst: 1 })
  })
}
