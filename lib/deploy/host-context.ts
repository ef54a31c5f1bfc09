// What every step of the host half of `troupe deploy` is given: where it reports, the region,
// how long it waits, and the ARNs of what the data half made.
import type { Steps } from './steps.js'

export interface HostContext {
  steps: Steps
  region: string
  timeoutMs: number
  firstPollMs: number
  propagationDelaysMs: readonly number[]
}

/** The exact ARNs the host's policy names (what the data half created or found). */
export interface DataArns {
  streams: Map<string, string | undefined>
  table: string | undefined
  indexes: Map<string, string | undefined>
}
