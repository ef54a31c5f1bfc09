// Restate, the durable peer: restate-server (the binary in @restatedev/restate-server) on
// loopback with its data in a temp folder and telemetry off, the SDK endpoint
// (restate-services.ts) in a process of its own, and this process calling through the ingress
// with @restatedev/restate-sdk-clients, as an API handler would. One server and endpoint per
// bench child, shared by the warm-up and the measured run; close() stops both (SIGTERM, then
// SIGKILL), and they are killed if this process exits first.
//
// One-way sends (W1, W2) are Restate's `send` (acknowledged once durably enqueued), 64 in flight.
// Completion is observed with a barrier: once every send is acknowledged, one exclusive
// Counter.add(0) per key; Restate runs a key's exclusive handlers in log order, so it returns
// after every earlier send to the key was processed, with the count, which is checked.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as clients from '@restatedev/restate-sdk-clients'
import type { counter, parent } from './restate-services.js'
import { stopChild } from './service-process.js'
import { signal, type BenchSystem } from './system.js'

const SERVER_BIN = fileURLToPath(new URL('../../node_modules/@restatedev/restate-server-linux-x64/bin/restate-server', import.meta.url))
const CONFIG = fileURLToPath(new URL('./restate.toml', import.meta.url))
const SERVICES = fileURLToPath(new URL('./restate-services.ts', import.meta.url))
const POLYFILL = fileURLToPath(new URL('./restate-polyfill.mjs', import.meta.url))
/** One-way sends in flight. */
const SENDS_IN_FLIGHT = 64
const START_TIMEOUT_MS = 90_000
/** How long the server and the endpoint get to exit on SIGTERM before SIGKILL (the server's own shutdown timeout is 5 s). */
const RESTATE_GRACE_MS = 10_000

const Counter: clients.VirtualObjectDefinition<'Counter', typeof counter> = { name: 'Counter' }
const Parent: clients.ServiceDefinition<'Parent', typeof parent> = { name: 'Parent' }

interface Running {
  ingress: clients.Ingress
  stop(): Promise<void>
}

let started: Promise<Running> | undefined
const children: ChildProcess[] = []
// A bench child that exits without close() (its watchdog) takes the server and endpoint with it.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function waitHttp(url: string, what: string, proc: ChildProcess): Promise<void> {
  const until = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) before it answered`)
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${what} did not answer ${url} within ${START_TIMEOUT_MS} ms`)
    await sleep(100)
  }
}

async function startRestate(): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-restate-'))
  const [node, ingressPort, adminPort, endpointPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const server = spawn(SERVER_BIN, ['--config-file', CONFIG, '--base-dir', join(dir, 'data'), '--node-name', 'bench', '--no-logo'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      RESTATE_DISABLE_TELEMETRY: 'true',
      RESTATE_SHUTDOWN_TIMEOUT: '5s',
      RESTATE_BIND_ADDRESS: `127.0.0.1:${node}`,
      RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${node}/`,
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
    },
  })
  children.push(server)
  let serverLog = ''
  server.stderr!.setEncoding('utf8').on('data', (c: string) => (serverLog = (serverLog + c).slice(-2_000)))
  const endpoint = spawn(process.execPath, ['--import', POLYFILL, '--import', 'tsx', SERVICES], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ENDPOINT_PORT: String(endpointPort), RESTATE_LOGGING: 'ERROR' },
  })
  children.push(endpoint)
  const stop = async () => {
    await Promise.all([stopChild(endpoint, RESTATE_GRACE_MS), stopChild(server, RESTATE_GRACE_MS)])
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const admin = `http://127.0.0.1:${adminPort}`
    await waitHttp(`${admin}/health`, `restate-server (${serverLog})`, server)
    await waitHttp(`http://127.0.0.1:${ingressPort}/restate/health`, 'restate-server ingress', server)
    await new Promise<void>((resolve, reject) => {
      let out = ''
      endpoint.stdout!.setEncoding('utf8').on('data', (c: string) => {
        out += c
        if (out.includes('endpoint listening')) resolve()
      })
      endpoint.once('exit', (code) => reject(new Error(`the Restate endpoint exited (${code}) before it listened`)))
    })
    const registered = await fetch(`${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}`, force: true }),
    })
    if (!registered.ok) throw new Error(`registering the endpoint: HTTP ${registered.status} ${await registered.text()}`)
    const ingress = clients.connect({ url: `http://127.0.0.1:${ingressPort}` })
    // The first calls after registration can race the schema's propagation: try again briefly.
    for (let i = 0; ; i++) {
      try {
        await ingress.objectClient(Counter, `probe-${process.pid}`).add(1)
        break
      } catch (error) {
        if (i > 100) throw error
        await sleep(200)
      }
    }
    return { ingress, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function restate(): Promise<Running> {
  started ??= startRestate()
  return started
}

/** Runs sends with at most SENDS_IN_FLIGHT at once; `drained()` resolves when all are acknowledged. */
function sender() {
  const queue: (() => Promise<unknown>)[] = []
  let inFlight = 0
  let pending = 0
  let idle = signal()
  let failure: unknown
  const pump = () => {
    while (inFlight < SENDS_IN_FLIGHT && queue.length > 0) {
      const send = queue.shift()!
      inFlight++
      send().then(
        () => {
          inFlight--
          if (--pending === 0) idle.resolve()
          pump()
        },
        (error: unknown) => {
          failure ??= error
          idle.resolve()
        },
      )
    }
  }
  return {
    send(fn: () => Promise<unknown>) {
      if (pending++ === 0) idle = signal()
      queue.push(fn)
      pump()
    },
    async drained() {
      if (pending > 0) await idle.promise
      if (failure) throw failure
    },
  }
}

let runs = 0

export const restateSystem: BenchSystem = {
  name: 'restate',
  notes: {
    W1: `Counter virtual object (exclusive add: ctx.get, ctx.set); ingress objectSendClient(Counter, key).add(by) per message, ${SENDS_IN_FLIGHT} in flight; done after a barrier add(0) returns the count. restate-server 1.7 (one node, loopback, 24 partitions, WAL fsync on) and the SDK endpoint each in its own process`,
    W2: `a Counter object per key; objectSendClient(Counter, key).add(by) round-robin, ${SENDS_IN_FLIGHT} in flight; then a barrier add(0) per key (${SENDS_IN_FLIGHT} in flight)`,
    W3: 'await objectClient(Counter, key).add(1): ingress request/response to an exclusive handler that reads and writes state',
    W4: "await serviceClient(Parent).job({ x, fanout: 10 }): the Parent service calls Child objects c0..c9 (ctx.objectClient(child, key).work(x)) and awaits RestatePromise.all, then sums",
  },

  async W1(n) {
    const { ingress } = await restate()
    const key = `w1-${process.pid}-${++runs}`
    const send = ingress.objectSendClient(Counter, key)
    const s = sender()
    let count = -1
    return {
      send: (by) => s.send(() => send.add(by)),
      done: async () => {
        await s.drained()
        count = await ingress.objectClient(Counter, key).add(0)
        if (count !== n) throw new Error(`W1: Restate counted ${count}, sent ${n}`)
      },
      count: () => count,
      teardown: () => undefined,
    }
  },

  async W2(keys, perActor) {
    const { ingress } = await restate()
    const prefix = `w2-${process.pid}-${++runs}`
    const sends = new Map(keys.map((k) => [k, ingress.objectSendClient(Counter, `${prefix}-${k}`)] as const))
    const s = sender()
    let total = 0
    return {
      send: (key, by) => s.send(() => sends.get(key)!.add(by)),
      done: async () => {
        await s.drained()
        const barrier = sender()
        for (const k of keys) {
          barrier.send(async () => {
            const count = await ingress.objectClient(Counter, `${prefix}-${k}`).add(0)
            total += count
          })
        }
        await barrier.drained()
        if (total !== keys.length * perActor) throw new Error(`W2: Restate counted ${total}, sent ${keys.length * perActor}`)
      },
      total: () => total,
      teardown: () => undefined,
    }
  },

  async W3() {
    const { ingress } = await restate()
    const c = ingress.objectClient(Counter, `w3-${process.pid}-${++runs}`)
    return { ask: async () => c.add(1), teardown: () => undefined }
  },

  async W4(fanout) {
    const { ingress } = await restate()
    const p = ingress.serviceClient(Parent)
    return { forkJoin: async (x) => p.job({ x, fanout }), teardown: () => undefined }
  },

  async close() {
    const running = await started?.catch(() => undefined)
    started = undefined
    await running?.stop()
  },
}
