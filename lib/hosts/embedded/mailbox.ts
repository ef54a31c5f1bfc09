import { NO_READING } from '../../core/clock.js'
/** Slots of the first chunk; each next chunk doubles, up to MAX_CHUNK. Small, since most instances hold few messages. */
const FIRST_CHUNK = 8
const MAX_CHUNK = 1024

/**
 * A message kept as a bare body rather than an envelope has its root id's sequence number as its
 * seq; a full envelope has this one.
 */
export const ENVELOPE = -1
/** The seq of a done fork child's report to its joiner (turn-effects.ts's ChildReport), whose envelope is made only if its turn needs one. */
export const REPORT = -2

class Chunk {
  readonly items: unknown[]
  readonly seqs: number[]
  readonly sentAts: number[]
  head = 0
  tail = 0
  next: Chunk | undefined = undefined

  constructor(readonly size: number) {
    this.items = new Array(size)
    this.seqs = new Array<number>(size).fill(0)
    // Not filled with 0: an array of doubles would box each reading read from it (clock.ts, NO_READING).
    this.sentAts = new Array<number>(size).fill(NO_READING)
  }
}

/** Drained chunks kept for reuse, by size class (FIRST_CHUNK << i), at most SPARES_PER_SIZE each. */
const spares: Chunk[][] = []
const SPARES_PER_SIZE = 4

/**
 * A chunk of `size` slots, empty: a spare one if there is, else a new one. A fork/join makes and
 * drains the same few chunks every time (its joiner's mailbox is new per fork, and its children's
 * queue grows past the first chunk); reusing them keeps a fork's garbage, and the pauses that
 * collect it, smaller.
 */
function takeChunk(size: number): Chunk {
  const chunk = spares[sizeClass(size)]?.pop()
  return chunk ?? new Chunk(size)
}

/** Keeps an empty chunk nothing refers to any more for the next `takeChunk`. */
function spareChunk(chunk: Chunk): void {
  const c = sizeClass(chunk.size)
  const list = (spares[c] ??= [])
  if (list.length === SPARES_PER_SIZE) return
  chunk.head = chunk.tail = 0
  chunk.next = undefined
  list.push(chunk)
}

function sizeClass(size: number): number {
  return 31 - Math.clz32(size / FIRST_CHUNK)
}

/**
 * A FIFO of message slots in linked fixed-size chunks: nothing is ever copied to grow,
 * and a drained chunk is dropped, or reused when it is first-size. Growing one flat array to a million
 * entries cost more here than the rest of a tell.
 *
 * A slot is (item, seq, sentAt): a bare body with its id's sequence number, a full
 * envelope with seq `ENVELOPE`, or a fork child's report with seq `REPORT`. `shift()` leaves the slot in `item`/`seq`/`sentAt`,
 * so reading one allocates nothing.
 */
export class Mailbox {
  private first: Chunk | undefined = undefined
  private last: Chunk | undefined = undefined
  size = 0
  item: unknown = undefined
  seq = 0
  /** Set only when it changes (tells in a stretch share a reading); tagged, as NO_READING says. */
  sentAt: number = NO_READING

  push(item: unknown, seq: number, sentAt: number): void {
    let chunk = this.last
    if (chunk === undefined || chunk.tail === chunk.size) {
      const next = takeChunk(chunk === undefined ? FIRST_CHUNK : Math.min(MAX_CHUNK, chunk.size * 2))
      if (chunk === undefined) this.first = next
      else chunk.next = next
      this.last = chunk = next
    }
    const i = chunk.tail++
    chunk.items[i] = item
    chunk.seqs[i] = seq
    chunk.sentAts[i] = sentAt
    this.size++
  }

  /** Puts a slot back in front (the retry of a keyed turn keeps FIFO per key). */
  unshift(item: unknown, seq: number, sentAt: number): void {
    let chunk = this.first
    if (chunk === undefined || chunk.head === 0) {
      const front = takeChunk(FIRST_CHUNK)
      front.head = front.tail = FIRST_CHUNK
      front.next = chunk
      if (chunk === undefined) this.last = front
      this.first = chunk = front
    }
    const i = --chunk.head
    chunk.items[i] = item
    chunk.seqs[i] = seq
    chunk.sentAts[i] = sentAt
    this.size++
  }

  /** Moves the oldest slot into `item`/`seq`/`sentAt`; false when empty. */
  shift(): boolean {
    const chunk = this.first
    if (chunk === undefined || chunk.head === chunk.tail) return false
    const i = chunk.head++
    this.item = chunk.items[i]
    this.seq = chunk.seqs[i]!
    const sentAt = chunk.sentAts[i]!
    if (sentAt !== this.sentAt) this.sentAt = sentAt
    chunk.items[i] = undefined
    this.size--
    if (chunk.head === chunk.tail) {
      if (chunk.next !== undefined) {
        this.first = chunk.next
        spareChunk(chunk)
      } else if (chunk.size === FIRST_CHUNK) {
        chunk.head = chunk.tail = 0 // empty: keep a first-size chunk for reuse
      } else {
        this.first = this.last = undefined // a grown one goes, so an idle instance holds little
        spareChunk(chunk)
      }
    }
    return true
  }

  /** The instance is gone: an empty mailbox's chunk goes back for reuse. */
  release(): void {
    const chunk = this.first
    if (chunk === undefined || this.size !== 0) return
    this.first = this.last = undefined
    spareChunk(chunk)
  }

  /** Calls `fn` on every slot's item, oldest first, leaving them in place. */
  forEach(fn: (item: unknown, seq: number) => void): void {
    for (let chunk = this.first; chunk !== undefined; chunk = chunk.next) {
      for (let i = chunk.head; i < chunk.tail; i++) fn(chunk.items[i], chunk.seqs[i]!)
    }
  }

  /** Takes every slot out, oldest first. */
  drain(): { item: unknown; seq: number; sentAt: number }[] {
    const out = []
    while (this.shift()) out.push({ item: this.item, seq: this.seq, sentAt: this.sentAt })
    this.item = undefined
    return out
  }
}
