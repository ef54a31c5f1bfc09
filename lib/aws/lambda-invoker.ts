// How `AwsSystem.ask` reaches the host function directly (the `invoke` option). It is its own
// module so that only code that asks by invocation imports @aws-sdk/client-lambda: the Lambda
// host's bundle, which runs AwsSystem too, stays without it (about 60 KB minified, parsed at
// every cold start).
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'

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
