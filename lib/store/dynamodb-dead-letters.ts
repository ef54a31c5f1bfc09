// The dead letters of the DynamoDB journal (dynamodb-journal.ts): one partition (`deadletters`)
// with one item per message, so a letter is found, replaced and taken by its id alone:
// `take` is one DeleteItem that answers with the old item. Listing is one Query over the
// partition (paged; filtered by actor type on the server, which saves bandwidth, not reads). The
// partition shares one partition's throughput (1,000 writes/s) and, since the table has a local
// index, is capped at 10 GB: dead letters are meant to be few and handled, not to pile up. They
// carry no `ttl`: they are kept until taken.
//
// A letter's item (its superjson text, or a summary and where the whole letter is) is made and read
// in dynamodb-dead-letter-item.ts. Letters are never refused or cut for their size: a letter whose
// item would pass 400 KB (a large body, an unreadable record of megabytes, thousands of attempts)
// is kept whole in the payload store (the claim check's port; by default DynamoDB chunks in this
// table, `payload#dead/…`, with no `ttl`), and its item keeps `payload` (key, bytes, sha256) and a
// summary letter (the envelope without its body, the error shortened), so it is still listed,
// filtered and counted with one Query. Reads fetch the whole letter back and check its sha256.
// The payload's key holds the letter's sha256, so a letter written again with other content (a
// redelivered batch dead-letters its unreadable record again, with a new `deadAt`) never mixes its
// bytes with the first; the write that replaces a large letter deletes the payload of the one it
// replaced, and `take` deletes the payload of the letter it takes.
import { createHash } from 'node:crypto'
import { DeleteItemCommand, PutItemCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { TroupeError } from '../core/errors.js'
import type { DeadLetter } from '../core/dead-letter.js'
import { batchPut, type Write } from './dynamodb-batch-writes.js'
import {
  DEAD_LETTERS_PK,
  DeadLetterPayloadError,
  labelOf,
  letterItem,
  letterKey,
  letterText,
  payloadKey,
  readLetterText,
  referenceOf,
  summaryItem,
  summaryLetter,
  type Item,
  type LetterReference,
  type LetterText,
} from './dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, errorName, itemBytes, type TableAccess } from './dynamodb-table.js'
import { byDeadAt } from './memory-journal.js'
import type { PayloadStore } from './payload-store.js'

/** Letters written to, or read from, the payload store at once. */
const PAYLOADS_AT_ONCE = 4

export class DynamoDBDeadLetters {
  constructor(
    private readonly table: TableAccess,
    /** Where letters too large for an item are kept whole. */
    private readonly payloads: PayloadStore,
  ) {}

  /**
   * Letters that fit an item go in BatchWriteItem calls; each larger one is written to the payload
   * store first, then its item with one PutItem (which answers with the item it replaced, so a
   * replaced letter's payload is deleted).
   */
  async put(letters: readonly DeadLetter[]): Promise<void> {
    // A call may name a letter twice; the last one wins, as it would one by one.
    const byId = new Map<string, DeadLetter>()
    for (const letter of letters) {
      byId.delete(letter.envelope.id)
      byId.set(letter.envelope.id, letter)
    }
    const fitting: Write[] = []
    const large: LetterText[] = []
    for (const letter of byId.values()) {
      const text = letterText(letter)
      const item = letterItem(letter, text)
      if (itemBytes(item) <= DYNAMODB_MAX_ITEM_BYTES) fitting.push({ item, label: labelOf(letter) })
      else large.push(text)
    }
    // Both sides end before the put answers: a caller that tries again must not race writes of this one.
    const settled = await Promise.allSettled([batchPut(this.table, fitting, 'dead letters'), eachAtOnce(large, PAYLOADS_AT_ONCE, (text) => this.putLarge(text))])
    for (const side of settled) if (side.status === 'rejected') throw side.reason
  }

  /** The letters, of actor type `type` when given, oldest first. */
  async list(type?: string): Promise<DeadLetter[]> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: DEAD_LETTERS_PK }, ...(type === undefined ? {} : { ':type': { S: type } }) },
      ...(type === undefined ? {} : { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } }),
      ConsistentRead: this.table.consistentRead,
    }
    const items: Item[] = []
    for await (const page of this.table.query(input)) items.push(...page)
    const out = await eachAtOnce(items, PAYLOADS_AT_ONCE, async (item) => {
      try {
        return await this.readLetter(item)
      } catch (error) {
        // A letter whose bytes are gone is still listed, as its summary says it: never hidden.
        if (error instanceof DeadLetterPayloadError) return summaryLetter(item, error)
        throw error
      }
    })
    return out.sort(byDeadAt)
  }

  /**
   * One DeleteItem that answers with the item; a letter kept in the payload store is read back
   * whole, then its payload deleted. When it cannot be read whole, the item is put back (unless a
   * new letter of the same id came meanwhile) and the take fails, naming why: a replay never
   * sends a letter's summary in place of its message.
   */
  async take(id: string): Promise<DeadLetter | undefined> {
    const out = await this.table.send((c) =>
      c.send(new DeleteItemCommand({ TableName: this.table.name, Key: letterKey(id), ReturnValues: 'ALL_OLD' })),
    )
    const item = out.Attributes
    if (!item) return undefined
    let letter: DeadLetter
    try {
      letter = await this.readLetter(item)
    } catch (error) {
      await this.putItemBack(item)
      throw error
    }
    const ref = referenceOf(item)
    // The letter is in hand; bytes left behind by a failed delete cost storage, never a letter.
    if (ref) await this.forget(ref.key).catch(() => undefined)
    return letter
  }

  /**
   * Puts back a letter taken (a replay that failed), unless a letter of its id came meanwhile: that
   * one is newer (the message ran again, and died again), and stays.
   */
  async putBack(letter: DeadLetter): Promise<void> {
    const text = letterText(letter)
    const item = letterItem(letter, text)
    // A payload left behind when a newer letter stays costs storage, never a letter.
    await this.putItemBack(itemBytes(item) <= DYNAMODB_MAX_ITEM_BYTES ? item : await this.largeItem(text))
  }

  /** Writes a letter's whole text to the payload store; the item that refers to it. */
  private async largeItem(text: LetterText): Promise<Item> {
    const data = Buffer.from(text.text, 'utf8')
    const digest = createHash('sha256').update(data).digest()
    const ref: LetterReference = { key: payloadKey(text.letter.envelope.id, digest), bytes: data.byteLength, sha256: digest.toString('base64') }
    await this.payloads.put(ref.key, data, Infinity)
    const item = summaryItem(text, ref)
    if (itemBytes(item) > DYNAMODB_MAX_ITEM_BYTES) {
      // Only the envelope's ids and key are in it, and the runtime bounds those far below this.
      throw new TroupeError('TROUPE_DEAD_LETTER_NOT_STORED', `dead letter of ${labelOf(text.letter)} is over DynamoDB's 400 KB even as a summary`)
    }
    return item
  }

  /** Writes a letter's whole text to the payload store, then its item; deletes the payload of the item it replaced. */
  private async putLarge(text: LetterText): Promise<void> {
    const item = await this.largeItem(text)
    const ref = referenceOf(item)!
    const out = await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ReturnValues: 'ALL_OLD' })))
    const replaced = out.Attributes && referenceOf(out.Attributes)
    if (replaced && replaced.key !== ref.key) await this.forget(replaced.key).catch(() => undefined)
  }

  /** The letter of an item: from the item itself, or whole from the payload store, checked against its sha256. */
  private async readLetter(item: Item): Promise<DeadLetter> {
    const ref = referenceOf(item)
    if (!ref) return readLetterText(item.letter?.S ?? '', item)
    const data = await this.payloads.get(ref.key)
    if (data === undefined) throw new DeadLetterPayloadError(item, ref, 'nothing is kept under it')
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new DeadLetterPayloadError(item, ref, 'its bytes do not match their sha256')
    return readLetterText(Buffer.from(data).toString('utf8'), item)
  }

  private async putItemBack(item: Item): Promise<void> {
    try {
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })))
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error // a new letter of this id came meanwhile: it stays
    }
  }

  private async forget(key: string): Promise<void> {
    await this.payloads.delete?.(key)
  }
}
