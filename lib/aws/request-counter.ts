// Cost counters. On AWS every request is money, so troupe counts them: an SDK v3 middleware
// records each HTTP attempt per API (`DynamoDB.PutItem`, `Kinesis.PutRecords`) with the bytes
// sent and received, and the units AWS bills them by (Kinesis PUT payload units, DynamoDB request
// units, as far as the request and its answer show them: lib/cost/billed-units.ts). Benchmarks
// divide by the messages handled to report requests per message; lib/cost puts a price on them.
//
// The middleware sits at the innermost end of the stack (deserialize step, low priority), so it
// sees every attempt the SDK's retry loop makes, as the bill does, and the raw HTTP exchange.
import { billedUnits } from '../cost/billed-units.js'

/** What one API (or all of them together) cost. */
export interface RequestCount {
  /** HTTP attempts, retries included. */
  requests: number
  /** Attempts that ended in an HTTP error status or no response (throttles included). */
  errors: number
  /** Request body bytes, as sent. */
  requestBytes: number
  /** Response body bytes, from Content-Length. */
  responseBytes: number
  /**
   * Billed units of the attempts that got an answer: PUT payload units for Kinesis puts, request
   * units for DynamoDB (lib/cost/billed-units.ts); 0 for APIs billed per request.
   */
  units: number
}

export interface RequestCounts {
  total: RequestCount
  /** Keyed by `<Service>.<Operation>`, e.g. `DynamoDB.PutItem`. */
  byApi: Record<string, RequestCount>
}

const zero = (): RequestCount => ({ requests: 0, errors: 0, requestBytes: 0, responseBytes: 0, units: 0 })

/**
 * Accumulates request counts from every client it is attached to with {@link countRequests}.
 *
 * @example
 * const counter = new RequestCounter()
 * countRequests(dynamodb, counter)
 * countRequests(kinesis, counter)
 * const before = counter.snapshot()
 * await handleBatch(records)
 * const cost = counter.since(before)
 * console.log(cost.total.requests / records.length, 'requests per message', cost.byApi)
 */
export class RequestCounter {
  private byApi = new Map<string, RequestCount>()

  /** Adds one attempt. The middleware calls this; tests and fakes may too. */
  record(api: string, attempt: { requestBytes: number; responseBytes: number; error: boolean; units?: number }): void {
    let c = this.byApi.get(api)
    if (!c) this.byApi.set(api, (c = zero()))
    c.requests++
    if (attempt.error) c.errors++
    c.requestBytes += attempt.requestBytes
    c.responseBytes += attempt.responseBytes
    c.units += attempt.units ?? 0
  }

  /** A copy of the counts so far, APIs in name order. */
  snapshot(): RequestCounts {
    const byApi: Record<string, RequestCount> = {}
    const total = zero()
    for (const api of [...this.byApi.keys()].sort()) {
      const c = { ...this.byApi.get(api)! }
      byApi[api] = c
      add(total, c, 1)
    }
    return { total, byApi }
  }

  /** What was counted after `before` (a snapshot taken earlier); APIs that did not move are left out. */
  since(before: RequestCounts): RequestCounts {
    const now = this.snapshot()
    const byApi: Record<string, RequestCount> = {}
    const total = zero()
    for (const [api, c] of Object.entries(now.byApi)) {
      const d = { ...c }
      const b = before.byApi[api]
      if (b) add(d, b, -1)
      if (d.requests === 0) continue
      byApi[api] = d
      add(total, d, 1)
    }
    return { total, byApi }
  }

  /** Requests made so far to one API (`'DynamoDB.PutItem'`), or to all. */
  requests(api?: string): number {
    if (api !== undefined) return this.byApi.get(api)?.requests ?? 0
    let n = 0
    for (const c of this.byApi.values()) n += c.requests
    return n
  }

  /** Starts again from zero and returns what was counted until now. */
  reset(): RequestCounts {
    const last = this.snapshot()
    this.byApi = new Map()
    return last
  }
}

function add(into: RequestCount, c: RequestCount, sign: 1 | -1): void {
  into.requests += sign * c.requests
  into.errors += sign * c.errors
  into.requestBytes += sign * c.requestBytes
  into.responseBytes += sign * c.responseBytes
  into.units += sign * c.units
}

// The little of smithy's middleware types this file needs, spelled out so that any SDK v3 client
// fits without importing @smithy/types.
interface HttpMessage {
  statusCode?: number
  headers?: Record<string, string | undefined>
  body?: unknown
}
type Handler = (args: { request: unknown; input: unknown }) => Promise<{ response: unknown; output?: unknown }>
type Middleware = (next: Handler, context: { clientName?: string; commandName?: string }) => Handler
interface MiddlewareOptions {
  step: 'deserialize'
  priority: 'low'
  name: string
  override: boolean
  tags: string[]
}

/** Any AWS SDK v3 client (DynamoDBClient, KinesisClient, LambdaClient, …). */
export interface CountableClient {
  // `never` parameters accept every client's overloaded, service-typed `add`.
  middlewareStack: { add(middleware: never, options: never): void }
}
type Stack = { add(middleware: Middleware, options: MiddlewareOptions): void }

const MIDDLEWARE_NAME = 'troupeRequestCounter'

/**
 * Counts every request `client` sends into `counter`. Attaching again replaces the earlier
 * counter on that client. Returns the client.
 */
export function countRequests<C extends CountableClient>(client: C, counter: RequestCounter): C {
  const middleware: Middleware = (next, context) => {
    const api = `${(context.clientName ?? 'Unknown').replace(/Client$/, '')}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`
    return async (args) => {
      const requestBytes = bodyBytes(args.request as HttpMessage)
      try {
        const result = await next(args)
        const response = result.response as HttpMessage
        const responseBytes = bodyBytes(response)
        const status = response.statusCode ?? 200
        // A refused conditional write is billed like a done one; a server error is not billed.
        const units = status < 500 ? billedUnits(api, args.input, responseBytes) : 0
        counter.record(api, { requestBytes, responseBytes, error: status >= 400, units })
        return result
      } catch (e) {
        // No response at all: a network error or a timeout. It still went out (and may be billed).
        counter.record(api, { requestBytes, responseBytes: 0, error: true })
        throw e
      }
    }
  }
  ;(client.middlewareStack as unknown as Stack).add(middleware, {
    step: 'deserialize',
    priority: 'low',
    name: MIDDLEWARE_NAME,
    override: true,
    tags: ['TROUPE', 'METRICS'],
  })
  return client
}

function bodyBytes(message: HttpMessage | undefined): number {
  if (!message) return 0
  const length = header(message.headers, 'content-length')
  if (length !== undefined && /^\d+$/.test(length)) return Number(length)
  const body = message.body
  if (typeof body === 'string') return Buffer.byteLength(body)
  if (body instanceof Uint8Array) return body.byteLength
  return 0
}

function header(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined
  if (headers[name] !== undefined) return headers[name]
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v
  return undefined
}
