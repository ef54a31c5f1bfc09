// When a shard reader may read (shard-read-pace.ts): never five reads within a second, behind the
// tip one read per 200 ms, and at the tip a nudge reads at once when the shard's reads allow it.
import t from 'tap'
import { IDLE_READ_MS, READ_INTERVAL_MS, ReadPace } from '../../lib/aws/shard-read-pace.js'

/** Reads as a reader makes them: each at the earliest moment the pace allows after `now`. */
function readAt(pace: ReadPace, now: number, atTip: boolean): number {
  const at = Math.max(now, pace.nextReadAt(now))
  pace.started(at)
  pace.ended(atTip)
  return at
}

function mostInOneSecond(starts: number[]): number {
  let most = 0
  for (const s of starts) most = Math.max(most, starts.filter((x) => x >= s && x < s + 1_000).length)
  return most
}

t.test('behind the tip: one read per 200 ms', async (t) => {
  const pace = new ReadPace(20)
  const starts: number[] = []
  let now = 0
  for (let k = 0; k < 10; k++) starts.push((now = readAt(pace, now, false)))
  t.same(starts, [0, 200, 400, 600, 800, 1_000, 1_200, 1_400, 1_600, 1_800].map((x) => x + starts[0]!))
  t.equal(READ_INTERVAL_MS, 200)
})

t.test('at the tip, a nudge reads at once; nudges never make five reads within a second', async (t) => {
  const pace = new ReadPace(20)
  const starts: number[] = []
  let now = 1_000_000
  starts.push((now = readAt(pace, now, true)))
  // Idle: the next read no sooner than IDLE_READ_MS later.
  t.equal(pace.nextReadAt(now + 1), now + READ_INTERVAL_MS, 'a read at the tip is followed by the usual spacing when nothing nudges')
  pace.nudge()
  t.equal(pace.nextReadAt(now + 30), now + 30, 'a nudge right after a read at the tip: read now')
  starts.push((now = readAt(pace, now + 30, false)))
  t.equal(pace.nextReadAt(now), now + READ_INTERVAL_MS, 'after a read that found records, the usual spacing')
  // A storm of nudges, each right after a read at the tip: never five reads within a second.
  for (let k = 0; k < 200; k++) {
    starts.push((now = readAt(pace, now, true)))
    pace.nudge()
    starts.push((now = readAt(pace, now + 1, k % 2 === 0)))
  }
  t.equal(mostInOneSecond(starts), 5, 'at most five reads start within any second')
})

t.test('idle waits pollMs, at least IDLE_READ_MS, and a nudge ends it at once', async (t) => {
  const pace = new ReadPace(0)
  const stop = new AbortController()
  pace.started(Date.now())
  pace.ended(true)
  let woke = false
  const idle = pace.idle(stop.signal).then(() => (woke = true))
  await new Promise((r) => setImmediate(r))
  t.notOk(woke, `pollMs 0 still waits for IDLE_READ_MS (${IDLE_READ_MS} ms)`)
  pace.nudge()
  await idle
  t.ok(woke, 'a nudge ends the wait')
  const now = Date.now()
  t.equal(pace.nextReadAt(now), now, 'and the read may start now')

  const long = new ReadPace(600_000)
  long.started(Date.now())
  long.ended(true)
  const waiting = long.idle(stop.signal).then(() => 'ended')
  stop.abort()
  const bound = new Promise<string>((r) => setTimeout(() => r('still waiting after 5 s'), 5_000).unref())
  t.equal(await Promise.race([waiting, bound]), 'ended', 'a stop ends a long idle wait')
})

t.test('a nudged read that finds nothing yet is followed by one more, a read interval later, then the poll', async (t) => {
  const pace = new ReadPace(600_000)
  const stop = new AbortController()
  const waits = (p: Promise<void>) => Promise.race([p.then(() => 'reads again'), new Promise<string>((r) => setTimeout(() => r('waits for the poll'), 300).unref())])
  const start = Date.now()
  pace.started(start)
  pace.ended(true)
  pace.nudge()
  t.equal(pace.nextReadAt(start + 5), start + 5, 'the nudge: at once')
  pace.started(start + 5)
  pace.ended(true) // the record was not there yet
  t.equal(await waits(pace.idle(stop.signal)), 'reads again', 'a second read is asked for')
  t.equal(pace.nextReadAt(start + 6), start + 5 + READ_INTERVAL_MS, 'a read interval after the first')
  pace.started(start + 5 + READ_INTERVAL_MS)
  pace.ended(true)
  t.equal(await waits(pace.idle(stop.signal)), 'waits for the poll', 'then the nudge is spent')
  stop.abort()
})
