// One local Lambda execution environment: a plain Node process (no loaders, no TypeScript)
// started by LocalFunction with the environment a Lambda gets (AWS-SEMANTICS.md §6). It runs on
// the Node of the function's runtime (22 or 24), not necessarily the parent's: plain JavaScript
// and APIs every supported Node has, nothing more.
//
//   node runtime-child.mjs <bundle.mjs> [exportName]
//
// Init: imports the bundle once (module scope runs here, once per environment) and tells the
// parent `{ type: 'ready', initMs }`, or `{ type: 'init-error', error }` and exits.
// Invoke: serves `{ type: 'invoke', id, payload, deadline, requestId, functionName, ... }`
// messages from the parent, one at a time, answering `{ type: 'result', id, payload }` (the
// handler's result as JSON text; `null` for undefined, as Lambda does) or
// `{ type: 'error', id, error: { errorType, errorMessage, stackTrace } }`.
// A crash (uncaught exception, unhandled rejection, process.exit) ends the process, and the
// parent reports it as Runtime.ExitError; a timeout is the parent killing this process.
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'

const [bundle, exportName = 'handler'] = process.argv.slice(2)

/** @param {unknown} message */
function send(message) {
  return new Promise((resolve, reject) => {
    if (!process.send || !process.connected) return reject(new Error('the parent is gone'))
    process.send(message, (error) => (error ? reject(error) : resolve(undefined)))
  })
}

/** The error shape Lambda's Node runtime answers with. */
function errorOf(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      stackTrace: typeof error.stack === 'string' ? error.stack.split('\n').slice(1).map((l) => l.trim()) : [],
    }
  }
  return { errorType: typeof error, errorMessage: String(error), stackTrace: [] }
}

// The parent going away ends the environment (Lambda's Shutdown phase).
process.on('disconnect', () => process.exit(0))

let handler
const started = performance.now()
try {
  if (!bundle) throw new Error('runtime-child.mjs: no bundle given')
  const mod = await import(pathToFileURL(bundle).href)
  handler = mod[exportName]
  if (typeof handler !== 'function') {
    const error = new Error(`${basename(bundle).replace(/\.m?js$/, '')}.${exportName} is undefined or not exported`)
    error.name = 'Runtime.HandlerNotFound'
    throw error
  }
} catch (error) {
  const e = errorOf(error)
  if (e.errorType === 'Error' && /Cannot find (module|package)/.test(e.errorMessage)) e.errorType = 'Runtime.ImportModuleError'
  await send({ type: 'init-error', error: e, initMs: performance.now() - started }).catch(() => {})
  process.exit(1)
}
await send({ type: 'ready', initMs: performance.now() - started })

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return
  const { id, payload, deadline, requestId, functionName, functionVersion, memoryLimitInMB, invokedFunctionArn, logGroupName, logStreamName, traceId } = message
  process.env._X_AMZN_TRACE_ID = traceId
  const context = {
    functionName,
    functionVersion,
    invokedFunctionArn,
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId: requestId,
    logGroupName,
    logStreamName,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  let answer
  try {
    const event = JSON.parse(payload)
    const result = await handler(event, context)
    let text
    try {
      text = result === undefined ? 'null' : JSON.stringify(result)
    } catch (error) {
      const e = errorOf(error)
      e.errorType = 'Runtime.MarshalError'
      answer = { type: 'error', id, error: e }
    }
    answer ??= { type: 'result', id, payload: text ?? 'null' }
  } catch (error) {
    answer = { type: 'error', id, error: errorOf(error) }
  }
  await send(answer).catch(() => process.exit(1))
})
