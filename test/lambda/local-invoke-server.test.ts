// The local Invoke API and its connections. A server that closes idle keep-alive connections
// races a client's next request on one (ECONNRESET on a reused socket): Node's closes them about
// 6 s after the last response, and an ask whose Lambda client does not retry then fails with no
// answer. The local server leaves idle connections open for their clients to close.
import { request, Agent } from 'node:http'
import t from 'tap'
import { startLocalInvokeServer } from '../../lib/local/local-invoke-server.js'

/** Past the moment Node's server, by default, closes a connection idle since its last response. */
const IDLE_MS = 7_000

function invokeUnknown(endpoint: string, agent: Agent): Promise<{ status: number | undefined; reusedSocket: boolean }> {
  const url = new URL('/2015-03-31/functions/nothing-here/invocations', endpoint)
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, reusedSocket: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end('{}')
  })
}

t.test('an idle connection to the local Invoke API stays open for its next request', async (t) => {
  const server = await startLocalInvokeServer()
  t.teardown(() => server.stop())
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  t.same(await invokeUnknown(server.endpoint, agent), { status: 404, reusedSocket: false })
  // The subject is the idle time itself: the connection must outlive it.
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  t.same(await invokeUnknown(server.endpoint, agent), { status: 404, reusedSocket: true }, 'the same connection, still open')
})
