// Fault injection for the Kinesis producer path. Neither kinesalite nor kinesis-local ever fails a
// record or throttles (AWS-SEMANTICS.md §5.1, §5.3), so the failures PutRecords has on AWS are
// made here, in SDK middleware, deterministically, against the real emulator:
//
// - failed records inside a 200 response: before the request is built, the chosen records are
//   taken out of it (so the emulator never writes them, as AWS would not), and the response gets
//   them back at their positions as `{ ErrorCode, ErrorMessage }` with `FailedRecordCount` set;
// - a throttled call: the HTTP exchange is answered with the 400
//   `ProvisionedThroughputExceededException` AWS sends, without reaching the emulator. The SDK
//   parses it into its real exception class and its retry strategy sees a throttle, as on AWS.
//   Attach fault injection after `countRequests` and the counter counts these attempts (as errors).

/** The per-record error codes AWS documents for PutRecords. */
export type PutRecordsFaultCode = 'ProvisionedThroughputExceededException' | 'InternalFailure'

/** One record of a PutRecords call, as the fault plan sees it. */
export interface FaultRecord {
  /** The PutRecords command's number on this client, from 0 (SDK retries of one command share it). */
  call: number
  /** Its position in the call. */
  index: number
  stream: string
  partitionKey: string
  data: Uint8Array
}

export interface PutRecordsFaults {
  /**
   * Fails a record with the code returned (the record is not written), or lets it through. When
   * every record of a call fails, the call never reaches the emulator (nor a request counter).
   */
  failRecord?: (record: FaultRecord) => PutRecordsFaultCode | undefined
  /** Answers one HTTP attempt of a PutRecords call with a throttle (400) when it returns true. */
  throttle?: (attempt: { call: number; attempt: number; stream: string; records: number }) => boolean
}

export interface FaultInjection {
  /** Records failed so far. */
  readonly failedRecords: number
  /** HTTP attempts answered with a throttle so far. */
  readonly throttledAttempts: number
  /** PutRecords commands seen so far. */
  readonly calls: number
  /** Takes the middleware off the client. */
  remove(): void
}

// The little of smithy's middleware types this file needs (see request-counter.ts).
type Handler = (args: { input: unknown; request?: unknown }) => Promise<{ output?: unknown; response?: unknown }>
type Middleware = (next: Handler, context: { commandName?: string }) => Handler
type Step = 'initialize' | 'deserialize'
interface Stack {
  add(middleware: Middleware, options: { step: Step; priority: 'high' | 'low'; name: string; override: boolean; tags: string[] }): void
  remove(name: string): boolean
}
/** Any SDK v3 Kinesis client. */
export interface FaultInjectableClient {
  middlewareStack: { add(middleware: never, options: never): void; remove(name: never): boolean }
}

interface PutRecordsInput {
  StreamName?: string
  Records?: { Data?: Uint8Array; PartitionKey?: string }[]
}
interface PutRecordsOutput {
  FailedRecordCount?: number
  Records?: Record<string, unknown>[]
  EncryptionType?: string
  $metadata?: unknown
}

let installed = 0

/**
 * Makes PutRecords on `client` fail the way AWS can. Returns counters and `remove()`.
 *
 * @example
 * // fail the first attempt of every record of key 'k#1', throttle the first HTTP attempt of call 0
 * const faults = injectPutRecordsFaults(kinesis, {
 *   failRecord: (r) => (r.partitionKey === 'k#1' && !seen.has(r.data) && seen.add(r.data) ? 'InternalFailure' : undefined),
 *   throttle: ({ call, attempt }) => call === 0 && attempt === 1,
 * })
 */
export function injectPutRecordsFaults(client: FaultInjectableClient, faults: PutRecordsFaults): FaultInjection {
  const stack = client.middlewareStack as unknown as Stack
  const id = ++installed
  const names = [`troupeFaultRecords${id}`, `troupeFaultThrottle${id}`]
  let calls = 0
  let failedRecords = 0
  let throttledAttempts = 0
  // The command's number, passed from the outer middleware to the inner one.
  const callOf = new WeakMap<object, number>()

  const records: Middleware = (next, context) => async (args) => {
    if (context.commandName !== 'PutRecordsCommand') return next(args)
    const call = calls++
    const input = args.input as PutRecordsInput
    const all = input.Records ?? []
    const codes = all.map((r, index) =>
      faults.failRecord?.({ call, index, stream: input.StreamName ?? '', partitionKey: r.PartitionKey ?? '', data: r.Data ?? new Uint8Array() }),
    )
    const failing = codes.filter((c) => c !== undefined).length
    if (failing === 0) {
      const sent = { ...args, input: { ...input } }
      callOf.set(sent.input, call)
      return next(sent)
    }
    failedRecords += failing
    const kept = all.filter((_, i) => codes[i] === undefined)
    let result: { output?: unknown; response?: unknown } = {
      output: { FailedRecordCount: 0, Records: [], $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } },
      response: undefined,
    }
    if (kept.length > 0) {
      const sent = { ...args, input: { ...input, Records: kept } }
      callOf.set(sent.input, call)
      result = await next(sent)
    }
    const out = result.output as PutRecordsOutput
    const got = out.Records ?? []
    let k = 0
    const merged = codes.map((code) =>
      code === undefined
        ? got[k++]!
        : {
            ErrorCode: code,
            ErrorMessage: code === 'InternalFailure' ? 'Internal service failure.' : 'Rate exceeded for shard (injected).',
          },
    )
    return { ...result, output: { ...out, Records: merged, FailedRecordCount: (out.FailedRecordCount ?? 0) + failing } }
  }

  const attemptsOf = new WeakMap<object, number>()
  const throttle: Middleware = (next, context) => async (args) => {
    if (context.commandName !== 'PutRecordsCommand' || !faults.throttle) return next(args)
    const input = args.input as PutRecordsInput
    const attempt = (attemptsOf.get(input) ?? 0) + 1
    attemptsOf.set(input, attempt)
    const answer = faults.throttle({ call: callOf.get(input) ?? -1, attempt, stream: input.StreamName ?? '', records: input.Records?.length ?? 0 })
    if (!answer) return next(args)
    throttledAttempts++
    const body = Buffer.from(
      JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for stream (injected).' }),
    )
    return {
      response: {
        statusCode: 400,
        reason: 'Bad Request',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': String(body.byteLength),
          'x-amzn-errortype': 'ProvisionedThroughputExceededException:',
          'x-amzn-requestid': `injected-${throttledAttempts}`,
        },
        body,
      },
    }
  }

  stack.add(records, { step: 'initialize', priority: 'high', name: names[0]!, override: true, tags: ['TROUPE', 'FAULTS'] })
  stack.add(throttle, { step: 'deserialize', priority: 'low', name: names[1]!, override: true, tags: ['TROUPE', 'FAULTS'] })
  return {
    get failedRecords() {
      return failedRecords
    },
    get throttledAttempts() {
      return throttledAttempts
    },
    get calls() {
      return calls
    },
    remove() {
      for (const name of names) stack.remove(name)
    },
  }
}
