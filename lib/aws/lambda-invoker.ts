// How `AwsSystem.ask` reaches the host function directly (the `invoke` option). It is its own
// module so that only code that asks by invocation loads @aws-sdk/client-lambda, an optional
// peer: the Lambda host's bundle, which runs AwsSystem too, stays without it (about 60 KB
// minified, parsed at every cold start), and `troupe/aws` imports without it.
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda'
import { ConfigError } from '../core/errors.js'
import { loadPeer } from '../core/optional-peer.js'

/**
 * What `lambdaInvoker` needs of an `@aws-sdk/client-lambda` LambdaClient. Written here, not
 * imported: that package is an optional peer, and `troupe/aws`'s declarations must type-check
 * without it.
 */
export interface LambdaSender {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>
}

/** One RequestResponse invocation of the host function. */
export interface HostInvoker {
  readonly functionName: string
  /** Invokes with `payload` (JSON text); resolves to what the function returned, and its FunctionError when it failed. */
  invoke(payload: string, signal: AbortSignal): Promise<{ payload: string; functionError?: string }>
}

let lambdaSdk: Promise<typeof import('@aws-sdk/client-lambda')> | undefined

function loadLambdaSdk(): Promise<typeof import('@aws-sdk/client-lambda')> {
  // troupe's Lambda bundle defines this at build time: its host never asks by Invoke, and the
  // branch below is dead there, so the client is not even a chunk of the function's zip.
  if (process.env.TROUPE_LAMBDA_BUNDLE === 'true') {
    return Promise.reject(new ConfigError('ask by Invoke is not available inside the troupe Lambda host'))
  } else {
    return loadPeer('@aws-sdk/client-lambda', 'ask by Invoke', () => import('@aws-sdk/client-lambda'))
  }
}

/**
 * The invoker for a deployed (or local) host function.
 *
 * @example
 * const system = new AwsSystem({ …, invoke: lambdaInvoker(new LambdaClient({}), 'orders-host') })
 */
export function lambdaInvoker(lambda: LambdaSender, functionName: string): HostInvoker {
  return {
    functionName,
    async invoke(payload, signal) {
      const { InvokeCommand } = await (lambdaSdk ??= loadLambdaSdk())
      const out = (await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(payload) }), { abortSignal: signal })) as InvokeCommandOutput
      const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : ''
      return out.FunctionError === undefined ? { payload: text } : { payload: text, functionError: out.FunctionError }
    },
  }
}
