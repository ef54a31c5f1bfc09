// The dead letters of the DynamoDB journal (dynamodb-journal.ts): one partition (`deadletters`)
// with one item per message, so a letter is found, replaced and taken by its id alone:
// `take` is one DeleteItem that answers with the old item. A replay holds a letter instead
// (dead-letter-replay.ts): attributes beside it on its item (`claim`, `claimId`, `claimUntil`,
// the count of holds `gen`, and `sentAs`), each change conditional on the hold; a letter written
// again (a newer one) replaces the item, and with it all of them. Listing is one Query over the
// partition (paged; filtered by actor type on the server, which saves bandwidth, not reads). The
// partition shares one partition's throughput (1,000 writes/s) and, since the table has a local
// index, is capped at 10 GB: dead letters are meant to be few and handled, not to pile up. They
// carry no `ttl`: they are kept until taken.
//
// Each letter is written with one conditional PutItem: a later death of the message (`deadAt`)
// replaces it, the same death written again (an outbox sent again after a crash) or an older one
// changes nothing, so a write that comes late never takes a replay's hold or `sentAs` away. A
// letter of another message under the same id (`who` differs: a record may claim any id) is kept
// under an id of its own instead (core/dead-letter.ts's movedLetter). A letter replayed or taken
// leaves its death behind in its item (`ended`, `who`, with a `ttl` as long as a copy of its write
// may come, the tombstone TTL), and where its replay sent it (`sentAs`): such a write then brings
// back no letter that was sent again already, and a replay taken over learns whether the one that
// ended the letter sent it under its origin. Lists and holds skip those items.
//
// A letter's item (its superjson text, or a summary and where the whole letter is) is made and read
// in dynamodb-dead-letter-item.ts. Letters are never refused or cut for their size: a letter whose
// item would pass 400 KB (a large body, an unreadable record of megabytes, thousands of attempts)
// is kept whole in the payload store (the claim check's port; by default DynamoDB chunks in this
// table, `payload#dead/…`, with no `ttl`), and its item keeps `payload` (key, bytes, sha256) and a
// summary letter (the envelope without its body, the error shortened), so it is still listed,
// filtered and counted with one Query. Reads fetch the whole letter back and check its sha256.
// The payload's key holds the letter's sha256, so a letter of the message with other content (a
// later death: other attempts, another error) never mixes its bytes with the first; the write
// that replaces a large letter deletes the payload of the one it replaced, and `take` deletes the
// payload of the letter it takes.
import { createHash } from 'node:crypto'
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type PutItemCommandInput, type QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { ReplayUnderWayError, TroupeError } from '../core/errors.js'
import { lettersInTheWay, letterOwner, MAX_LETTER_MOVES, movedLetter, placeLetter, type DeadLetter, type HeldDeadLetter, type ReplayClaim } from '../core/dead-letter.js'
import type { Origin } from '../core/envelope.js'
import { decode, encode } from '../core/serialization.js'
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
  UnreadableLetterError,
  unreadableLetter,
  type Item,
  type Key,
  type LetterReference,
  type LetterText,
} from './dynamodb-dead-letter-item.js'
import { DYNAMODB_MAX_ITEM_BYTES, errorName, isTooLarge, itemBytes, type TableAccess } from './dynamodb-table.js'
import { byDeadAt } from './memory-journal.js'
import type { PayloadStore } from './payload-store.js'

/** The bytes a letter kept whole in its item may take: the rest is room for a replay's hold and `sentAs`. */
const LETTER_ITEM_BYTES = DYNAMODB_MAX_ITEM_BYTES - 1024

/** Letters written to, or read from, the payload store at once. */
const PAYLOADS_AT_ONCE = 4
/** Letters that fit an item written at once (one PutItem each). */
const LETTERS_AT_ONCE = 16

/** A letter made ready to write: its text, its item, and whether it is kept whole in the item (else in the payload store, its item a summary). */
interface Prepared {
  text: LetterText
  item: Item & Key
  fits: boolean
}

function prepare(letter: DeadLetter): Prepared {
  const text = letterText(letter)
  const item = letterItem(letter, text)
  return { text, item, fits: itemBytes(item) <= LETTER_ITEM_BYTES }
}

/**
 * The condition of a letter's write: no letter under its id, or one of an earlier death of the
 * same message (a tombstone keeps its `deadAt` and `who`). An item written before `who` was kept
 * refuses it, and is judged by its letter (placeBeside).
 */
const LATER_DEATH = 'attribute_not_exists(pk) OR attribute_not_exists(deadAt) OR (deadAt < :deadAt AND who = :who)'

type Condition = Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeValues'>

function laterDeathOf(item: Item): Condition {
  return { ConditionExpression: LATER_DEATH, ExpressionAttributeValues: { ':deadAt': item.deadAt!, ':who': item.who! } }
}

/** Whose letter an item from before owners were kept holds, read from its letter (or summary); undefined when it cannot be read. */
function ownerOfOld(item: Item): string | undefined {
  try {
    return letterOwner(readLetterText(item.letter?.S ?? '', item))
  } catch {
    return undefined
  }
}
/** The condition of an item that holds a letter, not what is left of one replayed or taken. */
const A_LETTER = 'attribute_exists(pk) AND attribute_not_exists(ended)'
/** What a letter's item holds besides its key, `deadAt` and `sentAs`: all of it goes when the letter ends. */
const LETTER_ATTRIBUTES = ['type', 'letter', 'escaped', 'truncated', 'payload', 'claim', 'claimId', 'claimUntil', 'gen']

export class DynamoDBDeadLetters {
  constructor(
    private readonly table: TableAccess,
    /** Where letters too large for an item are kept whole. */
    private readonly payloads: PayloadStore,
    /** How long the death of a letter replayed or taken is kept: as long as a copy of its write may come. */
    private readonly tombstoneTtlMs: number,
  ) {}

  /**
   * Each letter with one conditional PutItem, unless the item holds the same or a later death of
   * its message; a letter too large for an item is written to the payload store first. The PutItem
   * answers with the item it replaced, so a replaced letter's payload is deleted.
   */
  async put(letters: readonly DeadLetter[]): Promise<void> {
    // A call may name a letter twice: the later death wins, as it would one by one (a letter of
    // another message under the same id is kept beside it: see putOne).
    const byId = new Map<string, DeadLetter>()
    for (const letter of letters) {
      const at = `${letter.envelope.id}\u0000${letterOwner(letter)}`
      const known = byId.get(at)
      if (known === undefined || known.deadAt < letter.deadAt) byId.set(at, letter)
    }
    const fitting: Prepared[] = []
    const large: Prepared[] = []
    for (const letter of byId.values()) {
      const prepared = prepare(letter)
      ;(prepared.fits ? fitting : large).push(prepared)
    }
    // Both sides end before the put answers: a caller that tries again must not race writes of this one.
    const settled = await Promise.allSettled([eachAtOnce(fitting, LETTERS_AT_ONCE, (p) => this.putOne(p)), eachAtOnce(large, PAYLOADS_AT_ONCE, (p) => this.putOne(p))])
    for (const side of settled) if (side.status === 'rejected') throw side.reason
  }

  /** Writes a letter, or, when its id holds another message's letter, the letter moved to an id of its own. */
  private async putOne({ text, item, fits }: Prepared, moves = 0): Promise<void> {
    const written = fits ? await this.putItem(item, text.letter) : await this.putLarge(text, item)
    if (written !== 'another') return
    if (moves === MAX_LETTER_MOVES) throw lettersInTheWay(text.letter)
    await this.putOne(prepare(movedLetter(text.letter, item.who!.S!)), moves + 1)
  }

  /**
   * Writes a letter's item unless its item holds the same or a later death of the message (`kept`:
   * nothing to write) or another message's letter, or what is left of one (`another`). The
   * payload of a letter it replaced is deleted.
   */
  private async putItem(item: Item & Key, letter: DeadLetter): Promise<'written' | 'kept' | 'another'> {
    let condition = laterDeathOf(item)
    for (let tries = 0; tries < 3; tries++) {
      let out
      try {
        out = await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...condition, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })))
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') {
          if (error instanceof TroupeError) throw error
          // The SDK tried it again as long as it would (throttled, a broken connection): the letter is named.
          throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `the dead letter of ${labelOf(letter)} was not written to table ${this.table.name}: ${errorName(error)}: ${(error as Error).message}`, { cause: error })
        }
        // DynamoDB answers with the item that refused it; the local emulator does not, and it is read.
        const there = (error as { Item?: Item }).Item ?? (await this.itemOf(item))
        const place = await this.placeBeside(there, item, letter)
        if (place !== 'write') return place
        // An earlier death of the message in an item from before owners were kept, or one gone meanwhile.
        condition =
          there !== undefined && there.who === undefined && there.deadAt !== undefined
            ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(who) AND attribute_not_exists(ended) AND deadAt = :old', ExpressionAttributeValues: { ':old': there.deadAt } }
            : laterDeathOf(item)
        continue
      }
      const replaced = out.Attributes && referenceOf(out.Attributes)
      // Bytes left behind by a failed delete cost storage, never a letter.
      if (replaced && replaced.key !== referenceOf(item)?.key) await this.forget(replaced.key).catch(() => undefined)
      return 'written'
    }
    throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `the dead letter of ${labelOf(letter)} was not written to table ${this.table.name}: its item changed under each of 3 writes`)
  }

  private async itemOf(key: Key): Promise<Item | undefined> {
    return (await this.table.send((c) => c.send(new GetItemCommand({ TableName: this.table.name, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true })))).Item
  }

  /**
   * Where `letter` goes, given the item its id holds (core/dead-letter.ts's placeLetter). Moved on
   * from what is left of another message's letter, that item is kept at least as long as a copy of
   * this write may come: without it, the copy would find the id free and the message have two letters.
   */
  private async placeBeside(there: Item | undefined, mine: Item & Key, letter: DeadLetter): Promise<'write' | 'kept' | 'another'> {
    if (there === undefined) return 'write'
    const ended = there.ended !== undefined
    const place = placeLetter({ owner: there.who?.S ?? (ended ? undefined : ownerOfOld(there)), deadAt: there.deadAt?.N === undefined ? undefined : Number(there.deadAt.N), ended }, mine.who!.S!, letter.deadAt)
    if (place !== 'another' || !ended) return place
    const ttl = { N: String(Math.ceil((Date.now() + this.tombstoneTtlMs) / 1000)) }
    try {
      await this.table.send((c) =>
        c.send(new UpdateItemCommand({ TableName: this.table.name, Key: { pk: mine.pk, sk: mine.sk }, UpdateExpression: 'SET #ttl = :ttl', ConditionExpression: 'attribute_exists(ended) AND deadAt = :d AND (attribute_not_exists(#ttl) OR #ttl < :ttl)', ExpressionAttributeNames: { '#ttl': 'ttl' }, ExpressionAttributeValues: { ':ttl': ttl, ':d': there.deadAt! } })),
      )
      return place
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error
    }
    // Kept longer already, or changed meanwhile (gone, its ttl passed; or a new letter there): judged again.
    const now = await this.itemOf(mine)
    if (now !== undefined && now.ended !== undefined && now.deadAt?.N === there.deadAt!.N && Number(now.ttl?.N) >= Number(ttl.N)) return place
    return this.placeBeside(now, mine, letter)
  }

  /** The letters, of actor type `type` when given, oldest first. */
  async list(type?: string): Promise<DeadLetter[]> {
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: DEAD_LETTERS_PK }, ...(type === undefined ? {} : { ':type': { S: type } }) },
      // What is left of a letter replayed or taken has no type: it is never listed.
      ...(type === undefined ? { FilterExpression: 'attribute_not_exists(ended)' } : { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } }),
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
        // So is one whose item troupe cannot read (written by hand, or damaged), as its key says it.
        if (error instanceof UnreadableLetterError) return unreadableLetter(item, error)
        throw error
      }
    })
    return out.sort(byDeadAt)
  }

  /**
   * One UpdateItem that leaves the letter's death in place of it and answers with the item; a letter
   * kept in the payload store is read back whole, then its payload deleted. When it cannot be read
   * whole, the item is put back (unless a new letter of the same id came meanwhile) and the take
   * fails, naming why: a replay never sends a letter's summary in place of its message.
   */
  async take(id: string): Promise<DeadLetter | undefined> {
    const item = await this.end(id, A_LETTER, {})
    if (!item) return undefined
    let letter: DeadLetter
    try {
      letter = await this.readLetter(item)
    } catch (error) {
      await this.putBack(item)
      throw error
    }
    const ref = referenceOf(item)
    // The letter is in hand; bytes left behind by a failed delete cost storage, never a letter.
    if (ref) await this.forget(ref.key).catch(() => undefined)
    return letter
  }

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
      return { letter: await this.readLetter(item), gen: Number(item.gen?.N ?? 0) + 1, ...(sentAs ? { sentAs } : {}) }
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
    const text = letterText(await this.readLetter(old))
    const ref = await this.putPayload(text)
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
      await this.forget(ref.key).catch(() => undefined)
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
    if (ref) await this.forget(ref.key).catch(() => undefined)
  }

  /**
   * Leaves of letter `id`, if `condition` holds, its death (`deadAt`), when it ended, and a `ttl` as
   * long as a copy of its write may come: one UpdateItem, which answers with the letter's item.
   * Undefined when the condition did not hold.
   */
  private async end(id: string, condition: string, values: Item): Promise<Item | undefined> {
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

  /**
   * Writes a letter's whole text to the payload store, then its item (putItem), unless its item
   * holds the same or a later death already (a copy of the write: nothing is written) or another
   * message's letter (`mine` is the item the letter would have whole: its key and `who`). Bytes
   * whose item was refused all the same (a letter of the message came meanwhile) are deleted only
   * when a letter there refers to other bytes: what is left of a letter being taken may be put
   * back, with these very bytes (the same letter's key), by a take whose read failed.
   */
  private async putLarge(text: LetterText, mine: Item & Key): Promise<'written' | 'kept' | 'another'> {
    const place = await this.placeBeside(await this.itemOf(mine), mine, text.letter)
    if (place !== 'write') return place
    const ref = await this.putPayload(text)
    const written = await this.putItem(summaryItem(text, ref), text.letter)
    if (written === 'written') return written
    // Bytes no letter refers to: those of a letter moved on, or of a copy whose letter is there already under other bytes.
    const there = written === 'another' ? undefined : await this.itemOf(mine)
    if (written === 'another' || (there !== undefined && there.ended === undefined && referenceOf(there)?.key !== ref.key)) await this.forget(ref.key).catch(() => undefined)
    return written
  }

  /** Writes a letter's whole text to the payload store; where it is. */
  private async putPayload(text: LetterText): Promise<LetterReference> {
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
  private async readLetter(item: Item): Promise<DeadLetter> {
    const ref = referenceOf(item)
    if (!ref) return readLetterText(item.letter?.S ?? '', item)
    const data = await this.payloads.get(ref.key)
    if (data === undefined) throw new DeadLetterPayloadError(item, ref, 'nothing is kept under it')
    if (createHash('sha256').update(data).digest('base64') !== ref.sha256) throw new DeadLetterPayloadError(item, ref, 'its bytes do not match their sha256')
    return readLetterText(Buffer.from(data).toString('utf8'), item)
  }

  private async putBack(item: Item): Promise<void> {
    try {
      // In place of what the take left of it, unless a new letter of the id came meanwhile.
      // An item without a death (written by hand) is matched by having none.
      const deathAsTaken = item.deadAt === undefined ? { ConditionExpression: 'attribute_not_exists(pk) OR (attribute_exists(ended) AND attribute_not_exists(deadAt))' } : { ConditionExpression: 'attribute_not_exists(pk) OR (attribute_exists(ended) AND deadAt = :deadAt)', ExpressionAttributeValues: { ':deadAt': item.deadAt } }
      await this.table.send((c) => c.send(new PutItemCommand({ TableName: this.table.name, Item: item, ...deathAsTaken })))
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error // a new letter of this id came meanwhile: it stays
    }
  }

  private async forget(key: string): Promise<void> {
    await this.payloads.delete?.(key)
  }
}
