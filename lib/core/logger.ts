import type { Envelope } from './envelope.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** Structured logs. Fields are merged into one JSON line with the turn's actor, key and ids. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

/**
 * What names a message on a log line: `ctx.log`'s fields, and those of troupe's own lines about a
 * message. A type, not an interface: it goes where a logger takes `Record<string, unknown>`.
 */
export type MessageLogFields = {
  actor: string
  /** Absent for an unkeyed actor. */
  key: string | undefined
  messageId: string
  correlationId: string | undefined
}

/**
 * The fields of every line about one message, in both hosts and from any logger, so one query
 * (`messageId`, `correlationId`) finds a turn's own lines and what troupe logged of it.
 */
export function messageLogFields(envelope: Pick<Envelope, 'type' | 'key' | 'id' | 'correlationId'>): MessageLogFields {
  return { actor: envelope.type, key: envelope.key || undefined, messageId: envelope.id, correlationId: envelope.correlationId }
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Every level, lowest first. */
export const LOG_LEVELS = Object.keys(rank) as readonly LogLevel[]

/** Whether a text (a flag, an environment variable) names a level. */
export function isLogLevel(text: string): text is LogLevel {
  return Object.hasOwn(rank, text)
}

/** A logger writing one JSON object per line to stderr, at `level` and above. */
export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, write = defaultWrite): Logger {
  const min = rank[level]
  const log = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg: message, ...base, ...fields }, jsonSafe))
  }
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  }
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`)
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return { name: value.name, message: value.message }
  return value
}
