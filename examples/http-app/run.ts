// The example over any System: serve the API, make the requests a client would, and collect
// what they answered and which log lines each request id appears on.
import type { Logger, System } from 'troupe'
import { startHttpApp } from './server.js'

export interface Exchange {
  method: string
  path: string
  requestId: string
  status: number
  body: unknown
}

/** The management routes' token in the demo; a real deployment reads its own from a secret. */
export const DEMO_ADMIN_TOKEN = 'demo-admin-token-5f2c'

async function call(base: string, method: string, path: string, body?: unknown, requestId?: string, token?: string): Promise<Exchange> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  return { method, path, requestId: response.headers.get('x-request-id') ?? '', status: response.status, body: await response.json() }
}

export interface HttpAppReport {
  deposits: Exchange[]
  refused: Exchange[]
  account: Exchange
  openapi: Exchange
  /** Pausing one account without the token, then with it; a deposit told meanwhile; resuming; the account after. */
  management: { unauthorized: Exchange; paused: Exchange; toldWhilePaused: Exchange; resumed: Exchange; after: Exchange }
}

export async function runHttpApp(system: System, logger: Logger): Promise<HttpAppReport> {
  const api = await startHttpApp(system, logger, 0, { adminToken: DEMO_ADMIN_TOKEN })
  try {
    const deposits = [
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: 1250, currency: 'EUR', memo: 'salary' }, 'req-salary-1'),
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: 300, currency: 'EUR' }),
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: 5, currency: 'USD', memo: 'coins' }),
    ]
    const refused = [
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: -5, currency: 'EUR' }),
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: 5, currency: 'JPY' }),
      await call(api.url, 'POST', '/accounts/ada-1/deposits', { amount: 5, currency: 'EUR', note: 'extra field' }),
      await call(api.url, 'POST', '/accounts/ada-1/deposits', '{"amount": 5,'),
      await call(api.url, 'POST', '/accounts/NOT%20AN%20ID/deposits', { amount: 5, currency: 'EUR' }),
    ]
    await system.idle()
    const account = await call(api.url, 'GET', '/accounts/ada-1', undefined, 'req-read-1')
    const openapi = await call(api.url, 'GET', '/openapi.json')
    const management = {
      unauthorized: await call(api.url, 'POST', '/admin/actors/account/pause', { key: 'bob-2' }),
      paused: await call(api.url, 'POST', '/admin/actors/account/pause', { key: 'bob-2' }, 'req-pause-1', DEMO_ADMIN_TOKEN),
      toldWhilePaused: await call(api.url, 'POST', '/accounts/bob-2/deposits', { amount: 700, currency: 'GBP' }),
      resumed: await call(api.url, 'POST', '/admin/actors/account/resume', { key: 'bob-2' }, 'req-resume-1', DEMO_ADMIN_TOKEN),
      after: undefined as unknown as Exchange,
    }
    await system.idle()
    management.after = await call(api.url, 'GET', '/accounts/bob-2')
    await system.idle()
    return { deposits, refused, account, openapi, management }
  } finally {
    await api.close()
  }
}
