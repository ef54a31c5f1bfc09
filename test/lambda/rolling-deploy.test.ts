// A rolling deploy through the local Lambda path: an app bundled as version 1 and
// version 2 (fixtures/rolling-actors-v1.ts, -v2.ts: v2 renames a state field of a keyed actor,
// and adds a state to a machine), traffic on version 1, then version 2 as a canary beside it,
// then version 2 deployed fully while a version-1 environment still runs its batch, with traffic
// flowing throughout. Every message is applied exactly once, every instance ends in version 2's
// shape with version 1's data in it, and an old environment that meets a state the new one
// migrated leaves it alone (it logs the error and leaves the records for redelivery): no commit
// ever takes an instance's state version back. The machine takes no traffic during the canary:
// the second test shows what an old host does with a migrated snapshot (a gap, reported).
import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import t from 'tap'
import { decode } from '../../lib/core/serialization.js'
import type { BatchReport } from '../../lib/local/index.js'
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.js'
import { Door, Tally } from './fixtures/rolling-actors-v2.js'
import { COMMIT, type CommitLine } from './fixtures/rolling-host.js'
import { bundleFixture, rig, type Rig } from './fixtures/rig.js'

let stack: LocalStack
let v1: string
let v2: string
t.before(async () => {
  stack = await startLocalStack()
  ;[v1, v2] = await Promise.all([bundleFixture(t, 'rolling-v1'), bundleFixture(t, 'rolling-v2')])
})
t.teardown(() => stack?.stop())

/** An environment's output line, with the version of the code it runs. */
interface Line {
  line: string
  environment: number
  version: string
}

/** Things that arrive one by one (log lines, batch reports), and a wait for the first that matches. */
function feed<T>() {
  const seen: T[] = []
  const waiters = new Set<{ match: (x: T) => boolean; resolve: (x: T) => void }>()
  return {
    seen,
    push(x: T) {
      seen.push(x)
      for (const w of waiters) {
        if (w.match(x)) {
          waiters.delete(w)
          w.resolve(x)
        }
      }
    },
    /** The first item from now on (or already seen, with `since`) that matches; rejects after 30 s naming `what`. */
    next(what: string, match: (x: T) => boolean, since = seen.length): Promise<T> {
      const found = seen.slice(since).find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no ${what} within 30 s`))
        }, 30_000)
        const waiter = {
          match,
          resolve: (x: T) => {
            clearTimeout(timer)
            resolve(x)
          },
        }
        waiters.add(waiter)
      })
    },
  }
}

const commitOf = (l: Line): CommitLine | undefined => (l.line.startsWith(COMMIT) ? (JSON.parse(l.line.slice(COMMIT.length)) as CommitLine) : undefined)
const jsonOf = (l: Line): Record<string, unknown> | undefined => {
  if (!l.line.startsWith('{')) return undefined
  try {
    return JSON.parse(l.line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** A state item as the table holds it: its state version and its state, decoded. */
async function stored(r: Rig, type: string, key: string): Promise<{ sv: number; state: unknown } | undefined> {
  const out = await r.aws.dynamodb.send(new GetItemCommand({ TableName: r.name, Key: { pk: { S: `state#${type}#${key}` }, sk: { S: 'state' } }, ConsistentRead: true }))
  if (out.Item === undefined) return undefined
  return { sv: Number(out.Item.sv?.N ?? 1), state: decode(out.Item.state!.S!) }
}

t.test('a rolling deploy on the local Lambda: v1, a v2 canary beside it, then v2 while v1 finishes its batch; traffic flowing, every message applied once, every instance in v2’s shape, nothing overwritten by the old code', async (t) => {
  const logs = feed<Line>()
  const batches = feed<BatchReport>()
  // Where new invocations go while the canary is on: drawn at random, unless the test forces one way.
  let forced: number | undefined
  const TO_V2 = 0
  const TO_V1 = 0.99
  const r = await rig(t, stack, v1, {
    actors: [Tally, Door],
    shards: 2,
    esm: { batchSize: 10, parallelizationFactor: 2, onBatch: (b) => batches.push(b) },
    fn: { version: '1', random: () => forced ?? Math.random(), onLog: (line, source) => logs.push({ line, environment: source.environment, version: source.version }) },
  })

  // What the test told each instance, in order: the state must hold exactly this.
  let seq = 0
  const told = new Map<string, number[]>()
  const doorSteps = new Map<string, number>()
  const tellTally = async (k: string, extra: { sleepMs?: number } = {}) => {
    const n = ++seq
    await r.producer.tell(Tally, { k, n, ...extra })
    told.set(`roll.tally#${k}`, [...(told.get(`roll.tally#${k}`) ?? []), n])
  }
  const tellDoor = async (d: string, type: 'STEP' | 'LOCK') => {
    const n = ++seq
    await r.producer.tell(Door, { type, d, n })
    told.set(`roll.door#${d}`, [...(told.get(`roll.door#${d}`) ?? []), n])
    if (type === 'STEP') doorSteps.set(d, (doorSteps.get(d) ?? 0) + 1)
  }
  const tallies = ['t0', 't1', 't2', 't3', 't4', 't5']
  const doors = ['d0', 'd1', 'd2', 'd3']
  // `tw` is the witness of an old environment meeting a migrated state; `ts` runs the batch that
  // version 1 finishes after the full deploy. The steady traffic leaves both alone until then.
  const all = [...tallies, 'tw', 'ts']

  // 1. Version 1 alone.
  for (let round = 0; round < 4; round++) {
    for (const k of all) await tellTally(k)
    for (const d of doors) await tellDoor(d, 'STEP')
  }
  await r.settle()
  for (const k of all) t.match(await stored(r, 'roll.tally', k), { sv: 1, state: { sum: Number, ns: told.get(`roll.tally#${k}`) } }, `${k}: version 1's shape`)
  for (const d of doors) t.match(await stored(r, 'roll.door', d), { sv: 1, state: { version: '1' } }, `${d}: machine version 1`)

  // Traffic from here on, until the end: every tally of the canary round after round, and the
  // doors once version 2 has them all (below). The pause between rounds sets the rate; nothing waits on it.
  let pumping = true
  let pumpKeys = tallies
  let doorsOn = false
  // Resolves with the error that stopped it, if any (checked at the end).
  const pump = (async () => {
    while (pumping) {
      for (const k of pumpKeys) await tellTally(k)
      if (doorsOn) for (const d of doors) await tellDoor(d, 'STEP')
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  )
  // A failed wait below ends the test: the traffic ends with it.
  t.teardown(async () => {
    pumping = false
    await pump
  })

  // 2. The canary: half of the invocations run version 2, side by side with version 1.
  t.equal(await r.fn.deploy(v2, { weight: 0.5 }), '2')
  t.same(r.fn.stats().routing, { '1': 0.5, '2': 0.5 })
  // The witness: version 2 migrates tw …
  forced = TO_V2
  let mark = logs.seen.length
  await tellTally('tw')
  await logs.next('commit of tw by version 2', (l) => commitOf(l)?.key === 'tw' && commitOf(l)?.code === 'v2', mark)
  // … and the next message of tw goes to version 1, which must refuse the state version 2 wrote.
  forced = TO_V1
  mark = logs.seen.length
  await tellTally('tw')
  const refused = (l: Line) => jsonOf(l)?.msg === 'instance left for redelivery' && jsonOf(l)?.key === 'tw'
  const met = await logs.next('version 1 meeting tw', (l) => refused(l) || (commitOf(l)?.key === 'tw' && commitOf(l)?.code === 'v1'), mark)
  t.ok(refused(met) && met.version === '1', 'an environment of version 1 refused it (and did not commit over it)')
  // Random routing again: both versions run the canary's traffic for a while (five batches each).
  forced = undefined
  let since = batches.seen.length
  for (const version of ['1', '2']) {
    let n = 0
    await batches.next(`five batches run by version ${version} in the canary`, (b) => b.executedVersion === version && ++n === 5, since)
  }
  t.same(new Set(r.fn.environments().map((e) => e.version)), new Set(['1', '2']), 'environments of both versions side by side')

  // 3. Version 2 for all, while an environment of version 1 is inside a batch: it finishes it.
  forced = TO_V1
  mark = logs.seen.length
  await tellTally('ts', { sleepMs: 1_500 })
  const sleeping = await logs.next('version 1 running the batch of ts', (l) => l.line === 'rolling: v1 sleeping ts', mark)
  const busy = r.fn.environments().find((e) => e.id === sleeping.environment)!
  t.match(busy, { version: '1', state: 'busy' }, 'a version-1 environment is inside a batch')
  since = batches.seen.length
  t.equal(await r.fn.deploy(v2), '2', 'version 2 promoted')
  forced = undefined
  t.match(
    r.fn.environments().find((e) => e.id === busy.id),
    { version: '1', state: 'busy', retiring: true },
    'the busy version-1 environment goes on with its batch, retiring',
  )
  t.ok(r.fn.environments().every((e) => e.version === '2' || (e.state !== 'idle' && e.retiring)), 'no version-1 environment is idle: those that were are gone, the others retire after their batch')
  pumpKeys = all
  doorsOn = true
  const finished = await batches.next('the batch of ts', (b) => b.requestId === busy.requestId, since)
  t.equal(finished.executedVersion, '1', 'the batch handed to version 1 ended on version 1 …')
  t.not(finished.outcome, 'function-error', '… as its answer, not a crash')
  t.notOk(r.fn.environments().some((e) => e.id === busy.id), 'and its environment retired after it')
  // Traffic on version 2 alone for a while, then the doors use version 2's new state.
  let alone = 0
  await batches.next('five batches of version 2 alone', (b) => b.executedVersion === '2' && ++alone === 5, batches.seen.length)
  pumping = false
  t.equal(await pump, undefined, 'the traffic flowed to the end')
  for (const d of doors) {
    if (doorSteps.get(d)! % 2 === 1) await tellDoor(d, 'STEP') // closed again
    await tellDoor(d, 'LOCK')
    await tellDoor(d, 'STEP') // a locked door stays locked
  }
  await r.settle()

  // Exactly once, in order, in version 2's shape, with version 1's data carried over.
  for (const k of all) {
    const ns = told.get(`roll.tally#${k}`)!
    t.same(await stored(r, 'roll.tally', k), { sv: 2, state: { total: ns.reduce((a, b) => a + b, 0), ns } }, `${k}: every one of its ${ns.length} messages applied once, in version 2's shape`)
  }
  for (const d of doors) {
    const ns = told.get(`roll.door#${d}`)!
    t.match(await stored(r, 'roll.door', d), { sv: 2, state: { version: '2', snapshot: { value: 'locked', context: { ns, locks: 1 } } } }, `${d}: every one of its ${ns.length} events applied once, on machine version 2`)
    t.same(((await stored(r, 'roll.door', d))!.state as { snapshot: { context: { ns: number[] } } }).snapshot.context.ns, ns)
  }

  // No commit ever took a state back: per instance, by item version, the code that wrote it only
  // moved from 1 to 2, and the state version with it.
  const commits = logs.seen.flatMap((l) => commitOf(l) ?? [])
  const byInstance = new Map<string, CommitLine[]>()
  for (const c of commits) byInstance.set(`${c.type}#${c.key}`, [...(byInstance.get(`${c.type}#${c.key}`) ?? []), c])
  t.same([...byInstance.keys()].sort(), [...told.keys()].sort(), 'commits of every instance were seen')
  for (const [name, list] of byInstance) {
    list.sort((a, b) => a.v - b.v)
    t.same(list.map((c) => c.v), list.map((_, i) => i + 1), `${name}: one commit per item version`)
    const firstV2 = list.findIndex((c) => c.code === 'v2')
    t.ok(firstV2 > 0, `${name}: written by version 1, then by version 2`)
    t.notOk(list.slice(firstV2).some((c) => c.code === 'v1'), `${name}: no commit of version 1 after version 2's first`)
    t.ok(list.every((c) => c.sv === (c.code === 'v1' ? 1 : 2)), `${name}: each code wrote its own state version`)
  }
  t.ok(commits.filter((c) => c.code === 'v1').length > 0 && commits.some((c) => c.code === 'v2'), 'both versions committed')

  // Each refusal was an environment of version 1, naming the actor, the key and both versions.
  const refusals = logs.seen.flatMap((l) => (jsonOf(l)?.msg === 'instance left for redelivery' ? [{ ...jsonOf(l)!, version: l.version }] : []))
  t.ok(refusals.length >= 1, `version 1 refused a migrated state ${refusals.length} times`)
  const named = (x: Record<string, unknown>) =>
    x.version === '1' && x.actor === 'roll.tally' && /^t[0-5w]$/.test(String(x.key)) && String(x.error).startsWith(`[TROUPE_STATE_VERSION_NEWER] state of roll.tally key "${String(x.key)}" was stored by version 2 of the actor, and this code runs version 1;`)
  t.same(refusals.filter((x) => !named(x)), [], 'every refusal is by version 1 and names the actor, the key and both versions')
  t.same(
    batches.seen.filter((b) => b.outcome !== 'success' && b.outcome !== 'partial').map((b) => [b.outcome, b.error]),
    [],
    'no batch failed as a whole: a refused instance is a partial batch response',
  )
  t.ok(batches.seen.some((b) => b.outcome === 'partial' && b.executedVersion === '1'), 'version 1 left records for redelivery')
  t.same(r.failures, [], 'nothing was given up on')
  t.same(await r.producer.deadLetters(), [], 'no dead letter')
  t.same(logs.seen.filter((l) => jsonOf(l)?.msg === 'message dead-lettered'), [], 'no environment dead-lettered a message')
  t.match(r.fn.stats(), { crashes: 0, routing: { '2': 1 } })
  t.ok(r.fn.stats().retired >= 2, 'the version-1 environments retired')
  t.ok(r.fn.environments().every((e) => e.version === '2'), 'only version 2 runs')
  t.comment(`${seq} messages; ${batches.seen.length} batches (${batches.seen.filter((b) => b.executedVersion === '1').length} on version 1); ${refusals.length} refusals; ${r.fn.stats().inits} inits, ${r.fn.stats().retired} retired`)
})

// A machine actor with whole-number versions in a canary: its machine version is its state
// version, so an environment of version 1 that meets a snapshot version 2 migrated refuses it and
// leaves the event for redelivery, as the keyed actor above; version 2 then applies it, once.
t.test('a machine actor in a canary: version 1 leaves an event for a snapshot version 2 migrated, writes nothing over it, and version 2 applies it once', async (t) => {
  const logs = feed<Line>()
  let forced: number | undefined
  const r = await rig(t, stack, v1, {
    actors: [Tally, Door],
    fn: { version: '1', random: () => forced ?? Math.random(), onLog: (line, source) => logs.push({ line, environment: source.environment, version: source.version }) },
  })
  await r.producer.tell(Door, { type: 'STEP', d: 'dw', n: 1 })
  await r.settle()
  await r.fn.deploy(v2, { weight: 0.5 })
  forced = 0
  let mark = logs.seen.length
  await r.producer.tell(Door, { type: 'STEP', d: 'dw', n: 2 })
  await logs.next('commit of dw by version 2', (l) => commitOf(l)?.key === 'dw' && commitOf(l)?.code === 'v2', mark)
  // Version 1 now gets the next event of a door whose snapshot version 2 migrated.
  forced = 0.99
  mark = logs.seen.length
  await r.producer.tell(Door, { type: 'STEP', d: 'dw', n: 3 })
  const met = await logs.next('version 1 meeting dw', (l) => l.version === '1' && jsonOf(l)?.key === 'dw', mark)
  t.match(jsonOf(met), { msg: 'instance left for redelivery', actor: 'roll.door', error: /^\[TROUPE_STATE_VERSION_NEWER\] state of roll\.door key "dw" was stored by version 2 of the actor, and this code runs version 1;/ }, 'version 1 leaves the event for redelivery')
  t.match(await stored(r, 'roll.door', 'dw'), { sv: 2, state: { version: '2', snapshot: { value: 'closed', context: { ns: [1, 2], locks: 0 } } } }, 'the snapshot version 2 wrote is as it was')
  forced = undefined
  await r.fn.deploy(v2)
  await r.settle()
  t.match(await stored(r, 'roll.door', 'dw'), { sv: 2, state: { version: '2', snapshot: { value: 'open', context: { ns: [1, 2, 3], locks: 0 } } } }, 'redelivered to version 2, the event applied once')
  t.same(await r.producer.deadLetters(), [], 'no dead letter')
  t.same(logs.seen.filter((l) => jsonOf(l)?.msg === 'message dead-lettered'), [], 'no environment dead-lettered a message')
  t.same(r.failures, [])
})
