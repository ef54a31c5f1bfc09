// Serves an Inspector over HTTP: the JSON API the CLI reads with `--url`, live updates (SSE)
// and the web view's page, with its libraries from node_modules (nothing from the internet).
//
// Who may do what:
// - It binds to loopback unless told otherwise; any other address needs `allowRemote` and a
//   token, and then every request must carry the token.
// - Actions (replay, pause, resume) always need the token, in the `x-troupe-token` header: a web
//   page from elsewhere cannot set that header on a request to this server without a CORS
//   preflight, which is never granted. On loopback the token is made at start (unless given),
//   handed to the served page and to `GET /api/session`, which other origins cannot read.
// - The Host header must name this server (a DNS-rebinding page names its own host).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import superjson from 'superjson'
import { ConfigError, TroupeError } from '../core/errors.js'
import type { Inspector } from './inspector.js'
import type { TrafficLog } from './traffic-log.js'

export interface InspectionServerOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
  /** Needed for actions; needed for everything when bound beyond loopback. Made at start when absent on loopback. */
  token?: string
  /** Bind beyond loopback (with a token). @default false */
  allowRemote?: boolean
  /** Live message events for the page, when the inspector has a traffic log. */
  log?: TrafficLog
  /** How often the page gets fresh counts, in ms. @default 1000 */
  tickMs?: number
}

export interface InspectionServer {
  url: string
  token: string
  server: Server
  close(): Promise<void>
}

const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ui')
const require = createRequire(import.meta.url)
/** Files the page loads from node_modules, by the path it asks for. */
const VENDOR: Record<string, string> = {
  '/vendor/cytoscape.min.js': 'cytoscape/dist/cytoscape.min.js',
}
const MAX_BODY_BYTES = 64 * 1024

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))
}

export async function serveInspection(inspector: Inspector, options: InspectionServerOptions = {}): Promise<InspectionServer> {
  const host = options.host ?? '127.0.0.1'
  const loopback = isLoopback(host)
  if (!loopback && options.allowRemote !== true) {
    throw new ConfigError(`the inspection server binds to loopback unless told otherwise; to serve it on ${host}, pass --allow-remote (allowRemote: true) and a token`)
  }
  if (!loopback && (options.token === undefined || options.token.length < 16)) {
    throw new ConfigError(`serving inspection on ${host} needs a token of at least 16 characters (--token, or TROUPE_UI_TOKEN); every request must then carry it`)
  }
  const token = options.token ?? randomBytes(24).toString('base64url')
  const clients = new Set<ServerResponse>()
  let port = 0

  const server = createServer((req, res) => {
    // Bad requests and troupe's own refusals (unknown actor, no such dead letter) are the caller's to fix.
    // A refusal of troupe's carries its code, so a client can tell one from another (a replay under way, no such letter).
    handle(req, res).catch((error: unknown) => send(res, error instanceof TroupeError || error instanceof SyntaxError ? 400 : 500, { error: (error as Error).message, ...(error instanceof TroupeError ? { code: error.code } : {}) }))
  })

  const allowedHosts = () => new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://troupe.invalid')
    if (loopback && !allowedHosts().has(req.headers.host ?? '')) return send(res, 403, { error: `host ${JSON.stringify(req.headers.host)} is not this server` })
    const given = (req.headers['x-troupe-token'] as string | undefined) ?? url.searchParams.get('token') ?? undefined
    const authorised = given !== undefined && same(given, token)
    if (!loopback && !authorised) return send(res, 401, { error: 'this server needs its token (x-troupe-token header, or ?token=)' })
    const path = url.pathname
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) return page(res)
    if (req.method === 'GET' && path.startsWith('/ui/')) return file(res, join(UI_DIR, path.slice(4).replace(/[^A-Za-z0-9._-]/g, '')))
    if (req.method === 'GET' && Object.hasOwn(VENDOR, path)) return vendor(res, VENDOR[path]!)
    if (req.method === 'GET' && path === '/api/events') return events(req, res)
    if (path.startsWith('/api/')) {
      if (req.method === 'POST') {
        if (req.headers['x-troupe-token'] === undefined || !authorised) return send(res, 401, { error: 'actions need the token in the x-troupe-token header' })
        return send(res, 200, await act(path, await body(req)))
      }
      if (req.method === 'GET') {
        const result = await read(path, url.searchParams)
        return result === NOT_FOUND ? send(res, 404, { error: `no ${path}` }) : send(res, 200, result)
      }
    }
    send(res, 404, { error: `no ${req.method} ${path}` })
  }

  const NOT_FOUND = Symbol('not found')
  async function read(path: string, q: URLSearchParams): Promise<unknown> {
    const need = (name: string) => {
      const v = q.get(name)
      if (v === null || v === '') throw new ConfigError(`${path} needs ?${name}=`)
      return v
    }
    switch (path) {
      case '/api/session':
        return { token: loopback ? token : undefined }
      case '/api/actors':
        return inspector.actors()
      case '/api/instance':
        return { instance: await inspector.instance(need('type'), q.get('key') ?? '') }
      case '/api/instances':
        return inspector.instances(need('type'), {
          ...(q.get('limit') ? { limit: Number(q.get('limit')) } : {}),
          ...(q.get('after') ? { after: q.get('after')! } : {}),
          ...(q.get('search') ? { search: q.get('search')! } : {}),
        })
      case '/api/message':
        return { message: await inspector.message(need('id')) }
      case '/api/trace':
        return inspector.trace(need('id'))
      case '/api/dead':
        return inspector.dead(q.get('type') ?? undefined)
      case '/api/joins':
        return inspector.joins()
      case '/api/timers':
        return inspector.timers()
      case '/api/cost':
        return { cost: await inspector.cost() }
      case '/api/graph':
        return { graph: await inspector.graph() }
      case '/api/pauses':
        return inspector.pauses()
      case '/api/machine':
        return { machine: await inspector.machine?.(need('type')) }
      case '/api/about':
        return { about: await inspector.describe?.() }
      default:
        return NOT_FOUND
    }
  }

  async function act(path: string, input: Record<string, unknown>): Promise<unknown> {
    const text = (name: string) => {
      const v = input[name]
      if (typeof v !== 'string' || v === '') throw new ConfigError(`${path} needs "${name}" in its JSON body`)
      return v
    }
    const key = typeof input.key === 'string' ? input.key : undefined
    switch (path) {
      case '/api/replay':
        return { id: await inspector.replay(text('id')) }
      case '/api/pause':
        await inspector.pause(text('type'), key)
        return { ok: true }
      case '/api/resume':
        await inspector.resume(text('type'), key)
        return { ok: true }
      default:
        throw new ConfigError(`no action ${path}`)
    }
  }

  async function page(res: ServerResponse): Promise<void> {
    const html = await readFile(join(UI_DIR, 'index.html'), 'utf8')
    // The page's actions carry the token; on loopback the page is the one place it is handed out.
    const out = html.replace('__TROUPE_TOKEN__', loopback ? token : '')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS })
    res.end(out)
  }

  /** A file from an optional peer; when it is not installed, a script that tells the page so (the page says it where the drawing would be). */
  async function vendor(res: ServerResponse, specifier: string): Promise<void> {
    let path: string
    try {
      path = require.resolve(specifier)
    } catch {
      const pkg = specifier.split('/')[0]!
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS })
      res.end(`window.troupeMissing = ${JSON.stringify(`the drawings need the npm package ${pkg}, which is not installed: npm install ${pkg}`)}\n`)
      return
    }
    return file(res, path)
  }

  async function file(res: ServerResponse, path: string): Promise<void> {
    let data: Buffer
    try {
      data = await readFile(path)
    } catch {
      return send(res, 404, { error: 'no such file' })
    }
    const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : path.endsWith('.html') ? 'text/html' : 'application/octet-stream'
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, ...SECURITY_HEADERS })
    res.end(data)
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    res.write(': troupe\n\n')
    clients.add(res)
    req.on('close', () => clients.delete(res))
  }

  // Counts for every page each tick; message events as they come, a few per tick at most.
  let pending: unknown[] = []
  const unsubscribe = options.log?.onEvent((event) => {
    if (clients.size === 0 || event.type === '@troupe.throttled' || pending.length >= 200) return
    pending.push({ type: event.type, at: event.at, id: event.envelope.id, actor: event.envelope.type, key: event.envelope.key, correlationId: event.envelope.correlationId })
  })
  const tick = setInterval(() => {
    if (clients.size === 0) return
    void inspector
      .actors()
      .then((actors) => {
        const data = `event: tick\ndata: ${JSON.stringify(superjson.serialize({ actors, events: pending }))}\n\n`
        pending = []
        for (const c of clients) c.write(data)
      })
      .catch(() => {})
  }, options.tickMs ?? 1_000)
  tick.unref()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  port = (server.address() as { port: number }).port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}`,
    token,
    server,
    close: async () => {
      clearInterval(tick)
      unsubscribe?.()
      for (const c of clients) c.end()
      clients.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
}

function send(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(JSON.stringify(superjson.serialize(value)))
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new ConfigError(`a request body is at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (chunks.length === 0) return {}
  const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}
}
