// Types' concurrency slots (TypeSlotStore): the memory and DynamoDB stores against one conformance
// suite; then many hosts claiming, renewing and giving back the slots of one type at once against
// the DynamoDB item, which never lets more than the limit be held, and what a claim costs; and a
// host that keeps its leases for its next batch, by the rule type-slots.ts states.
import t from 'tap'
import { tableStores } from './fixtures/table-stores.js'
import { Actor } from '../../lib/index.js'
import { createLogger } from '../../lib/core/logger.js'
import type { Group } from '../../lib/hosts/durable/durable-batch.js'
import { liveSlots, TypeSlotClaims } from '../../lib/hosts/durable/type-slots.js'
import { DynamoDBTypeSlots } from '../../lib/store/dynamodb-type-slots.js'
import { MemoryTypeSlots } from '../../lib/store/memory-type-slots.js'
import { SimulatedClock } from '../../lib/testing/simulated-clock.js'
import { typeSlotConformance } from '../../lib/testing/type-slot-conformance.js'
import { ActorType } from '../../lib/turn/actor-type.js'

const { dynamodb, fresh, countedClient } = await tableStores(t)
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
  const { client: counted, counter } = countedClient(t)
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

class Open extends Actor<{ n: number }> {
  static readonly type = 'slots.open'
  static readonly policy = { concurrency: 10, attemptTimeoutMs: 2_000 }
  receive() {}
}

/** A DynamoDB store of slots that says when each release has landed (the host gives kept leases back on a timer). */
class Watched extends DynamoDBTypeSlots {
  private waiters: (() => void)[] = []
  override async release(type: string, holder: string, count: number) {
    const slots = await super.release(type, holder, count)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    return slots
  }
  /** Resolves when the next release has landed. */
  released(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}

/** Runs a plan's groups to their end, as a batch's workers do. */
async function runAll(plan: Awaited<ReturnType<TypeSlotClaims['plan']>>): Promise<void> {
  for (let g = await plan.next(); g !== undefined; g = await plan.next()) await g.grant!.slot!.done(g)
}

const KEEP_MS = 1_000

t.test('a host that keeps leases: the next batch takes on the kept lease with no write, and it is given back once idle', async (t) => {
  const { client: counted, counter } = countedClient(t)
  const store = await fresh('keep', (options) => new Watched(options), counted)
  const clock = new SimulatedClock()
  const type = new ActorType(Open)
  const host = new TypeSlotClaims(store, clock, createLogger('silent'), 32, { keepMs: KEEP_MS })
  const first = groupsOf(type, 4)
  await runAll(await host.plan(first, clock.now()))
  t.equal(counter.requests('DynamoDB.UpdateItem'), 1, 'the first batch claims: one update, and gives nothing back')
  const lease = first[0]!.grant!.slot!
  t.equal((await store.read(type.type))?.used, 4, 'its four slots stay held for the next batch')
  // Each batch comes just within KEEP_MS of the last, four of them within half the lease's margin (5 s).
  for (let batch = 0; batch < 4; batch++) {
    await clock.advance(KEEP_MS - 1)
    const next = groupsOf(type, 1 + batch)
    await runAll(await host.plan(next, clock.now()))
    t.equal(next[0]!.grant!.slot!.holder, lease.holder, `batch ${batch + 2} (${next.length} groups) ran under the kept lease`)
  }
  t.equal(counter.requests('DynamoDB.UpdateItem'), 1, 'four more batches, no write')
  const given = store.released()
  await clock.advance(KEEP_MS)
  await given
  t.equal((await store.read(type.type))?.used, 0, `idle for ${KEEP_MS} ms: given back`)
  t.equal(counter.requests('DynamoDB.UpdateItem'), 2, 'with one update')
  const after = groupsOf(type, 2)
  await runAll(await host.plan(after, clock.now()))
  t.not(after[0]!.grant!.slot!.holder, lease.holder, 'the batch after that claims anew')
  await host.giveBackKept()
  t.equal((await store.read(type.type))?.used, 0, 'and at stop every kept lease is given back')
})

t.test('a host that keeps leases keeps none where the cap was reached at the claim, nor past half its margin, nor one too small', async (t) => {
  const store = await fresh('keep-rule', (options) => new Watched(options))
  const clock = new SimulatedClock()
  const capped = new ActorType(Capped)
  const open = new ActorType(Open)
  const host = new TypeSlotClaims(store, clock, createLogger('silent'), 32, { keepMs: 60_000 })

  const full = groupsOf(capped, 5)
  await runAll(await host.plan(full, clock.now()))
  t.equal(full[0]!.grant!.slot!.count, 3, 'the claim took all three slots of the capped type')
  t.equal((await store.read(capped.type))?.used, 0, 'so they were given back when the batch ended: others may be waiting')

  const small = groupsOf(open, 1)
  await runAll(await host.plan(small, clock.now()))
  t.equal((await store.read(open.type))?.used, 1, 'a lease of one slot is kept')
  const bigger = groupsOf(open, 3)
  await runAll(await host.plan(bigger, clock.now()))
  t.not(bigger[0]!.grant!.slot!.holder, small[0]!.grant!.slot!.holder, 'a batch that wants three does not take it on')
  const stored = await store.read(open.type)
  t.same(stored?.leases.map((l) => l.count), [3], 'it was given back, and three claimed: never more held than one batch wants')

  // Half the margin (10 s) on, the lease may not be taken on any more: given back, though keepMs is a minute.
  const given = store.released()
  await clock.advance(5_000)
  await given
  t.equal((await store.read(open.type))?.used, 0, 'at half its margin the kept lease is given back')
  const later = groupsOf(open, 3)
  await runAll(await host.plan(later, clock.now()))
  t.not(later[0]!.grant!.slot!.holder, bigger[0]!.grant!.slot!.holder, 'and the next batch claims anew')
  await host.giveBackKept()
  const done = groupsOf(open, 2)
  await runAll(await host.plan(done, clock.now()))
  t.equal((await store.read(open.type))?.used, 0, 'after stop, a batch gives its lease back when it ends')
})
