// The router: where a message goes on AWS, as a stream name and a partition key.
//
// - Partition key: `type#key` for a keyed actor, so every message of one instance lands on one
//   shard in send order (FIFO per instance); the message id for an unkeyed actor, so stateless
//   work spreads evenly over the shards. A key longer than Kinesis takes (256 characters) is
//   shortened deterministically: a readable prefix, then `~` and the sha256 of the whole key
//   (base64url), so the same instance always gets the same partition key.
// - Stream: a per-message priority (when configured) picks a stream from `priorities`, else the
//   actor type's entry in `streams`, else `defaultStream`. Priority streams let urgent messages
//   skip a backlog; per-instance FIFO then holds per stream, not across them.
//
// Two distinct instances may share a partition key (`a#b` + `c` and `a` + `b#c`, or a hash
// collision): that only puts them on one shard, in one order; it never mixes their state, which
// the host keys by the envelope's type and key.

import { createHash } from 'node:crypto'
import type { Envelope } from '../core/envelope.js'
import { ConfigError } from '../core/errors.js'
import { PARTITION_KEY_MAX_LENGTH, STREAM_NAME } from './kinesis-limits.js'

/** Where one message goes. */
export interface Route {
  stream: string
  partitionKey: string
}

export interface RouterOptions {
  /** The stream for every message no rule below sends elsewhere. */
  defaultStream: string
  /** Actor type → stream: every message for that actor goes there (e.g. a low-latency stream). */
  streams?: Readonly<Record<string, string>>
  /** Priority name → stream, for {@link RouterOptions.priorityOf}. */
  priorities?: Readonly<Record<string, string>>
  /**
   * Picks one message's priority: a name in `priorities`, or `undefined` for the actor type's
   * stream. A name that is not in `priorities` fails that message's send with a ConfigError.
   */
  priorityOf?: (envelope: Envelope) => string | undefined
  /**
   * Whether an actor type is keyed (one instance per key). By default a message is keyed when its
   * `key` is not `''`; give the registry's answer when a keyed actor may use the empty key.
   */
  isKeyed?: (type: string) => boolean
  /**
   * Routes a message where another would go (its stream and partition key), or undefined to route
   * it as itself. troupe's own use: a timer's firing goes where the timer's message goes, so both
   * hops of a firing stay on the target's shard.
   */
  routeAs?: (envelope: Envelope) => Pick<Envelope, 'id' | 'type' | 'key'> | undefined
}

/** Where a hashed partition key's readable prefix ends and its hash begins. */
const HASH_MARK = '~'
/** sha256 in base64url, unpadded. */
const HASH_LENGTH = 43

/**
 * Shortens a partition key to what Kinesis takes (1–256 characters): unchanged when it fits,
 * else its first characters, `~` and the sha256 of the whole key (base64url). Deterministic.
 */
export function fitPartitionKey(raw: string): string {
  if (raw.length === 0) throw new ConfigError('a partition key cannot be empty')
  // String length counts UTF-16 units, never fewer than Unicode characters: a safe bound.
  if (raw.length <= PARTITION_KEY_MAX_LENGTH) return raw
  let cut = PARTITION_KEY_MAX_LENGTH - HASH_LENGTH - HASH_MARK.length
  const last = raw.charCodeAt(cut - 1)
  if (last >= 0xd800 && last <= 0xdbff) cut-- // never split a surrogate pair
  return `${raw.slice(0, cut)}${HASH_MARK}${createHash('sha256').update(raw, 'utf8').digest('base64url')}`
}

/** The raw partition key of a message: `type#key` for a keyed actor, the message id otherwise. */
export function partitionKeyOf(envelope: Pick<Envelope, 'id' | 'type' | 'key'>, isKeyed?: (type: string) => boolean): string {
  const keyed = isKeyed ? isKeyed(envelope.type) : envelope.key !== ''
  return fitPartitionKey(keyed ? `${envelope.type}#${envelope.key}` : envelope.id)
}

/**
 * Maps messages to streams and partition keys.
 *
 * @example
 * const router = new Router({
 *   defaultStream: 'troupe',
 *   streams: { alert: 'troupe-urgent' },                 // every `alert` message
 *   priorities: { high: 'troupe-urgent' },
 *   priorityOf: (e) => (e.replyTo ? 'high' : undefined), // replies skip the backlog
 * })
 * router.route(envelope) // { stream: 'troupe', partitionKey: 'pageStats#/home' }
 */
export class Router {
  readonly defaultStream: string
  private readonly byType: ReadonlyMap<string, string>
  private readonly byPriority: ReadonlyMap<string, string>
  private readonly priorityOf: ((envelope: Envelope) => string | undefined) | undefined
  private readonly isKeyed: ((type: string) => boolean) | undefined
  private readonly routeAs: RouterOptions['routeAs']

  constructor(options: RouterOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('RouterOptions must be an object')
    this.defaultStream = streamName(options.defaultStream, 'RouterOptions.defaultStream')
    this.byType = table(options.streams, 'RouterOptions.streams')
    this.byPriority = table(options.priorities, 'RouterOptions.priorities')
    if (options.priorityOf !== undefined && typeof options.priorityOf !== 'function') {
      throw new ConfigError('RouterOptions.priorityOf must be a function')
    }
    if (options.priorityOf !== undefined && this.byPriority.size === 0) {
      throw new ConfigError('RouterOptions.priorityOf needs RouterOptions.priorities (priority name → stream)')
    }
    if (options.isKeyed !== undefined && typeof options.isKeyed !== 'function') {
      throw new ConfigError('RouterOptions.isKeyed must be a function')
    }
    if (options.routeAs !== undefined && typeof options.routeAs !== 'function') throw new ConfigError('RouterOptions.routeAs must be a function')
    this.priorityOf = options.priorityOf
    this.isKeyed = options.isKeyed
    this.routeAs = options.routeAs
  }

  /** Every stream this router may send to, default first. */
  get streams(): string[] {
    return [...new Set([this.defaultStream, ...this.byType.values(), ...this.byPriority.values()])]
  }

  /** The stream and partition key of one message. Throws a ConfigError for an unknown priority. */
  route(envelope: Envelope): Route {
    const as = this.routeAs?.(envelope)
    const routed = as === undefined ? envelope : { ...envelope, ...as }
    return { stream: this.streamOf(routed), partitionKey: partitionKeyOf(routed, this.isKeyed) }
  }

  /** The stream of one message: its priority's, else its actor type's, else the default. */
  streamOf(envelope: Envelope): string {
    if (this.priorityOf) {
      const priority = this.priorityOf(envelope)
      if (priority !== undefined) {
        const stream = this.byPriority.get(priority)
        if (stream === undefined) {
          throw new ConfigError(
            `priority ${JSON.stringify(priority)} of message ${envelope.id} for ${envelope.type} is not in RouterOptions.priorities ` +
              `(known: ${[...this.byPriority.keys()].join(', ')})`,
          )
        }
        return stream
      }
    }
    return this.byType.get(envelope.type) ?? this.defaultStream
  }
}

function streamName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !STREAM_NAME.test(value)) {
    throw new ConfigError(`${what} must be a Kinesis stream name (1–128 of a-z A-Z 0-9 _ . -), got ${JSON.stringify(value)}`)
  }
  return value
}

function table(value: Readonly<Record<string, string>> | undefined, what: string): Map<string, string> {
  const map = new Map<string, string>()
  if (value === undefined) return map
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${what} must be an object of names to stream names`)
  for (const [name, stream] of Object.entries(value)) map.set(name, streamName(stream, `${what}[${JSON.stringify(name)}]`))
  return map
}
