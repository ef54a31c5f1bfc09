// The flush record: a record for one instance that carries no message. The host that reads it runs
// what waits in the instance's item (the messages a direct turn made, held or parked messages) and
// applies nothing for it, so putting one twice, on any stream, late or never read, changes nothing
// but when that waiting work runs.
import { makeEnvelope, type Envelope } from '../../core/envelope.js'
import type { CorrelationId, MessageId } from '../../core/ids.js'

/** A flush record for instance `type#key`, named by `id` (fixed by what it is for: its logs say so). */
export function flushRecord(type: string, key: string, id: string, correlationId: string, now: number): Envelope {
  const envelope = makeEnvelope({ id: id as MessageId, type, key, body: undefined, correlationId: correlationId as CorrelationId, sentAt: now })
  envelope.control = 'flush'
  return envelope
}
