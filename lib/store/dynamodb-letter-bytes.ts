// The whole bytes of dead letters too large for their item, in the payload store (the claim
// check's port; by default DynamoDB chunks in the table, `payload#dead/…`, with no `ttl`), and the
// reading of any letter from its item (dynamodb-dead-letters.ts says when a letter goes there). The
// payload's key holds the letter's sha256, so a letter of the message with other content (a later
// death: other attempts, another error) never mixes its bytes with the first; a read checks them.
import { createHash } from 'node:crypto'
import type { DeadLetter } from '../core/dead-letter.js'
import { TroupeError } from '../core/errors.js'
import { DeadLetterPayloadError, labelOf, payloadKey, readLetterText, referenceOf, summaryItem, type Item, type LetterReference, type LetterText } from './dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, itemBytes } from './dynamodb-table.js'
import type { PayloadStore } from './payload-store.js'

export class LetterBytes {
  constructor(private readonly payloads: PayloadStore) {}

  /** Writes a letter's whole text to the payload store; where it is. */
  async put(text: LetterText): Promise<LetterReference> {
    const data = Buffer.from(text.text, 'utf8')
    const digest = createHash('sha256').update(data).digest()
    const ref: LetterReference = { key: payloadKey(text.letter.envelope.id, digest), bytes: data.byteLength, sha256: digest.toString('base64') }
    await this.payloads.put(ref.key, data, Infinity)
    if (itemBytes(summaryItem(text, ref)) > DYNAMODB_MAX_ITEM_BYTES) {
      // Only the envelope's ids and key are in it, and the runtime bounds those far below this.
      throw new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `dead letter of ${labelOf(text.letter)} is over DynamoDB's 400 KB even as a summary`)
    }
    return ref
  }

  /** The letter of an item: from the item itself, or whole from the payload store, checked against its sha256. */
  async read(item: Item): Promise<DeadLetter> {
    const ref = referenceOf(item)
    if (!ref) return readLetterText(item.letter?.S ?? '', item)
    const data = await this.payloads.get(ref.key)
    if (data === undefined) throw new DeadLetterPayloadError(item, ref, 'nothing is kept under it')
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new DeadLetterPayloadError(item, ref, 'its bytes do not match their sha256')
    return readLetterText(Buffer.from(data).toString('utf8'), item)
  }

  /** Deletes the bytes under `key`: a failure leaves bytes that cost storage, never a letter. */
  async forget(key: string): Promise<void> {
    await this.payloads.delete?.(key)
  }
}
