import type { Envelope, Origin } from './envelope.js'

/** One failed attempt at a message. */
export interface AttemptRecord {
  attempt: number
  /** Epoch milliseconds. */
  startedAt: number
  endedAt: number
  error: ErrorRecord
}

/** An error as it is kept: plain data, so it survives serialisation. */
export interface ErrorRecord {
  name: string
  message: string
  code?: string
  stack?: string
}

/** A message that will not be processed without help: the full envelope, the error and every attempt. */
export interface DeadLetter {
  envelope: Envelope
  error: ErrorRecord
  attempts: AttemptRecord[]
  /** Epoch milliseconds. */
  deadAt: number
  /**
   * A replay of this letter failed to send, and may have put the message all the same: a replay
   * again sends it under this origin, which its instance applies only if it never read the first
   * (docs/guarantees.md, "Replays of dead letters").
   */
  resendAs?: Origin
}

export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack ? { stack: error.stack } : {}),
    }
  }
  return { name: 'NonError', message: safeString(error) }
}

/** An Error made again from its record, for whoever takes errors (listeners): its name, message, code and stack as kept. */
export function recordedError(record: ErrorRecord): Error {
  const error = new Error(record.message) as Error & { code?: string }
  error.name = record.name
  if (record.code !== undefined) error.code = record.code
  if (record.stack !== undefined) error.stack = record.stack
  return error
}

function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
