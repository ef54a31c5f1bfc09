// The HTTP API in front of the actors: what a browser beacon and a dashboard would call.
//   POST /pageview   {url, ip, ua}  → 202 {id}   | 400 {error} when the body is invalid
//   GET  /geo?ip=…                  → 200 {country} | 400 | 422 when no country can be found

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  AskFailedError,
  AskTimeoutError,
  SystemStoppedError,
  ValidationError,
  type System,
} from 'troupe'
import { GeoIpLookup } from '../actors/GeoIpLookup.js'
import { PageView } from '../actors/PageView.js'

export interface ApiServerOptions {
  /** @default 0: a free port */
  port?: number
  /** @default 2_000 */
  geoTimeoutMs?: number
}

export interface ApiServer {
  /** e.g. http://127.0.0.1:49152 */
  readonly url: string
  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void>
}

const MAX_BODY_BYTES = 16 * 1024

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Starts the API on loopback. */
export async function startApiServer(system: System, options: ApiServerOptions = {}): Promise<ApiServer> {
  const geoTimeoutMs = options.geoTimeoutMs ?? 2_000

  async function postPageView(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new HttpError(400, 'body is not JSON: send {"url", "ip", "ua"} with Content-Type: application/json')
    }
    // The cast is safe: PageView's schema checks the body at run time and tell rejects a bad one.
    const id = await system.tell(PageView, body as PageView['In'])
    send(res, 202, { id })
  }

  async function getGeo(url: URL, res: ServerResponse): Promise<void> {
    const ip = url.searchParams.get('ip')
    if (ip === null) throw new HttpError(400, 'missing query parameter: ip')
    const reply = await system.ask(GeoIpLookup, { ip }, { timeoutMs: geoTimeoutMs })
    send(res, 200, reply)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let handled: Promise<void>
    if (url.pathname === '/pageview') {
      handled = req.method === 'POST' ? postPageView(req, res) : Promise.reject(new HttpError(405, 'use POST'))
    } else if (url.pathname === '/geo') {
      handled = req.method === 'GET' ? getGeo(url, res) : Promise.reject(new HttpError(405, 'use GET'))
    } else {
      handled = Promise.reject(new HttpError(404, `no route ${req.method} ${url.pathname}`))
    }
    handled.catch((error: unknown) => {
      const [status, message] = describe(error)
      if (status >= 500) console.error(`${req.method} ${url.pathname} failed:`, error)
      if (!res.headersSent) send(res, status, { error: message })
      else res.end()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeIdleConnections()
      }),
  }
}

/** The HTTP status and message for an error raised while handling a request. */
function describe(error: unknown): [number, string] {
  if (error instanceof HttpError) return [error.status, error.message]
  if (error instanceof ValidationError) return [400, error.message]
  if (error instanceof AskFailedError) return [422, error.message]
  if (error instanceof AskTimeoutError) return [504, error.message]
  if (error instanceof SystemStoppedError) return [503, error.message]
  return [500, 'internal error']
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk) // past the limit, read on and discard, so the 413 can be sent
    })
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, `body over ${MAX_BODY_BYTES} bytes`))
      else resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}
