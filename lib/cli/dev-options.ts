// What `troupe dev` runs with, once its flags are read (dev.ts) and checked: dev-run.ts takes it.
import type { LogLevel } from '../core/logger.js'
import type { LocalKinesis } from '../local/local-stack.js'

export type DevHost = 'lambda' | 'process'

export interface DevOptions {
  app: string
  host: DevHost
  tickMs: number
  dir: string
  kinesis: LocalKinesis
  shards: number
  table: string
  stream: string | undefined
  logLevel: LogLevel
  json: boolean
  once: boolean
}
