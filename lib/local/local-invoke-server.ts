// The Lambda Invoke API on loopback, over LocalFunctions, so the real `@aws-sdk/client-lambda`
// client is used end to end locally:
//
//   const server = await startLocalInvokeServer({ functions: { 'troupe-host': fn } })
//   const lambda = new LambdaClient({ endpoint: server.endpoint, region: 'us-east-1',
//     credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler: new NodeHttpHandler() })
//   await lambda.send(new InvokeCommand({ FunctionName: 'troupe-host', Payload: … }))
//
// `POST /2015-03-31/functions/{FunctionName}/invocations`, as the service answers it:
// - RequestResponse (the default): 200 with the function's result; on a function error 200 with
//   `X-Amz-Function-Error: Unhandled` and the error JSON; `X-Amz-Executed-Version`, the version that ran it;
// - Event: 202, the function runs in the background; DryRun: 204;
// - an unknown function: 404 ResourceNotFoundException; over 6 MB: 413 RequestTooLargeException.
// Signatures are not checked. A caller that gives up (aborts) does not stop the invocation,
// as on AWS: it runs to its end and its result is dropped.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { MAX_SYNC_PAYLOAD_BYTES, type LocalFunction } from './local-function.js'
import { listenLoopback } from './listen-loopback.js'

export interface LocalInvokeServerOptions {
  /** Function name → the local function it invokes. More can be added with `add`. */
  functions?: Record<string, LocalFunction>
  /** @default 0 (a free port) */
  port?: number
}

export interface LocalInvokeServer {
  /** `http://127.0.0.1:<port>`: the `endpoint` of a LambdaClient. */
  readonly endpoint: string
  add(name: string, fn: LocalFunction): void
  /** Invocations served so far, by function name. */
  stats(): Record<string, { invocations: number; functionErrors: number }>
  /** Stops listening and closes every connection; the functions are left running. */
  stop(): Promise<void>
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/

/** Starts the Invoke API on 127.0.0.1. */
export async function startLocalInvokeServer(options: LocalInvokeServerOptions = {}): Promise<LocalInvokeServer> {
  const functions = new Map<string, LocalFunction>(Object.entries(options.functions ?? {}))
  const counts = new Map<string, { invocations: number; functionErrors: number }>()

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'ServiceException', (error as Error).message)
      else res.destroy()
    })
  })
  // An idle connection stays open until its client closes it. A server that closes idle ones
  // (Node's does after about 6 s) races a client's next request on the same connection, which
  // then fails with ECONNRESET: a Lambda client with no retries reports an ask with no answer.
  server.keepAliveTimeout = 0

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const match = PATH.exec(url.pathname)
    if (req.method !== 'POST' || !match) {
      await drain(req)
      return sendError(res, 404, 'UnknownOperationException', `no such operation: ${req.method} ${url.pathname}`)
    }
    const target = parseName(decodeURIComponent(match[1]!), url.searchParams.get('Qualifier'))
    const fn = functions.get(target.name)
    if (!fn || (target.qualifier !== undefined && target.qualifier !== '$LATEST')) {
      await drain(req)
      const arn = `arn:aws:lambda:us-east-1:000000000000:function:${target.name}${target.qualifier ? `:${target.qualifier}` : ''}`
      return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}`)
    }
    const body = await readBody(req, MAX_SYNC_PAYLOAD_BYTES)
    if (body === undefined) return sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`)
    const payload = body.length === 0 ? '{}' : body.toString('utf8')
    try {
      JSON.parse(payload)
    } catch {
      return sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json: the payload is not JSON')
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
    const count = counts.get(target.name) ?? { invocations: 0, functionErrors: 0 }
    counts.set(target.name, count)
    if (type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-RequestId': randomUUID() }).end()
      return
    }
    if (type === 'Event') {
      count.invocations++
      void fn.invokeRaw(payload).then(
        (r) => {
          if (!r.ok) count.functionErrors++
        },
        () => {},
      )
      res.writeHead(202, { 'x-amzn-RequestId': randomUUID(), 'Content-Length': '0' }).end()
      return
    }
    if (type !== 'RequestResponse') return sendError(res, 400, 'InvalidParameterValueException', `unknown invocation type ${type}`)
    count.invocations++
    const result = await fn.invokeRaw(payload)
    if (!result.ok) count.functionErrors++
    if (res.destroyed) return // the caller gave up; the invocation ran anyway
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'x-amzn-RequestId': result.requestId,
      'X-Amz-Executed-Version': result.executedVersion ?? '$LATEST',
      'Content-Length': String(Buffer.byteLength(result.payload)),
    }
    if (!result.ok) headers['X-Amz-Function-Error'] = result.functionError
    res.writeHead(200, headers).end(result.payload)
  }

  const endpoint = await listenLoopback(server, options.port)
  let stopped: Promise<void> | undefined
  return {
    endpoint,
    add: (name, fn) => void functions.set(name, fn),
    stats: () => Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }])),
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })),
  }
}

/** A name, an ARN (…:function:name[:qualifier]) or name:qualifier. */
function parseName(raw: string, qualifier: string | null): { name: string; qualifier: string | undefined } {
  const arn = /^arn:aws[a-z-]*:lambda:[^:]*:\d*:function:([^:]+)(?::(.+))?$/.exec(raw)
  if (arn) return { name: arn[1]!, qualifier: qualifier ?? arn[2] }
  const colon = raw.indexOf(':')
  if (colon > 0) return { name: raw.slice(0, colon), qualifier: qualifier ?? raw.slice(colon + 1) }
  return { name: raw, qualifier: qualifier ?? undefined }
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ Type: 'User', message })
  res
    .writeHead(status, {
      'Content-Type': 'application/json',
      'x-amzn-RequestId': randomUUID(),
      'x-amzn-ErrorType': type,
      'Content-Length': String(Buffer.byteLength(body)),
    })
    .end(body)
}

/** The body, or undefined when it passes `limit` bytes (the rest is read and dropped). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) over = true
    if (!over) chunks.push(chunk)
  }
  return over ? undefined : Buffer.concat(chunks)
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.once('end', resolve).once('error', () => resolve()).once('close', resolve)
    req.resume()
  })
}
