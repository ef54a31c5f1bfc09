// An aggregate record carries a run of one actor instance's messages in one record, so a hot key
// keeps strict order at one PutRecords entry per run instead of per message (Kinesis accepts or
// fails a record whole). Its data is `{"@troupe.aggregate":[doc, doc, …]}`, each doc the superjson
// document a single record would hold, so packing is byte concatenation, not a second serialise.
// An aggregate's text starts with `{"@troupe.aggregate":`, a single envelope's with `{"json":`,
// so both kinds decode side by side (rolling deploys). Every member passes the rules a single
// record does; the members must share type and key; an aggregate with one bad member is refused
// whole, naming it (record-decoding.ts).
import { RecordTooLargeError } from './record-errors.js'

/** The top field of an aggregate record. */
export const AGGREGATE_FIELD = '@troupe.aggregate'
/** How an aggregate record's text starts; nothing else this codec writes does. */
export const AGGREGATE_START = `{${JSON.stringify(AGGREGATE_FIELD)}:`
const AGGREGATE_HEAD = Buffer.from(`${AGGREGATE_START}[`, 'utf8')
const AGGREGATE_TAIL = Buffer.from(']}', 'utf8')
const COMMA = Buffer.from(',', 'utf8')

/** Bytes an aggregate adds to its members' data: its wrapper once, and a comma per member (one too many, to keep the sum simple). */
export const AGGREGATE_OVERHEAD = {
  runOverheadBytes: AGGREGATE_HEAD.byteLength + AGGREGATE_TAIL.byteLength,
  memberOverheadBytes: COMMA.byteLength,
} as const

/**
 * The data of an aggregate record: single records' data for a run of one instance's messages,
 * in order, packed into one. Throws a RecordTooLargeError past `maxRecordBytes`.
 */
export function packAggregate(members: readonly Buffer[], actor: string, messageId: string, maxRecordBytes: number): Buffer {
  const parts: Buffer[] = [AGGREGATE_HEAD]
  members.forEach((m, i) => {
    if (i > 0) parts.push(COMMA)
    parts.push(m)
  })
  parts.push(AGGREGATE_TAIL)
  const data = Buffer.concat(parts)
  if (data.byteLength > maxRecordBytes) throw new RecordTooLargeError(actor, messageId, data.byteLength, maxRecordBytes, undefined)
  return data
}
