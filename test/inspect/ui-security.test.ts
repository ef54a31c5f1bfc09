// Who may use the inspection server and the web view: loopback by default, any other address
// only with an explicit flag and a token (then every request needs it), actions always need the
// token, and a request naming another host (DNS rebinding) is refused.
import { request } from 'node:http'
import t from 'tap'
import { createSystem } from '../../lib/index.js'
import { serveInspection } from '../../lib/inspect/inspection-server.js'
import { SystemInspector } from '../../lib/inspect/system-inspector.js'
import { startUi } from '../../lib/cli/ui.js'
import { main } from '../../lib/cli/main.js'
import { Count } from './fixtures/scenario.js'

/** A raw HTTP request, so the Host header can be set. */
function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const TOKEN = 'a-token-of-thirty-two-characters'

t.test('the server', async (t) => {
  const system = createSystem({ actors: [Count], logLevel: 'silent' })
  const inspector = new SystemInspector(system)
  t.teardown(async () => {
    await inspector.close()
    await system.stop()
  })

  t.test('binds to loopback by default; reads are open there, actions need the token', async (t) => {
    const server = await serveInspection(inspector)
    t.teardown(() => server.close())
    t.equal((server.server.address() as { address: string }).address, '127.0.0.1')
    t.equal((await call(`${server.url}/api/actors`)).status, 200, 'a read without the token')
    const page = await call(`${server.url}/`)
    t.match(page.body, server.token, 'the page served on loopback carries the token for its buttons')
    const pause = (headers: Record<string, string>) => call(`${server.url}/api/pause`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ type: Count.type, key: 'k' }) })
    t.equal((await pause({})).status, 401, 'pause without the token is refused')
    t.equal((await pause({ 'x-troupe-token': 'wrong' })).status, 401, 'pause with a wrong token is refused')
    t.equal((await call(`${server.url}/api/pause?token=${server.token}`, { method: 'POST', body: JSON.stringify({ type: Count.type, key: 'k' }) })).status, 401, 'a token in the URL does not do for an action')
    t.same(await system.pauses(), [], 'nothing was paused')
    t.equal((await pause({ 'x-troupe-token': server.token })).status, 200, 'pause with the token')
    t.same(await system.pauses(), [{ type: Count.type, key: 'k' }])
    const replay = await call(`${server.url}/api/replay`, { method: 'POST', headers: {}, body: JSON.stringify({ id: 'x' }) })
    t.equal(replay.status, 401, 'replay without the token is refused')
    const rebinding = await call(`${server.url}/api/actors`, { headers: { host: 'attacker.example' } })
    t.equal(rebinding.status, 403, 'a request naming another host is refused')
  })

  t.test('any other address needs an explicit flag and a token', async (t) => {
    await t.rejects(serveInspection(inspector, { host: '0.0.0.0' }), /pass --allow-remote/)
    await t.rejects(serveInspection(inspector, { host: '0.0.0.0', allowRemote: true }), /needs a token of at least 16 characters/)
    await t.rejects(serveInspection(inspector, { host: '0.0.0.0', allowRemote: true, token: 'short' }), /at least 16/)
    const server = await serveInspection(inspector, { host: '0.0.0.0', allowRemote: true, token: TOKEN })
    t.teardown(() => server.close())
    const port = (server.server.address() as { port: number }).port
    const at = `http://127.0.0.1:${port}`
    t.equal((await call(`${at}/api/actors`)).status, 401, 'a read without the token is refused')
    t.equal((await call(`${at}/`)).status, 401, 'so is the page')
    t.equal((await call(`${at}/api/actors?token=${TOKEN}`)).status, 200, 'a read with the token')
    const page = await call(`${at}/?token=${TOKEN}`)
    t.notMatch(page.body, TOKEN, 'the page does not hand the token out')
    const resume = (headers: Record<string, string>) => call(`${at}/api/resume?token=${TOKEN}`, { method: 'POST', headers, body: JSON.stringify({ type: Count.type, key: 'k' }) })
    t.equal((await resume({})).status, 401, 'an action needs the header, not only the URL token')
    t.equal((await resume({ 'x-troupe-token': TOKEN })).status, 200)
  })
})

t.test('troupe ui follows the same rules', async (t) => {
  let stderr = ''
  const io = { stdout: { write: () => true } as unknown as NodeJS.WritableStream, stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream }
  t.equal(await main(['ui', '--url', 'http://127.0.0.1:9', '--host', '0.0.0.0'], io), 2)
  t.match(stderr, /--allow-remote/)
  stderr = ''
  t.equal(await main(['ui', '--url', 'http://127.0.0.1:9', '--host', '0.0.0.0', '--allow-remote'], io), 2)
  t.match(stderr, /needs a token/)
  const server = await startUi(['--url', 'http://127.0.0.1:9'], io)
  t.teardown(() => server?.close())
  t.equal((server!.server.address() as { address: string }).address, '127.0.0.1', 'troupe ui listens on loopback by default')
})
