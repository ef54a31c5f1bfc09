// A bound on how long a DynamoDB, Kinesis or S3 request may wait in silence. The SDK sets none by
// default: a request whose connection goes dead without a reset (a black-holed route, a NAT that
// dropped its mapping) waits for good. In a process that reads the stream itself, that one
// request holds its batch, so its shard moves no further and every message behind it waits
// too. (A Lambda invocation ends at its timeout instead, and its batch comes again.) With the
// bound, such a request fails as a dropped connection does: the SDK tries it again on a fresh
// connection, and a write whose answer was lost is recognised when it comes again (a commit's
// condition fails and the instance is read again; docs/guarantees.md).
//
// It is the client's idle socket timeout (`socketTimeout` of @smithy/node-http-handler's
// NodeHttpHandler), set as the handler's service default: a client whose handler sets its own
// `socketTimeout` or default keeps it, and a handler of another kind is left as it is.

/** Silence, in ms, after which a request fails: far longer than DynamoDB, Kinesis or S3 ever take to answer or to send the next bytes. */
export const REQUEST_IDLE_TIMEOUT_MS = 30_000

/** The key @smithy/node-http-handler takes, in `updateHttpClientConfig`, for a default that yields to the client's own setting. */
const DEFAULT_SOCKET_TIMEOUT = Symbol.for('@smithy/defaultSocketTimeout')

/** What of an SDK v3 client this needs: its request handler, as its resolved config holds it. */
export interface IdleBoundClient {
  config: { requestHandler?: unknown }
}

interface ConfigurableHandler {
  updateHttpClientConfig(key: symbol, value: number): void
}

/**
 * Makes `client`'s requests fail after `ms` of silence, unless its handler has a timeout of its
 * own. Returns false when the handler cannot take one (not a NodeHttpHandler).
 */
export function boundIdleRequests(client: IdleBoundClient, ms = REQUEST_IDLE_TIMEOUT_MS): boolean {
  const handler = client.config?.requestHandler as Partial<ConfigurableHandler> | undefined
  if (typeof handler?.updateHttpClientConfig !== 'function') return false
  handler.updateHttpClientConfig(DEFAULT_SOCKET_TIMEOUT, ms)
  return true
}
