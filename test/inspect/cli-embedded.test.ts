// `troupe inspect --url` against an embedded system serving inspection in this process.
import t, { type Test } from 'tap'
import { createSystem } from '../../lib/index.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import type { InstanceRow, TraceNode } from '../../lib/inspect/inspector.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import { checkScenario, inspectCli } from './fixtures/cli-checks.js'
import { ReplayUnderWayError } from '../../lib/core/errors.js'
import { ACTORS, Count, fix, play, Poison, until } from './fixtures/scenario.js'

/**
 * An embedded system of the scenario's actors serving inspection over HTTP, through its inspector
 * or what `replay` puts in place of the inspector's replay; all stopped when `t` ends.
 */
async function served(t: Test, options: { receiptsForAll?: boolean; replay?: (id: string, own: (id: string) => Promise<string>) => Promise<string> } = {}) {
  const system = createSystem({ actors: ACTORS, logLevel: 'silent', ...(options.receiptsForAll ? { receiptsForAll: true } : {}) })
  const inspector = new SystemInspector(system, { actors: ACTORS })
  const { replay } = options
  const source = replay === undefined ? inspector : new Proxy(inspector, { get: (o, k) => (k === 'replay' ? (id: string) => replay(id, (i) => o.replay(i)) : Reflect.get(o, k)) })
  const server = await serveInspection(source, { log: inspector.log })
  t.teardown(async () => {
    await server.close()
    await inspector.close()
    await system.stop({ timeoutMs: 1_000 })
  })
  return { system, server }
}

t.test('every command answers --json with the scenario’s known counts', async (t) => {
  const { system, server } = await served(t, { receiptsForAll: true })
  const ids = await play(system)
  await checkScenario(t, ['--url', server.url], ids, {
    state: async (k) => system.state(Count, k),
    poisonOk: async () => (await system.state(Poison, 'p'))?.ok,
  })
  t.equal(await system.receipt(ids.fork), undefined, 'system.receipt of a fork’s id is none')

  // A program reading --json gets JSON when a command cannot answer too, with a code to match.
  const cost = await inspectCli(['cost', '--json'], ['--url', server.url])
  t.equal(cost.code, 1, 'cost has nothing to say for the embedded mode: exit 1')
  const answer = JSON.parse(cost.stdout) as { error: { code: string; message: string } }
  t.same(Object.keys(answer), ['error'], 'its --json is an error object')
  t.equal(answer.error.code, 'TROUPE_INSPECT_NOT_AVAILABLE')
  t.match(answer.error.message, /not known for the embedded mode: it makes no AWS requests/)
  t.match(cost.stderr, /not known for the embedded mode/, 'and the line on stderr for people')
  const text = await inspectCli(['cost'], ['--url', server.url])
  t.equal(text.stdout, '', 'without --json, nothing on stdout')
  const unknown = await inspectCli(['message', 'no-such-id', '--json'], ['--url', server.url])
  t.equal(unknown.code, 1)
  t.match(JSON.parse(unknown.stdout), { error: { code: 'TROUPE_INSPECT_NOT_FOUND', message: /nothing is known of message no-such-id/ } }, 'any failure under --json is an error object, with its code')
})

t.test("an id or key that starts with '-' is given after '--'", async (t) => {
  const { system, server } = await served(t, { receiptsForAll: true })
  t.equal(await system.ask(Count, { k: '-neg' }, { correlationId: '-request' }), 1)
  const state = await inspectCli(['state', '--url', server.url, '--json', '--', 'in.count', '-neg'], [])
  t.equal(state.code, 0, `inspect state -- in.count -neg exits 0${state.stderr ? `: ${state.stderr}` : ''}`)
  t.same((JSON.parse(state.stdout) as InstanceRow).state, { n: 1 }, "key -neg's state")
  const trace = await inspectCli(['trace', '--url', server.url, '--json', '--', '-request'], [])
  t.equal(trace.code, 0, `inspect trace -- -request exits 0${trace.stderr ? `: ${trace.stderr}` : ''}`)
  t.same((JSON.parse(trace.stdout) as TraceNode[]).map((n) => n.type), ['in.count'], 'the request of one message')
})

t.test('dead replay --all tries every letter: one it cannot replay is named, the others are replayed, and it exits 1', async (t) => {
  // The second letter's replay fails (as one held by another replay does); the source is otherwise the system's.
  let stuck = ''
  const { system, server } = await served(t, { replay: async (id, own) => (id === stuck ? Promise.reject(new ReplayUnderWayError(id)) : own(id)) })
  fix.poisonFixed = false
  const ids = [await system.tell(Poison, { k: 'x' }), await system.tell(Poison, { k: 'y' }), await system.tell(Poison, { k: 'z' })]
  await until('three letters', async () => (await system.deadLetters()).length === 3)
  fix.poisonFixed = true
  stuck = ids[1]!
  const run = await inspectCli(['dead', 'replay', '--all', '--json'], ['--url', server.url])
  t.equal(run.code, 1, 'exit 1: not every letter was replayed')
  const answer = JSON.parse(run.stdout) as { replayed: string[]; failed: { id: string; error: { code?: string } }[] }
  t.same(answer.replayed.sort(), [ids[0], ids[2]].sort(), 'the letters before and after the one that failed were replayed')
  t.same(answer.failed.map((f) => [f.id, f.error.code]), [[stuck, 'TROUPE_REPLAY_UNDER_WAY']], 'the one that failed, with its code')
  t.match(run.stderr, new RegExp(`dead letter ${stuck} not replayed: `), 'and a line on stderr as it failed')
  t.same((await system.deadLetters()).map((l) => l.envelope.id), [stuck], 'it alone is still a dead letter')
  const text = await inspectCli(['dead', 'replay', '--all'], ['--url', server.url])
  t.equal(text.code, 1)
  t.equal(text.stdout, `replayed none; 1 not replayed: ${stuck}\n`, 'the text says what was and was not replayed')
})

t.test('dead replay --all stops when the source refuses twice alike, and names the letters it did not try', async (t) => {
  // Every replay fails as one whose credentials ran out does: an error that is not troupe's.
  const { system, server } = await served(t, { replay: async () => Promise.reject(new Error('the session expired')) })
  fix.poisonFixed = false
  for (const k of ['r1', 'r2', 'r3', 'r4']) await system.tell(Poison, { k })
  await until('four letters', async () => (await system.deadLetters()).length === 4)
  const run = await inspectCli(['dead', 'replay', '--all', '--json'], ['--url', server.url])
  t.equal(run.code, 1)
  const answer = JSON.parse(run.stdout) as { replayed: string[]; failed: { id: string; error: { code?: string } }[]; untried?: string[] }
  t.same(answer.failed.map((f) => f.error.code), ['TROUPE_INSPECT_REFUSED', 'TROUPE_INSPECT_REFUSED'], 'two refusals alike')
  t.equal(answer.untried?.length, 2, 'then the other two are not tried')
  t.same(answer.replayed, [])
  t.equal((await system.deadLetters()).length, 4, 'every letter is still there')
})

t.test('usage errors exit 2 naming the problem; --help works everywhere', async (t) => {
  const none = await inspectCli(['actors'], [])
  t.equal(none.code, 2)
  t.match(none.stderr, /--url .* or --table/)
  const replay = await inspectCli(['dead', 'replay'], ['--url', 'http://127.0.0.1:9'])
  t.equal(replay.code, 2)
  t.match(replay.stderr, /dead replay <id>, or dead replay --all/)
  for (const cmd of [[], ['actors'], ['state'], ['message'], ['trace'], ['dead'], ['dead', 'replay'], ['joins'], ['timers'], ['cost'], ['pause'], ['resume']]) {
    const help = await inspectCli([...cmd, '--help'], [])
    t.equal(help.code, 0, `inspect ${cmd.join(' ')} --help`)
    t.match(help.stdout, /Usage: troupe inspect/)
  }
  const unreachable = await inspectCli(['actors'], ['--url', 'http://127.0.0.1:9'])
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, /nothing answers at http:\/\/127\.0\.0\.1:9/)
})
