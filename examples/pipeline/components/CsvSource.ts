import { open } from 'node:fs/promises'
import { Actor, traced, type Context, type Traced } from 'troupe'
import type { Line } from './records.js'

export interface SourceIn {
  file: string
  /** The first line to read (1 is the header). */
  fromLine: number
  /** Lines per turn. */
  page: number
}

/**
 * The source: reads a CSV file a page at a time (keyed by file: one reader per file, in
 * order). Replies the page's lines, each a record with its lineage, and tells itself to read the
 * next page until the file ends, so a big file never sits in one message.
 */
export class CsvSource extends Actor<SourceIn, Traced<Line>[]> {
  static readonly type = 'csvSource'
  static readonly version = '1.0.0'

  key(msg: SourceIn) {
    return msg.file
  }

  async receive(msg: SourceIn, ctx: Context): Promise<Traced<Line>[]> {
    const lines = await ctx.once('read', () => readLines(msg.file, msg.fromLine, msg.page))
    if (lines.length === msg.page) ctx.tell(CsvSource, { ...msg, fromLine: msg.fromLine + msg.page })
    return lines
      .map((text, i) => ({ file: msg.file, lineNo: msg.fromLine + i, text }))
      .filter((line) => line.lineNo > 1 && line.text.trim() !== '') // the header, blank lines
      .map((line) => traced(ctx, CsvSource.version, line))
  }
}

/** Lines `from` to `from + count - 1` (1-based) of a text file, read as a stream. */
async function readLines(file: string, from: number, count: number): Promise<string[]> {
  const handle = await open(file)
  try {
    const out: string[] = []
    let n = 0
    for await (const line of handle.readLines()) {
      n++
      if (n < from) continue
      out.push(line)
      if (out.length === count) break
    }
    return out
  } finally {
    await handle.close()
  }
}
