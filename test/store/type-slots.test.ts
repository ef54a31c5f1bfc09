// Types' concurrency slots (TypeSlotStore): the memory and DynamoDB stores against one conformance
// suite; then many hosts claiming, renewing and giving back the slots of one type at once against
// the DynamoDB item, which never lets more than the limit be held, and what a claim costs.
import t from 'tap'
import { tableStores } from './fixtures/table-stores.js'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import { Actor } from '../../lib/index.js'
import { createLogger } from '../../lib/core/logger.js'
import type { Group } from '../../lib/hosts/durable/durable-batch.js'
import { liveSlots, TypeSlotClaims } from '../../lib/hosts/durable/type-slots.js'
import { clients } from '../../lib/local/local-stack.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { MemoryTypeSlots } from '../../lib/store/memory-type-slots.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { typeSlotConformance } from '../../lib/testing/type-slot-conformance.js'
import { ActorType } from '../../lib/turn/actor-type.js'

const { stack, dynamodb, fresh } = await tableStores(t)
const freshSlots = (client = dynamodb) => fresh('slots', (options) => new DynamoDBTypeSlots(options), client)

t.test('memory conformance', async (t) => {
  typeSlotConformance(t, async () => new MemoryTypeSlots())
})

t.test('DynamoDB conformance', async (t) => {
  typeSlotConformance(t, () => freshSlots())
})

class Capped extends Actor<{ n: number }> {
  static readonly type = 'slots.capped'
  static readonly policy = { concurrency: 3, attemptTimeoutMs: 2_000 }
  receive() {}
}

/** `n` stateless groups of `type`, as a batch's intake makes them. */
function groupsOf(type: ActorType, n: number): Group[] {
  return Array.from({ length: n }, (_, i) => ({ type, key: '', records: [{ sequenceNumber: String(i + 1), envelope: { id: `m${i}` } as never }] }))
}

t.test('eight hosts claiming at once, round after round: never more than the limit held, all of it used, two writes per claim', async (t) => {
  const counter = new RequestCounter()
  const counted = clients(stack).dynamodb
  countRequests(counted, counter)
  t.teardown(() => counted.destroy())
  const store = await freshSlots(counted)
  const clock = new SimulatedClock()
  const type = new ActorType(Capped)
  const hosts = Array.from({ length: 8 }, () => new TypeSlotClaims(store, clock, createLogger('silent'), 32))
  let claims = 0
  let most = 0
  let full = 0
  for (let round = 0; round < 20; round++) {
    // Each host's batch has 1 to 3 groups of the type; they claim at once, then give back at once.
    const plans = await Promise.all(hosts.map(async (h, i) => {
      const groups = groupsOf(type, 1 + ((round + i) % 3))
      return { groups, plan: await h.plan(groups, clock.now()) }
    }))
    claims += plans.length
    const held = plans.reduce((n, p) => n + p.groups[0]!.grant!.slot!.count, 0)
    const stored = await store.read(type.type)
    t.equal(liveSlots(stored, clock.now()), held, `round ${round}: the item holds what the hosts were given`)
    most = Math.max(most, held)
    if (held === 3) full++
    // Each group runs and is done: the type's last group in a plan gives its lease back.
    await Promise.all(plans.map(async ({ groups, plan }) => {
      for (let g = await plan.next(); g !== undefined; g = await plan.next()) await g.grant!.slot!.done(g)
    }))
    t.equal((await store.read(type.type))?.used, 0, `round ${round}: all given back`)
  }
  t.equal(most, 3, 'at most the limit was held at once')
  t.equal(full, 20, 'and every round held all of it: the hosts that found too few free took what was left')
  const updates = counter.requests('DynamoDB.UpdateItem')
  const reads = counter.requests('DynamoDB.GetItem')
  t.comment(`${claims} claims: ${updates} UpdateItems (${(updates / claims).toFixed(2)} a claim, the release included), ${reads} GetItems`)
  t.ok(updates <= claims * 3.5, 'a claim and its release cost two updates, a contended claim a few more')
})

t.test('a dead holder: its slots come back once its lease expires, not before', async (t) => {
  const store = await freshSlots()
  const clock = new SimulatedClock()
  const type = new ActorType(Capped)
  const dead = new TypeSlotClaims(store, clock, createLogger('silent'), 32)
  const live = new TypeSlotClaims(store, clock, createLogger('silent'), 32)
  // The dead one takes every slot and never gives them back nor renews them (its process is gone).
  const taken = groupsOf(type, 5)
  await dead.plan(taken, clock.now())
  const lease = taken[0]!.grant!.slot!
  t.equal(lease.count, 3, 'the dead holder took all three')
  ;(lease as unknown as { released: boolean }).released = true // its renewals stop with it
  const expiresAt = (await store.read(type.type))!.leases[0]!.expiresAt
  t.equal(expiresAt, clock.now() + 12_000, 'a lease lasts the attempt timeout (2 s) and a 10 s margin')
  const before = groupsOf(type, 2)
  await live.plan(before, clock.now())
  t.equal(before[0]!.grant!.slot!.count, 0, 'none is free while the lease lives')
  await clock.advance(11_999)
  const still = groupsOf(type, 2)
  await live.plan(still, clock.now())
  t.equal(still[0]!.grant!.slot!.count, 0, 'nor a millisecond before it expires')
  await clock.advance(1)
  const after = groupsOf(type, 2)
  await live.plan(after, clock.now())
  t.equal(after[0]!.grant!.slot!.count, 2, 'once it expired, its slots are reclaimed and taken')
  const stored = await store.read(type.type)
  t.same(stored?.leases.map((l) => l.count), [2], 'the dead lease is gone from the item')
  t.equal(stored?.used, 2)
  for (const g of after) await g.grant!.slot!.done(g)
})

t.test('a lease is renewed while its batch runs long, and a renewed lease is not reclaimed', async (t) => {
  const store = await freshSlots()
  const clock = new SimulatedClock()
  const type = new ActorType(Capped)
  const slow = new TypeSlotClaims(store, clock, createLogger('silent'), 32)
  const other = new TypeSlotClaims(store, clock, createLogger('silent'), 32)
  const groups = groupsOf(type, 3)
  const plan = await slow.plan(groups, clock.now())
  const running = await plan.next()
  t.ok(running, 'a group runs')
  // A minute of a long batch: the lease is renewed every 5 s (half its margin), so it stays live.
  for (let s = 0; s < 60; s++) {
    await clock.advance(1_000)
    const tries = groupsOf(type, 1)
    await other.plan(tries, clock.now())
    if (tries[0]!.grant!.slot!.count !== 0) {
      t.fail(`another host got a slot after ${s + 1} s`)
      break
    }
  }
  const lease = running!.grant!.slot!
  t.ok(lease.held(clock.now()), 'the slow batch still holds its slots')
  t.ok((await store.read(type.type))!.leases[0]!.expiresAt > clock.now() + 2_000, 'its lease outlasts a turn')
  for (let g: Group | undefined = running; g !== undefined; g = await plan.next()) await g.grant!.slot!.done(g)
  t.equal((await store.read(type.type))?.used, 0, 'given back at the end')
})
