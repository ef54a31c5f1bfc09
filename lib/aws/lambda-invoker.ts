// How `AwsSystem.ask` reaches the host function directly (the `invoke` option). It is its own
// module so that only code that asks by invocation imports @aws-sdk/client-lambda: the Lambda
// host's bundle, which runs AwsSystem too, stays without it (about 60 KB minified, parsed at
// every cold start).
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { NodeHttpHandler } from '@smithy/node-http-handler'

/** One RequestResponse invocation of the host function. */
export interface HostInvoker {
  readonly functionName: string
  /** Invokes with `payload` (JSON text); resolves to what the function returned, and its FunctionError when it failed. */
  invoke(payload: string, signal: AbortSignal): Promise<{ payload: string; functionError?: string }>
}

/**
 * The invoker for a deployed (or local) host function.
 *
 * @example
 * const system = new AwsSystem({ …, invoke: lambdaInvoker(new LambdaClient({}), 'orders-host') })
 */
export function lambdaInvoker(lambda: LambdaClient, functionName: string): HostInvoker {
  return {
    functionName,
    async invoke(payload, signal) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(payload) }), { abortSignal: signal })
      const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : ''
      return out.FunctionError === undefined ? { payload: text } : { payload: text, functionError: out.FunctionError }
    },
  }
}

/**
 * A Lambda client for the local Invoke API (`startLocalInvokeServer`): its endpoint, the local
 * region and credentials, HTTP/1.1, and no retries (the turn of a failed ask may have run).
 */
export function localLambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  })
}
