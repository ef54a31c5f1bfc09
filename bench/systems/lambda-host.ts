// The Lambda entry of the troupe-lambda adapter: the bench's counters in troupe's Lambda host.
// Bundled (bundleHandler) and run by the local event source mapping in child processes; the
// table and stream come from the function's environment (TROUPE_TABLE, TROUPE_STREAM).
import { createLambdaHandler } from '../../lib/lambda/index.js'
import { COUNTERS } from './counters.js'

export const handler = createLambdaHandler({ actors: COUNTERS, checkSerializable: false, logLevel: 'error' })
