// The dead letters of the DynamoDB journal (dynamodb-journal.ts): one partition (`deadletters`)
// with one item per message, so a letter is found, replaced and taken by its id alone:
// `take` is one UpdateItem that ends the letter and answers with its item. A replay holds a letter
// instead (dynamodb-letter-holds.ts); a letter written again (a newer one) replaces the item, and
// with it the hold. Listing is one Query over the partition (paged; filtered by actor type on the
// server, which saves bandwidth, not reads). The partition shares one partition's throughput
// (1,000 writes/s) and, since the table has a local index, is capped at 10 GB: dead letters are
// meant to be few and handled, not to pile up. They carry no `ttl`: they are kept until taken.
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
// filtered and counted with one Query; reads fetch the whole letter back (dynamodb-letter-bytes.ts).
// The write that replaces a large letter deletes the payload of the one it replaced, and `take`
// deletes the payload of the letter it takes.
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type PutItemCommandInput, type QueryCommandInput } from '@aws-sdk/client-dynamodb'
import { eachAtOnce } from '../core/each-at-once.js'
import { TroupeError } from '../core/errors.js'
import { lettersInTheWay, letterOwner, MAX_LETTER_MOVES, movedLetter, placeLetter, type DeadLetter } from '../core/dead-letter.js'
import {
  DEAD_LETTERS_PK,
  DeadLetterPayloadError,
  labelOf,
  letterItem,
  letterText,
  readLetterText,
  referenceOf,
  summaryItem,
  summaryLetter,
  UnreadableLetterError,
  unreadableLetter,
  type Item,
  type Key,
  type LetterText,
} from './dynamodb-dead-letter-item.js'
import type { LetterBytes } from './dynamodb-letter-bytes.js'
import { A_LETTER, type LetterHolds } from './dynamodb-letter-holds.js'
import { DYNAMODB_MAX_ITEM_BYTES, errorName, itemBytes, type TableAccess } from './dynamodb-table.js'
import { byDeadAt } from './memory-journal.js'

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
export class DynamoDBDeadLetters {
  constructor(
    private readonly table: TableAccess,
    /** Where letters too large for an item are kept whole, and how any letter is read from its item. */
    private readonly bytes: LetterBytes,
    /** Replays' holds, and the end a take leaves of a letter. */
    private readonly holds: LetterHolds,
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
      if (replaced && replaced.key !== referenceOf(item)?.key) await this.bytes.forget(replaced.key).catch(() => undefined)
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
        return await this.bytes.read(item)
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
    const item = await this.holds.end(id, A_LETTER, {})
    if (!item) return undefined
    let letter: DeadLetter
    try {
      letter = await this.bytes.read(item)
    } catch (error) {
      await this.putBack(item)
      throw error
    }
    const ref = referenceOf(item)
    // The letter is in hand; bytes left behind by a failed delete cost storage, never a letter.
    if (ref) await this.bytes.forget(ref.key).catch(() => undefined)
    return letter
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
    const ref = await this.bytes.put(text)
    const written = await this.putItem(summaryItem(text, ref), text.letter)
    if (written === 'written') return written
    // Bytes no letter refers to: those of a letter moved on, or of a copy whose letter is there already under other bytes.
    const there = written === 'another' ? undefined : await this.itemOf(mine)
    if (written === 'another' || (there !== undefined && there.ended === undefined && referenceOf(there)?.key !== ref.key)) await this.bytes.forget(ref.key).catch(() => undefined)
    return written
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
}
