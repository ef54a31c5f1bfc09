// `troupe inspect` and `troupe ui` given neither --url nor --table: they find the `troupe dev`
// running in the folder through the dev.json it writes, and follow it only while its process
// lives and its inspection URL answers; otherwise they say how to start one or what to pass.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startUi } from '../../lib/cli/ui.js'
import { runTroupe, startTroupe } from './fixtures/troupe-cli.js'

const APP = fileURLToPath(new URL('./fixtures/counter.app.ts', import.meta.url))
const troupe = (args: string[], cwd: string) => runTroupe(args, { cwd, timeoutMs: 60_000 })

t.test('inspect reads the troupe dev running in its folder; once it stopped, it says how to start one', async (t) => {
  const dir = t.testdir()
  const dev = startTroupe(['dev', '--host', 'process', '--app', APP], { cwd: dir })
  t.teardown(() => {
    if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL')
  })
  await dev.waitFor('Ctrl-C stops')

  const json = await troupe(['inspect', 'actors', '--json'], dir)
  t.equal(json.code, 0, json.stderr)
  const actors = JSON.parse(json.stdout) as { type: string; kind: string }[]
  const own = actors.filter((a) => !a.type.startsWith('troupe.')) // troupe's own (timers, joins) are listed too
  t.same(own.map((a) => [a.type, a.kind]).sort(), [['greeter', 'keyed'], ['runs', 'singleton']], "the app's actors, from its troupe dev")

  const text = await troupe(['inspect', 'actors'], dir)
  t.equal(text.code, 0, text.stderr)
  const [head, rule, ...rows] = text.stdout.trimEnd().split('\n')
  t.match(head, /^actor +kind +instances +processed/, 'a header')
  t.match(rule, /^-+ +-+ +-+/, 'underlined')
  t.notMatch(text.stdout, /[│┌─┐└┘├┤]/, 'no box drawing')
  t.ok(rows.some((r) => /^greeter +keyed +\d+/.test(r)), 'a row per actor type')

  // troupe ui shares the lookup; --dir names the folder from elsewhere.
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream
  const ui = await startUi(['--dir', join(dir, '.troupe')], { stdout: quiet, stderr: quiet })
  t.ok(ui, 'the web view started')
  const proxied = await fetch(`${ui!.url}/api/actors`)
  t.equal(proxied.status, 200)
  t.match(await proxied.text(), /greeter/, 'over the troupe dev it found')
  await ui!.close()

  dev.child.kill('SIGINT')
  t.equal((await dev.done).code, 0)
  const after = await troupe(['inspect', 'actors', '--json'], dir)
  t.equal(after.code, 2)
  t.match(after.stderr, /^troupe inspect: say what to inspect: no troupe dev runs here \(no \.troupe\/dev\.json\); start troupe dev in this folder, or pass --url <.*> or --table <.*>/)
  t.equal(after.stdout, '')
})

t.test('a dev.json whose process is gone, or whose URL does not answer, is not followed', async (t) => {
  const gone = spawnSync(process.execPath, ['-e', '']).pid // exited: its pid names no process now
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const devFile = (pid: number) => ({ '.troupe': { 'dev.json': JSON.stringify({ event: 'ready', pid, startedAt: new Date().toISOString(), inspect: { url: `http://127.0.0.1:${port}` } }) } })

  const left = await troupe(['inspect', 'actors'], t.testdir(devFile(gone)))
  t.equal(left.code, 2)
  t.match(left.stderr, new RegExp(`^troupe inspect: say what to inspect: the troupe dev that wrote \\.troupe/dev\\.json \\(pid ${gone}\\) is gone; start troupe dev in this folder, or pass --url`))

  // A live pid (this test's) that serves nothing there: the pid went to another process.
  const silent = await troupe(['inspect', 'actors'], t.testdir(devFile(process.pid)))
  t.equal(silent.code, 2)
  t.match(silent.stderr, new RegExp(`^troupe inspect: say what to inspect: \\.troupe/dev\\.json names http://127\\.0\\.0\\.1:${port}, where nothing answers`))

  const starting = await troupe(['inspect', 'actors'], t.testdir({ '.troupe': { 'dev.json': JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) } }))
  t.equal(starting.code, 2)
  t.match(starting.stderr, /is starting and does not serve inspection yet/)
})
