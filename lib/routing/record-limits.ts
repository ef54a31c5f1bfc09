// What a record codec accepts: its options, and the limits they come to.
import { ConfigError } from '../core/errors.js'
import { LARGEST_MAX_RECORD_BYTES } from './kinesis-limits.js'
import type { GuardLimits } from './superjson-guard.js'

export interface RecordCodecOptions {
  /**
   * Largest record data accepted, in bytes, checked before anything is decoded. The default is the
   * largest record any Kinesis stream takes; the transport also checks each stream's own limit.
   * @default 10 MiB
   */
  maxRecordBytes?: number
  /** Nesting of arrays and objects allowed in a body (a Map counts two: entries, then pairs). @default 64 */
  maxDepth?: number
  /** Longest instance key, in characters. @default 1024 */
  maxKeyLength?: number
  /** Longest BigInt (digits) or RegExp (source) in a body; both parse in more than linear time. @default 10000 */
  maxLiteralLength?: number
  /** What to do with envelope fields this version does not know. @default 'ignore' */
  unknownFields?: 'ignore' | 'reject'
}

/** Ids (message, correlation, parent, cause), actor types and reply targets. */
export const MAX_ID_LENGTH = 256

/** A codec's limits, from its options. */
export interface Limits extends GuardLimits {
  maxRecordBytes: number
  maxKeyLength: number
  rejectUnknown: boolean
}

/** The limits `options` ask for; throws a ConfigError for an option out of range. */
export function recordLimits(options: RecordCodecOptions): Limits {
  return {
    maxRecordBytes: positiveInt(options.maxRecordBytes, LARGEST_MAX_RECORD_BYTES, 'maxRecordBytes'),
    maxDepth: positiveInt(options.maxDepth, 64, 'maxDepth'),
    maxKeyLength: positiveInt(options.maxKeyLength, 1024, 'maxKeyLength'),
    maxLiteralLength: positiveInt(options.maxLiteralLength, 10_000, 'maxLiteralLength'),
    rejectUnknown: unknownFields(options.unknownFields),
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`RecordCodecOptions.${name} must be a whole number from 1 up, got ${value}`)
  return value
}

function unknownFields(value: 'ignore' | 'reject' | undefined): boolean {
  if (value === undefined || value === 'ignore') return false
  if (value === 'reject') return true
  throw new ConfigError(`RecordCodecOptions.unknownFields must be 'ignore' or 'reject', got ${JSON.stringify(value)}`)
}
