// A Lambda client for the local Invoke API (`startLocalInvokeServer`), for `troupe dev` and the
// tests: its endpoint, the local region and credentials, HTTP/1.1, and no retries (the turn of a
// failed ask may have run).
import { LambdaClient } from '@aws-sdk/client-lambda'
import { NodeHttpHandler } from '@smithy/node-http-handler'

export function localLambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  })
}
