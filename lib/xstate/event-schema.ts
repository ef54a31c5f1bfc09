// The runtime check on a machine actor's mailbox: every message is an xstate event, so it
// must be an object with a string `type`.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { TerminalError } from '../index.js'

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : `${typeof value} ${String(value)}`
}

/** Why `value` is not a machine event, or undefined when it is one. */
function problem(value: unknown): { path?: ['type']; message: string } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { message: `a machine event must be an object with a string "type", got ${describe(value)}` }
  }
  const type = (value as { type?: unknown }).type
  if (typeof type !== 'string' || type.length === 0) {
    return { path: ['type'], message: `a machine event needs a non-empty string "type" naming the event, got ${type === undefined ? 'none' : describe(type)}` }
  }
  return undefined
}

/**
 * The Standard Schema machine actors carry as `static schema`: `tell` and `ask` reject a
 * message without a string `type` at once, with a `ValidationError` naming the actor and the field.
 *
 * @example
 * await system.tell(TrafficLight, { color: 'green' } as never)
 * // rejects: [TROUPE_INVALID_MESSAGE] message for trafficLight is invalid: type: a machine event needs a non-empty string "type" …
 */
export const machineEventSchema: StandardSchemaV1<unknown, { type: string }> = {
  '~standard': {
    version: 1,
    vendor: 'troupe',
    validate(value) {
      const found = problem(value)
      return found === undefined ? { value: value as { type: string } } : { issues: [found] }
    },
  },
}

/**
 * The same check inside a turn (for messages that skipped the schema, such as the event
 * inside a delayed-event message): a {@link TerminalError} naming `where`.
 *
 * @example
 * const event = assertMachineEvent('trafficLight#5th-ave', msg)
 */
export function assertMachineEvent(where: string, value: unknown): { type: string } {
  const found = problem(value)
  if (found !== undefined) throw new TerminalError(`machine actor ${where}: ${found.path ? 'type: ' : ''}${found.message}`)
  return value as { type: string }
}
