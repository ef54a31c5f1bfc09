// A dead letter as superjson writes it. The letter is the only copy of a message nobody handled,
// so it is never refused for its body: the body's guarded keys are escaped (guarded-keys.ts), and
// a body superjson cannot encode at all becomes `{ truncated: true, reason }`, its error saying so.
import type { DeadLetter } from './dead-letter.js'
import { TroupeError } from './errors.js'
import { escapeBody } from './guarded-keys.js'
import { encode } from './serialization.js'

export interface WritableLetter {
  /** The letter as written: its body escaped, or left out. */
  written: DeadLetter
  /** Its superjson text. */
  text: string
  /** The body's guarded keys were escaped: `unescapeBody` restores them. */
  escaped: boolean
  /** Why the body was left out: superjson could not encode it. */
  unencodable?: string
}

export function writableLetter(letter: DeadLetter): WritableLetter {
  const { envelope, error, attempts, deadAt } = letter
  try {
    const escaped = escapeBody(envelope.body)
    const written: DeadLetter = { envelope: { ...envelope, body: escaped.value }, error, attempts, deadAt }
    return { written, text: encode(written), escaped: escaped.escaped }
  } catch (e) {
    const reason = errorText(e)
    const noted = { ...error, message: `${error.message} [troupe: the body could not be encoded (${reason}) and was removed]` }
    const written: DeadLetter = { envelope: { ...envelope, body: { truncated: true, reason } }, error: noted, attempts, deadAt }
    try {
      return { written, text: encode(written), escaped: false, unencodable: reason }
    } catch (e2) {
      throw new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `dead letter of message ${envelope.id} (actor ${envelope.type}) could not be encoded: ${errorText(e2)}`, { cause: e2 })
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
