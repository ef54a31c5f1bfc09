// Types' rate buckets (TypeBucketStore): the memory and DynamoDB stores against one conformance
// suite; then the claims of many hosts at once against the DynamoDB item, which never hand out
// more than the bucket holds, and what a claim costs.
import t from 'tap'
import { tableStores } from './fixtures/table-stores.js'
import { createLogger } from '../../lib/core/logger.js'
import { TypeRates } from '../../lib/hosts/durable/type-rates.js'
import { DynamoDBTypeBuckets } from '../../lib/store/dynamodb-type-buckets.js'
import { MemoryTypeBuckets } from '../../lib/store/memory-type-buckets.js'
import { typeBucketConformance } from '../../lib/testing/type-bucket-conformance.js'

const { dynamodb, fresh, countedClient } = await tableStores(t)
const freshBuckets = (client = dynamodb) => fresh('buckets', (options) => new DynamoDBTypeBuckets(options), client)

t.test('memory conformance', async (t) => {
  typeBucketConformance(t, async () => new MemoryTypeBuckets())
})

t.test('DynamoDB conformance', async (t) => {
  typeBucketConformance(t, () => freshBuckets())
})

t.test('eight hosts claiming at once for half a simulated minute never get more than burst + rate × time', async (t) => {
  const rate = { ratePerSecond: 50, burst: 20 }
  const { client: counted, counter } = countedClient(t)
  const store = await freshBuckets(counted)
  const hosts = Array.from({ length: 8 }, () => new TypeRates(store, createLogger('silent')))
  const start = 1_000_000
  const used: number[] = []
  let claims = 0
  // Every 150 ms of simulated time each host claims what its batch asks, and the hosts' claims of
  // one moment race each other on the item: 1 to 3 tokens for two seconds (twice the rate: a line
  // forms), then a token now and then (the line goes, the bucket fills, claims restart its clock).
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  for (let now = start; now < start + 30_000; now += 150) {
    const heavy = (now - start) % 5_000 < 2_000
    const asks = hosts.map(() => (heavy ? 1 + Math.floor(random() * 3) : random() < 0.3 ? 1 : 0))
    const claimed = await Promise.all(hosts.flatMap((h, i) => (asks[i] === 0 ? [] : [h.claim('t.busy', rate, asks[i]!, now)])))
    claims += claimed.length
    for (const c of claimed) {
      const n = Math.round((c.after - c.before) / (1000 / rate.ratePerSecond))
      // A token is used when it is earned, or at once when it was earned already (a full bucket's burst).
      for (let k = 1; k <= n; k++) used.push(Math.max(now, c.before + (k * 1000) / rate.ratePerSecond))
    }
  }
  used.sort((a, b) => a - b)
  // In every span of time, no more tokens are used than the bucket gives.
  for (const span of [100, 1_000, 10_000, 30_000]) {
    let worst = 0
    for (let i = 0, j = 0; i < used.length; i++) {
      while (used[i]! - used[j]! >= span) j++
      worst = Math.max(worst, i - j + 1)
    }
    t.ok(worst <= rate.burst + (rate.ratePerSecond * span) / 1000, `tokens used within ${span} ms: at most ${worst} (bound ${rate.burst + (rate.ratePerSecond * span) / 1000})`)
  }
  t.ok(used.length >= 0.5 * rate.ratePerSecond * 30, `${used.length} tokens handed out: the bucket was drawn on, not refused`)
  const updates = counter.requests('DynamoDB.UpdateItem')
  t.ok(updates <= claims * 1.25, `${updates} UpdateItems for ${claims} claims (a race across the floor costs a second)`)
})
