// What an invocation of a local Lambda function answers: its result, or the error Lambda answers
// with (`X-Amz-Function-Error: Unhandled`) and why; and the 6 MB synchronous payload limit each
// way (a larger request is refused before anything runs; a larger response is
// `Function.ResponseSizeTooLarge`).
import { TroupeError } from '../core/errors.js'

/** Synchronous invocation payload limit, each way: 6 MB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024

/** The error body Lambda returns with `X-Amz-Function-Error: Unhandled`. */
export interface FunctionErrorPayload {
  errorType: string
  errorMessage: string
  stackTrace?: string[]
}

/** Why an invocation failed. */
export type FunctionFailure = 'error' | 'crash' | 'timeout' | 'init' | 'response-too-large'

export type InvokeResult =
  | {
      ok: true
      requestId: string
      /** The handler's result as JSON text (`null` when it returned nothing). */
      payload: string
      /** `payload`, parsed. */
      result: unknown
      durationMs: number
      /** The function version that ran it (`X-Amz-Executed-Version`). */
      executedVersion: string
    }
  | {
      ok: false
      requestId: string
      functionError: 'Unhandled'
      failure: FunctionFailure
      error: FunctionErrorPayload
      /** `error` as the JSON text Lambda answers with. */
      payload: string
      durationMs: number
      /** The function version whose environment took it; absent when none did (a request the mapping could not send). */
      executedVersion?: string
    }

export interface InvokeOptions {
  /** This invocation's timeout. @default the function's `timeoutMs` */
  timeoutMs?: number
}

/** A request over the 6 MB synchronous payload limit; nothing ran. */
export class RequestTooLargeError extends TroupeError {
  constructor(
    readonly functionName: string,
    readonly bytes: number,
  ) {
    super('TROUPE_LAMBDA_REQUEST_TOO_LARGE', `the request to ${functionName} is ${bytes} bytes; a synchronous invocation may be ${MAX_SYNC_PAYLOAD_BYTES}`)
  }
}

/** The failed result of an invocation started at `started` (performance.now()): the error as Lambda answers it. */
export function errorResult(requestId: string, failure: FunctionFailure, error: FunctionErrorPayload, started: number, executedVersion: string): InvokeResult {
  const body: FunctionErrorPayload = { errorType: error.errorType, errorMessage: error.errorMessage, ...(error.stackTrace ? { stackTrace: error.stackTrace } : {}) }
  return { ok: false, requestId, functionError: 'Unhandled', failure, error: body, payload: JSON.stringify(body), durationMs: performance.now() - started, executedVersion }
}
