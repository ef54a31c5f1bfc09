// A replay's hold on a dead letter (dead-letter-replay.ts is the replay; dynamodb-dead-letters.ts
// the letters' store): attributes beside the letter on its item (`claim`, `claimId`, `claimUntil`,
// the count of holds `gen`, and `sentAs`), each change conditional on the hold; a letter written
// again (a newer one) replaces the item, and with it all of them. A letter replayed or taken
// leaves its death behind in its item (`ended`, `who`, with a `ttl` as long as a copy of its write
// may come, the tombstone TTL), and where its replay sent it (`sentAs`): a replay taken over learns
// from it whether the one that ended the letter sent it under its origin.
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import type { HeldDeadLetter, ReplayClaim } from '../core/dead-letter.js'
import type { Origin } from '../core/envelope.js'
import { ReplayUnderWayError } from '../core/errors.js'
import { decode, encode } from '../core/serialization.js'
import { letterKey, letterText, referenceOf, summaryItem, type Item } from './dynamodb-dead-letter-item.js'
import type { LetterBytes } from './dynamodb-letter-bytes.js'
import { errorName, isTooLarge, type TableAccess } from './dynamodb-table.js'

/** The condition of an item that holds a letter, not what is left of one replayed or taken. */
export const A_LETTER = 'attribute_exists(pk) AND attribute_not_exists(ended)'
/** What a letter's item holds besides its key, `deadAt` and `sentAs`: all of it goes when the letter ends. */
const LETTER_ATTRIBUTES = ['type', 'letter', 'escaped', 'truncated', 'payload', 'claim', 'claimId', 'claimUntil', 'gen']

export class LetterHolds {
  constructor(
    private readonly table: TableAccess,
    private readonly bytes: LetterBytes,
    /** How long the death of a letter replayed or taken is kept: as long as a copy of its write may come. */
    private readonly tombstoneTtlMs: number,
  ) {}

  /**
   * Holds letter `id` for a replay (`claim`), unless another replay holds it now: one UpdateItem
   * that counts the holds (`gen`) and answers with the item as it was, and with it `sentAs`.
   * Undefined when there is no letter; a ReplayUnderWayError while another replay holds it. A
   * letter that cannot be read whole has its hold ended, and the error says why.
   */
  async claim(id: string, claim: ReplayClaim, now: number, moved = false): Promise<HeldDeadLetter | undefined> {
    let item: Item
    try {
      const out = await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: letterKey(id),
            UpdateExpression: 'SET claim = :claim, claimId = :id, claimUntil = :until ADD gen :one',
            ConditionExpression: `${A_LETTER} AND (attribute_not_exists(claimUntil) OR claimUntil <= :now)`,
            ExpressionAttributeValues: { ':claim': { S: encode(claim) }, ':id': { S: claim.id }, ':until': { N: String(claim.until) }, ':now': { N: String(now) }, ':one': { N: '1' } },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      )
      item = out.Attributes!
    } catch (error) {
      // A letter kept in its item before room was left there for a hold: moved to the payload store, once.
      if (isTooLarge(error) && !moved) {
        await this.moveToPayloads(id)
        return this.claim(id, claim, now, true)
      }
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error
      const held = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: letterKey(id), ConsistentRead: true })))
      if (!held.Item || held.Item.ended) return undefined
      // The SDK tried again a write that had been made: the hold is this replay's own.
      if (held.Item.claimId?.S !== claim.id) throw new ReplayUnderWayError(id, Number(held.Item.claimUntil?.N ?? now))
      item = { ...held.Item, gen: { N: String(Number(held.Item.gen?.N ?? 1) - 1) } }
    }
    const sentAs = item.sentAs?.S === undefined ? undefined : decode<Origin>(item.sentAs.S)
    try {
      return { letter: await this.bytes.read(item), gen: Number(item.gen?.N ?? 0) + 1, ...(sentAs ? { sentAs } : {}) }
    } catch (error) {
      await this.release(id, claim.id)
      throw error
    }
  }

  /**
   * Moves a letter kept whole in its item to the payload store, its item a summary (an item that
   * full holds no `sentAs`), unless the item changed meanwhile (another replay moved, held or
   * deleted it, or a newer letter replaced it): then its bytes are dropped again.
   */
  private async moveToPayloads(id: string): Promise<void> {
    const got = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: letterKey(id), ConsistentRead: true })))
    const old = got.Item
    if (!old || old.ended || referenceOf(old)) return
    const text = letterText(await this.bytes.read(old))
    const ref = await this.bytes.put(text)
    const item = summaryItem(text, ref)
    if (old.gen) item.gen = old.gen
    const held = old.claimId?.S
    try {
      await this.table.send((c) =>
        c.send(
          new PutItemCommand({
            TableName: this.table.name,
            Item: item,
            ConditionExpression: `#letter = :letter AND ${held === undefined ? 'attribute_not_exists(claimId)' : 'claimId = :held'}`,
            ExpressionAttributeNames: { '#letter': 'letter' },
            ExpressionAttributeValues: { ':letter': old.letter!, ...(held === undefined ? {} : { ':held': { S: held } }) },
          }),
        ),
      )
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error
      await this.bytes.forget(ref.key).catch(() => undefined)
    }
  }

  /**
   * Keeps with letter `id` that replay `claimId` may send it as `origin` (`kept`; again too, when
   * a try of it before was made and its answer lost), unless that replay holds it no more: `taken
   * over` by another (also when another replay ended it having sent it under another origin, or it
   * was taken), or `gone` (ended under this origin, or no trace of it is left).
   */
  async markSent(id: string, claimId: string, origin: Origin): Promise<'kept' | 'taken over' | 'gone'> {
    if (await this.ifHeld(id, claimId, 'SET sentAs = :sent', { ':sent': { S: encode(origin) } }, `(claimId = :held OR sentAs = :sent) AND attribute_not_exists(ended)`)) return 'kept'
    const now = await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: letterKey(id), ConsistentRead: true, ProjectionExpression: 'pk, ended, sentAs' })))
    if (!now.Item) return 'gone'
    if (!now.Item.ended) return 'taken over'
    // Ended by a replay that sent it under another origin (or taken): this one's never went.
    const sent = now.Item.sentAs?.S === undefined ? undefined : decode<Origin>(now.Item.sentAs.S)
    return sent?.lane === origin.lane ? 'gone' : 'taken over'
  }

  /** Ends replay `claimId`'s hold on letter `id`, if it still holds it (else false): a replay of it may take over at once. */
  release(id: string, claimId: string): Promise<boolean> {
    return this.ifHeld(id, claimId, 'SET claimUntil = :zero', { ':zero': { N: '0' } })
  }

  /** Makes `update` if replay `claimId` holds letter `id` (or `condition` holds); false when it does not. */
  private async ifHeld(id: string, claimId: string, update: string, values: Item, condition = 'claimId = :held'): Promise<boolean> {
    try {
      await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: letterKey(id),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeValues: { ...values, ':held': { S: claimId } },
          }),
        ),
      )
      return true
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false
      throw error
    }
  }

  /**
   * Ends letter `id` once replay `claimId` sent its message, leaving its death; leaves it when that
   * replay holds it no more (a newer letter of the message replaced it, or another replay took it over).
   */
  async dropClaimed(id: string, claimId: string): Promise<void> {
    const old = await this.end(id, 'claimId = :held', { ':held': { S: claimId } })
    const ref = old && referenceOf(old)
    // Bytes left behind by a failed delete cost storage, never a letter.
    if (ref) await this.bytes.forget(ref.key).catch(() => undefined)
  }

  /**
   * Leaves of letter `id`, if `condition` holds, its death (`deadAt`), when it ended, and a `ttl` as
   * long as a copy of its write may come: one UpdateItem, which answers with the letter's item.
   * Undefined when the condition did not hold.
   */
  async end(id: string, condition: string, values: Item): Promise<Item | undefined> {
    const now = Date.now()
    try {
      const out = await this.table.send((c) =>
        c.send(
          new UpdateItemCommand({
            TableName: this.table.name,
            Key: letterKey(id),
            UpdateExpression: `REMOVE ${LETTER_ATTRIBUTES.map((_, i) => `#a${i}`).join(', ')} SET ended = :ended, #ttl = :ttl`,
            ConditionExpression: condition,
            ExpressionAttributeNames: { ...Object.fromEntries(LETTER_ATTRIBUTES.map((a, i) => [`#a${i}`, a])), '#ttl': 'ttl' },
            ExpressionAttributeValues: { ...values, ':ended': { N: String(now) }, ':ttl': { N: String(Math.ceil((now + this.tombstoneTtlMs) / 1000)) } },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      )
      return out.Attributes
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return undefined
      throw error
    }
  }
}
