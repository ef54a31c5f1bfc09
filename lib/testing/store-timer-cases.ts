// The store conformance cases of the timer store: puts that replace, due and next in time and
// id order, deletes, odd ids, large messages, a fired timer moved on (the runner's `moveOn`: the
// store's `advance`, or a read and a write for a store without it), writes ordered by the commits
// that made them, and (for a store that has one) the item limit.
import { moveOn } from '../hosts/timer-runner.js'
import type { TimerOrder } from '../core/schedule.js'
import { bigText, ODD_KEYS, timer, type WithStores } from './store-fixtures.js'

/** `maxItemBytes`: the store's item limit, when it has one (ConformanceOptions). */
export function timerCases(withStores: WithStores, maxItemBytes: number | undefined): void {
  withStores('timers: an empty store has nothing due, no next time and an empty list', async (t, { timers }) => {
    t.equal(await timers.get('nope'), undefined)
    t.strictSame(await timers.due(Number.MAX_SAFE_INTEGER, 10), [])
    t.equal(await timers.next(), undefined)
    t.strictSame(await timers.list(), [])
    await timers.delete('nope') // deleting what is not there is fine
  })

  withStores('timers: a put is read back exactly, optional fields present or absent', async (t, { timers }) => {
    const oneShot = timer('once', 1_000)
    const recurring = timer('every', 2_000, { every: 'rate(5 minutes)', causationId: 'm-1', fired: 7 })
    await timers.put(oneShot)
    await timers.put(recurring)
    t.strictSame(await timers.get('once'), oneShot)
    t.strictSame(await timers.get('every'), recurring)
  })

  withStores('timers: a put with the same id replaces the timer, due time included', async (t, { timers }) => {
    await timers.put(timer('t', 1_000))
    const moved = timer('t', 5_000, { body: '{"json":"v2"}', fired: 1, every: 'rate(1 minute)' })
    await timers.put(moved)
    t.strictSame(await timers.get('t'), moved)
    t.strictSame(await timers.list(), [moved], 'one timer, not two')
    t.strictSame(await timers.due(1_000, 10), [], 'not due at the old time')
    t.strictSame(await timers.due(5_000, 10), [moved])
    t.equal(await timers.next(), 5_000)
    // and back to an earlier time
    const earlier = { ...moved, dueAt: 10 }
    await timers.put(earlier)
    t.equal(await timers.next(), 10)
    t.strictSame(await timers.due(10, 10), [earlier])
  })

  withStores('timers: delete removes a timer from get, due, next and list', async (t, { timers }) => {
    await timers.put(timer('a', 100))
    await timers.put(timer('b', 200))
    await timers.delete('a')
    t.equal(await timers.get('a'), undefined)
    t.strictSame(
      (await timers.due(1_000, 10)).map((x) => x.id),
      ['b'],
    )
    t.equal(await timers.next(), 200)
    t.strictSame(
      (await timers.list()).map((x) => x.id),
      ['b'],
    )
    await timers.delete('b')
    t.equal(await timers.next(), undefined)
  })

  withStores('timers: due returns what is due at or before now, earliest first, at most limit', async (t, { timers }) => {
    // 40 timers at shuffled times, so they spread over any partitioning
    const times = Array.from({ length: 40 }, (_, i) => 1_000 + ((i * 7919) % 40) * 100)
    for (const [i, at] of times.entries()) await timers.put(timer(`t${String(i).padStart(2, '0')}`, at))
    const sorted = [...times].sort((a, b) => a - b)

    const due = await timers.due(2_000, 100)
    t.strictSame(
      due.map((x) => x.dueAt),
      sorted.filter((at) => at <= 2_000),
      'everything at or before now, inclusive, in order',
    )
    t.strictSame(
      (await timers.due(2_000, 3)).map((x) => x.dueAt),
      sorted.slice(0, 3),
      'the earliest 3',
    )
    t.strictSame(await timers.due(999, 10), [], 'nothing before the first')
    t.strictSame(await timers.due(5_000, 0), [], 'limit 0')
    t.equal((await timers.due(Number.MAX_SAFE_INTEGER, 1_000)).length, 40)
    t.strictSame((await timers.due(2_000, 1))[0], await timers.get((await timers.due(2_000, 1))[0]!.id), 'whole records')
  })

  withStores('timers: timers due at the same millisecond come in id order', async (t, { timers }) => {
    for (const id of ['m', 'b', 'z', 'a', 'q']) await timers.put(timer(id, 500))
    await timers.put(timer('early', 400))
    t.strictSame(
      (await timers.due(500, 10)).map((x) => x.id),
      ['early', 'a', 'b', 'm', 'q', 'z'],
    )
    t.strictSame(
      (await timers.due(500, 3)).map((x) => x.id),
      ['early', 'a', 'b'],
    )
  })

  withStores('timers: due does not remove anything; firing is the caller’s put or delete', async (t, { timers }) => {
    await timers.put(timer('a', 100))
    await timers.due(1_000, 10)
    t.equal((await timers.due(1_000, 10)).length, 1)
    t.ok(await timers.get('a'))
  })

  withStores('timers: next is the earliest due time, and follows puts and deletes', async (t, { timers }) => {
    await timers.put(timer('late', 9_000))
    t.equal(await timers.next(), 9_000)
    await timers.put(timer('early', 3_000))
    t.equal(await timers.next(), 3_000)
    await timers.put(timer('past', 0))
    t.equal(await timers.next(), 0, 'zero is a time, not nothing')
    await timers.delete('past')
    await timers.delete('early')
    t.equal(await timers.next(), 9_000)
  })

  withStores('timers: list returns every timer, earliest first', async (t, { timers }) => {
    const all = Array.from({ length: 25 }, (_, i) => timer(`id-${i}`, 10_000 - i * 100))
    for (const x of all) await timers.put(x)
    const listed = await timers.list()
    t.equal(listed.length, 25)
    t.strictSame(
      listed.map((x) => x.dueAt),
      all.map((x) => x.dueAt).sort((a, b) => a - b),
    )
    t.strictSame(listed[0], all[24])
  })

  withStores('timers: ids with odd characters, unicode and kilobytes of length work', async (t, { timers }) => {
    for (const [i, id] of ODD_KEYS.entries()) await timers.put(timer(id, 1_000 + i))
    t.equal((await timers.list()).length, ODD_KEYS.length)
    for (const [i, id] of ODD_KEYS.entries()) {
      t.strictSame(await timers.get(id), timer(id, 1_000 + i), `id #${i} (${id.length} characters)`)
    }
    t.strictSame(
      (await timers.due(1_000 + ODD_KEYS.length, 100)).map((x) => x.id),
      ODD_KEYS,
      'due in order, real ids',
    )
    for (const id of ODD_KEYS) await timers.put(timer(id, 50)) // replace every one
    t.equal((await timers.list()).length, ODD_KEYS.length, 'replaced, not added')
    t.equal(await timers.next(), 50)
    for (const id of ODD_KEYS) await timers.delete(id)
    t.strictSame(await timers.list(), [])
  })

  withStores('timers: a large message (300 KB) is read back exactly', async (t, { timers }) => {
    const big = timer('big', 1, { body: JSON.stringify({ json: bigText(300 * 1024) }) })
    await timers.put(big)
    t.ok((await timers.get('big'))?.body === big.body, 'get')
    t.ok((await timers.due(1, 1))[0]?.body === big.body, 'due')
  })

  if (maxItemBytes !== undefined) {
    const limit = maxItemBytes
    withStores('timers: a timer over the item limit is refused by id and size, and nothing is written', async (t, { timers }) => {
      await t.rejects(async () => timers.put(timer('huge', 1, { body: bigText(limit + 10_000) })), {
        code: 'TROUPE_TIMER_TOO_LARGE',
        message: /huge.* KB/,
      })
      t.equal(await timers.get('huge'), undefined)
      t.equal(await timers.next(), undefined)
    })
  }

  withStores('timers: advance deletes a fired one-shot timer and moves a recurring one to its next firing', async (t, { timers }) => {
    const once = timer('once', 100, { causationId: 'm-1' })
    const every = timer('every', 100, { every: 'rate(1 minute)', fired: 2 })
    await timers.put(once)
    await timers.put(every)
    t.equal(await moveOn(timers, once, undefined), true)
    t.equal(await timers.get('once'), undefined, 'the one-shot timer is gone')
    const next = { ...every, dueAt: 60_100, fired: 3 }
    t.equal(await moveOn(timers, every, next), true)
    t.strictSame(await timers.get('every'), next, 'the recurring one is at its next firing')
    t.strictSame(await timers.due(1_000, 10), [], 'neither is due at the fired time')
  })

  withStores('timers: advance leaves a timer scheduled again since it fired, and brings back none that was cancelled', async (t, { timers }) => {
    const fired = timer('tick', 100, { causationId: 'm-1' })
    // The firing's own turn scheduled the same name again: another cause, another due time.
    const again = timer('tick', 200, { causationId: 'm-2' })
    await timers.put(again)
    t.equal(await moveOn(timers, fired, undefined), false, 'not moved: a delete would lose the new timer')
    t.strictSame(await timers.get('tick'), again, 'the timer scheduled again stays')
    // The same due time, scheduled again by another message's turn.
    const sameTime = timer('tick', 100, { causationId: 'm-3' })
    await timers.put(sameTime)
    t.equal(await moveOn(timers, fired, undefined), false)
    t.strictSame(await timers.get('tick'), sameTime, 'a timer set by another turn for the same time stays')
    // A recurring timer cancelled while it fired is not put back.
    const every = timer('every', 100, { every: 'rate(1 minute)' })
    await timers.put(every)
    await timers.delete('every')
    t.equal(await moveOn(timers, every, { ...every, dueAt: 60_100, fired: 1 }), false, 'not moved')
    t.equal(await timers.get('every'), undefined, 'the cancelled timer stays cancelled')
    // Outside a turn, scheduled again by name for the due time that fired, with another schedule and body.
    const hourly = timer('report', 3_600_000, { every: 'rate(1 hour)' })
    const halfHourly = timer('report', 3_600_000, { every: 'rate(30 minutes)', body: '{"json":"v2"}' })
    await timers.put(hourly)
    await timers.put(halfHourly)
    t.equal(await moveOn(timers, hourly, { ...hourly, dueAt: 7_200_000, fired: 1 }), false, 'not moved')
    t.strictSame(await timers.get('report'), halfHourly, 'the new schedule and body stay')
    t.strictSame(
      (await timers.list()).map((x) => x.id),
      ['tick', 'report'],
      'nothing else was written',
    )
  })

  withStores('timers: advance moves on a recurring timer scheduled again just as it was while it fired, with the firing\'s count', async (t, { timers }) => {
    const fired = timer('report', 3_600_000, { every: 'rate(1 hour)', fired: 7 })
    // A process starting schedules it again as it was: its count starts from 0.
    await timers.put({ ...fired, fired: 0 })
    const next = { ...fired, dueAt: 7_200_000, fired: 8 }
    t.equal(await moveOn(timers, fired, next), true, 'the same firing: moved on, not left due to fire once more')
    t.strictSame(await timers.get('report'), next)
  })

  withStores('timers: a named timer\'s scheduling is kept, and advance leaves one scheduled again for the same due time', async (t, { timers }) => {
    const first = timer('report', 3_600_000, { set: 's-1' })
    await timers.put(first)
    t.strictSame(await timers.get('report'), first, 'kept with its scheduling')
    // Scheduled again, for the due time that is firing, with the same body: another scheduling.
    const again = { ...first, set: 's-2' }
    await timers.put(again)
    t.equal(await moveOn(timers, first, undefined), false, 'not moved: the timer there is not the one that fired')
    t.strictSame(await timers.get('report'), again, 'the new scheduling stays, to fire')
    t.equal(await moveOn(timers, again, undefined), true, 'its own firing moves it on')
    t.equal(await timers.get('report'), undefined)
  })

  // A durable turn's timer writes carry their commit's order (TimerOrder): the life of its
  // instance's item, the version v, the place n.
  const order = (v: number, n = 0, life = 1_000, owner = 'job#a'): TimerOrder => ({ owner, life, v, n })

  withStores('timers: a cancel of a later commit stands against a put of an earlier one that lands after it', async (t, { timers }) => {
    const scheduled = timer('job#a#remind', 5_000, { order: order(5) })
    await timers.put(scheduled)
    await timers.delete('job#a#remind', order(6))
    t.equal(await timers.get('job#a#remind'), undefined, 'cancelled')
    // Commit 5's outbox sent again, late (another host, behind its retries).
    await timers.put(scheduled)
    t.equal(await timers.get('job#a#remind'), undefined, 'the late put of commit 5 is left out')
    t.strictSame(await timers.due(Number.MAX_SAFE_INTEGER, 10), [], 'nothing due')
    t.equal(await timers.next(), undefined, 'no next time')
    t.strictSame(await timers.list(), [], 'nothing listed: the cancel is no timer')
    // A cancel that lands before the put it cancels (commit 6's write first, commit 5's after).
    await timers.delete('job#a#other', order(6))
    await timers.put(timer('job#a#other', 5_000, { order: order(5) }))
    t.equal(await timers.get('job#a#other'), undefined, 'a put older than the cancel before it is left out')
    // The same commit scheduled, cancelled and scheduled again: its last write stands.
    await timers.put(timer('job#a#third', 5_000, { order: order(9, 2) }))
    await timers.delete('job#a#third', order(9, 1))
    t.equal((await timers.get('job#a#third'))?.dueAt, 5_000, 'a write of the same commit, earlier in it, is left out')
  })

  withStores('timers: a later commit schedules again after a cancel, and an earlier one cannot undo that', async (t, { timers }) => {
    await timers.delete('job#a#remind', order(6))
    const again = timer('job#a#remind', 9_000, { order: order(7) })
    await timers.put(again)
    t.strictSame(await timers.get('job#a#remind'), again, 'scheduled again by commit 7')
    await timers.delete('job#a#remind', order(6))
    t.strictSame(await timers.get('job#a#remind'), again, 'commit 6’s cancel, sent again, does not remove it')
    await timers.put(timer('job#a#remind', 5_000, { order: order(5) }))
    t.strictSame(await timers.get('job#a#remind'), again, 'nor does commit 5’s put replace it')
    t.strictSame(await timers.put(again), undefined, 'the same write again is no error')
    t.strictSame(await timers.get('job#a#remind'), again)
  })

  withStores('timers: a new life of the instance’s item orders after the old one; writes without an order replace what is there', async (t, { timers }) => {
    await timers.delete('job#a#remind', order(40, 0, 1_000))
    // The instance's item expired and was made again: its versions count from 1 again.
    const newLife = timer('job#a#remind', 9_000, { order: order(2, 0, 2_000) })
    await timers.put(newLife)
    t.strictSame(await timers.get('job#a#remind'), newLife, 'a write of a later life replaces the cancel of an earlier one')
    await timers.delete('job#a#remind', order(41, 0, 1_000))
    t.strictSame(await timers.get('job#a#remind'), newLife, 'and a write of the earlier life, landing late, does not touch it')
    // A timer set outside a turn has no order: it replaces an ordered one and a cancel alike.
    const outside = timer('job#a#remind', 7_000)
    await timers.put(outside)
    t.strictSame(await timers.get('job#a#remind'), outside)
    await timers.delete('job#a#other', order(6))
    await timers.put(timer('job#a#other', 7_000))
    t.equal((await timers.get('job#a#other'))?.dueAt, 7_000, 'a put without an order replaces a cancel')
    // A delete without an order removes an ordered timer, and the cancel's record with it.
    await timers.delete('job#a#third', order(6))
    await timers.delete('job#a#third')
    await timers.put(timer('job#a#third', 5_000, { order: order(5) }))
    t.equal((await timers.get('job#a#third'))?.dueAt, 5_000, 'nothing of the cancel is left after a plain delete')
  })

  withStores('timers: writes of two instances under one id do not compare: the last one stands', async (t, { timers }) => {
    // Key `a` with name `b#r` and key `a#b` with name `r` name one id.
    await timers.put(timer('job#a#b#r', 5_000, { order: order(9, 0, 1_000, 'job#a#b') }))
    await timers.delete('job#a#b#r', order(3, 0, 500, 'job#a'))
    t.equal(await timers.get('job#a#b#r'), undefined, 'the other instance’s cancel, of an older life and version, stands')
    const again = timer('job#a#b#r', 6_000, { order: order(2, 0, 400, 'job#a#b') })
    await timers.put(again)
    t.strictSame(await timers.get('job#a#b#r'), again, 'and so does the first instance’s put after it')
  })

  withStores('timers: an ordered timer reads back with its order, and a firing keeps it', async (t, { timers }) => {
    const every = timer('job#a#tick', 100, { every: 'rate(1 minute)', order: order(3, 1) })
    await timers.put(every)
    t.strictSame(await timers.get('job#a#tick'), every)
    const next = { ...every, dueAt: 60_100, fired: 1 }
    t.equal(await moveOn(timers, every, next), true)
    t.match(await timers.get('job#a#tick'), { ...next, order: { owner: 'job#a', life: 1_000, v: 3 } }, 'the next firing, in the order of the commit that set it')
    await timers.delete('job#a#tick', order(4))
    t.equal(await moveOn(timers, next, { ...next, dueAt: 120_100, fired: 2 }), false, 'a firing does not bring back what a later commit cancelled')
    t.equal(await timers.get('job#a#tick'), undefined)
  })

  withStores('timers: a fired one-shot timer is not set again by the commit that set it, sent again late', async (t, { timers }) => {
    // Commit 4 set it, commit 5 cancelled it, commit 6 set it again, and it fired.
    const set = timer('job#a#debounce', 100, { order: order(4) })
    const setAgain = timer('job#a#debounce', 200, { order: order(6) })
    await timers.put(set)
    await timers.delete('job#a#debounce', order(5))
    await timers.put(setAgain)
    t.equal(await moveOn(timers, setAgain, undefined), true, 'fired')
    await timers.put(set)
    await timers.put(setAgain)
    t.equal(await timers.get('job#a#debounce'), undefined, 'neither commit 4’s put nor commit 6’s, landing late, sets it again')
    t.strictSame(await timers.list(), [])
    t.strictSame(await timers.due(Number.MAX_SAFE_INTEGER, 10), [], 'nothing due')
    t.equal(await timers.next(), undefined, 'no next time')
    await timers.put(timer('job#a#debounce', 300, { order: order(7) }))
    t.equal((await timers.get('job#a#debounce'))?.dueAt, 300, 'commit 7 sets it again')
  })

  withStores('timers: what a store returns is a copy', async (t, { timers }) => {
    await timers.put(timer('a', 100))
    const got = (await timers.get('a'))!
    got.dueAt = 1
    got.fired = 99
    const listed = (await timers.list())[0]!
    listed.body = 'changed'
    t.strictSame(await timers.get('a'), timer('a', 100))
  })
}
