// The HTTP API (hono on Node): POST validates and tells, GET asks. The request id (hono's
// requestId middleware keeps a valid incoming X-Request-Id or makes one) is the correlation id of
// every message the request causes, so it is on every log line of the request's whole trace:
// the API's own and those of every turn downstream. The management routes pause and resume an
// actor type (or one key) behind a bearer token: messages told meanwhile wait, and resume
// delivers them in order.
import { serve } from '@hono/node-server'
import { Hono, type Context as HonoContext } from 'hono'
import { requestId } from 'hono/request-id'
import type { AddressInfo } from 'node:net'
import { timingSafeEqual } from 'node:crypto'
import { AskTimeoutError, TroupeError, ValidationError, type Logger, type System } from 'troupe'
import { Account } from './actors/Account.js'
import { openApiDocument } from './openapi.js'
import { AccountId, DepositBody, PauseBody } from './schemas.js'

export interface HttpApp {
  url: string
  close(): Promise<void>
}

export interface ApiOptions {
  /** The bearer token of the management routes (/admin/…); without one they are not served. */
  adminToken?: string
}

type Env = { Variables: { requestId: string; log: Logger } }

/** The first issue of a zod result, as `field: message`. */
function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0]
  return issue ? `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}` : 'invalid'
}

export function createApi(system: System, logger: Logger, options: ApiOptions = {}): Hono<Env> {
  const app = new Hono<Env>()
  app.use(requestId())
  app.use(async (c, next) => {
    const log = logger.child({ correlationId: c.get('requestId') })
    c.set('log', log)
    const started = performance.now()
    log.info('request', { method: c.req.method, path: c.req.path })
    await next()
    log.info('response', { status: c.res.status, ms: Math.round(performance.now() - started) })
  })
  const fail = (c: HonoContext<Env>, status: 400 | 401 | 404 | 409 | 500 | 504, error: string) => c.json({ error, requestId: c.get('requestId') }, status)

  app.post('/accounts/:id/deposits', async (c) => {
    const id = AccountId.safeParse(c.req.param('id'))
    if (!id.success) return fail(c, 400, `id: ${id.error.issues[0]?.message ?? 'invalid'}`)
    let raw: unknown
    try {
      raw = await c.req.json()
    } catch {
      return fail(c, 400, 'the body is not JSON')
    }
    const body = DepositBody.safeParse(raw)
    if (!body.success) return fail(c, 400, firstIssue(body.error.issues))
    try {
      const messageId = await system.tell(Account, { op: 'deposit', id: id.data, ...body.data }, { correlationId: c.get('requestId') })
      c.get('log').info('deposit told', { messageId, account: id.data })
      return c.json({ messageId, requestId: c.get('requestId') }, 202)
    } catch (error) {
      if (error instanceof ValidationError) return fail(c, 400, error.message)
      throw error
    }
  })

  app.get('/accounts/:id', async (c) => {
    const id = AccountId.safeParse(c.req.param('id'))
    if (!id.success) return fail(c, 400, `id: ${id.error.issues[0]?.message ?? 'invalid'}`)
    try {
      return c.json(await system.ask(Account, { op: 'get', id: id.data }, { correlationId: c.get('requestId'), timeoutMs: 10_000 }))
    } catch (error) {
      if (error instanceof AskTimeoutError) return fail(c, 504, error.message)
      throw error
    }
  })

  const token = options.adminToken
  if (token !== undefined) {
    const expected = Buffer.from(`Bearer ${token}`)
    app.use('/admin/*', async (c, next) => {
      const given = Buffer.from(c.req.header('authorization') ?? '')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail(c, 401, 'the management routes need Authorization: Bearer <token>')
      await next()
    })
    const manage = (what: 'pause' | 'resume') => async (c: HonoContext<Env>) => {
      let raw: unknown = {}
      const text = await c.req.text()
      try {
        if (text.trim() !== '') raw = JSON.parse(text)
      } catch {
        return fail(c, 400, 'the body is not JSON')
      }
      const body = PauseBody.safeParse(raw)
      if (!body.success) return fail(c, 400, firstIssue(body.error.issues))
      const type = c.req.param('type')!
      try {
        await system[what](type, body.data.key)
      } catch (error) {
        if (error instanceof TroupeError && error.code === 'TROUPE_UNKNOWN_ACTOR') return fail(c, 404, error.message)
        if (error instanceof TroupeError && error.code === 'TROUPE_NOT_PAUSABLE') return fail(c, 409, error.message)
        throw error
      }
      c.get('log').warn(what === 'pause' ? 'actor paused' : 'actor resumed', { actor: type, ...(body.data.key ? { key: body.data.key } : {}) })
      return c.json({ pauses: await system.pauses() })
    }
    app.post('/admin/actors/:type/pause', manage('pause'))
    app.post('/admin/actors/:type/resume', manage('resume'))
    app.get('/admin/pauses', async (c) => c.json({ pauses: await system.pauses() }))
  }

  app.get('/openapi.json', (c) => c.json(openApiDocument(new URL(c.req.url).origin)))

  app.onError((error, c) => {
    c.get('log')?.error('request failed', { error: error.message })
    return fail(c, 500, 'internal error')
  })
  return app
}

/** Serves the API on 127.0.0.1 (a free port unless `port` says). */
export async function startHttpApp(system: System, logger: Logger, port = 0, options: ApiOptions = {}): Promise<HttpApp> {
  const app = createApi(system, logger, options)
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s))
    s.once('error', reject)
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      }),
  }
}
