// A zip archive writer, just enough for a Lambda deployment package: a few files, deflated,
// with no timestamps of their own (every entry says 1980-01-01), so the same bundle always
// makes the same bytes, and `troupe deploy` can tell from Lambda's CodeSha256 that the code
// is unchanged. No zip64: a Lambda zip is capped at 50 MB anyway.
import { createHash } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'

export interface ZipEntry {
  /** The path inside the archive, with forward slashes (`index.mjs`). */
  name: string
  data: Uint8Array | string
  /** Unix permission bits. @default 0o644 */
  mode?: number
}

const LOCAL_HEADER = 0x04034b50
const CENTRAL_HEADER = 0x02014b50
const END_OF_CENTRAL_DIRECTORY = 0x06054b50
/** 1980-01-01 00:00 in MS-DOS date and time: the earliest a zip can say. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1
const DOS_TIME = 0
const VERSION_NEEDED = 20
/** "made by" Unix (3), version 2.0: the external attributes then carry the permission bits. */
const VERSION_MADE_BY = (3 << 8) | 20
const FLAG_UTF8_NAMES = 1 << 11
const METHOD_STORE = 0
const METHOD_DEFLATE = 8
const MAX_32 = 0xffff_ffff

/** Builds a zip archive of `entries`, in the order given. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  const names = new Set<string>()
  for (const entry of entries) {
    if (!entry.name || entry.name.startsWith('/') || entry.name.includes('\\') || entry.name.split('/').includes('..')) {
      throw new RangeError(`zip: entry name must be a relative path with forward slashes, got ${JSON.stringify(entry.name)}`)
    }
    if (names.has(entry.name)) throw new RangeError(`zip: ${entry.name} is listed twice`)
    names.add(entry.name)
    const data = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength)
    const deflated = deflateRawSync(data, { level: 9 })
    // Stored when deflating does not help (tiny or already compressed files).
    const [method, body] = deflated.length < data.length ? [METHOD_DEFLATE, deflated] : [METHOD_STORE, data]
    const crc = crc32(data)
    const name = Buffer.from(entry.name, 'utf8')
    if (data.length > MAX_32 || offset > MAX_32) throw new RangeError('zip: archives over 4 GiB need zip64, which this writer does not make')

    const local = Buffer.alloc(30)
    local.writeUInt32LE(LOCAL_HEADER, 0)
    local.writeUInt16LE(VERSION_NEEDED, 4)
    local.writeUInt16LE(FLAG_UTF8_NAMES, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(DOS_TIME, 10)
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    locals.push(local, name, body)

    const central = Buffer.alloc(46)
    central.writeUInt32LE(CENTRAL_HEADER, 0)
    central.writeUInt16LE(VERSION_MADE_BY, 4)
    central.writeUInt16LE(VERSION_NEEDED, 6)
    central.writeUInt16LE(FLAG_UTF8_NAMES, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(DOS_TIME, 12)
    central.writeUInt16LE(DOS_DATE, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    // extra field length, comment length, disk number, internal attributes: 0
    central.writeUInt32LE((((entry.mode ?? 0o644) | 0o100000) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)

    offset += local.length + name.length + body.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

let table: Uint32Array | undefined

/** CRC-32 (IEEE 802.3), as zip uses it. */
export function crc32(data: Uint8Array): number {
  table ??= makeTable()
  let crc = MAX_32
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ MAX_32) >>> 0
}

function makeTable(): Uint32Array {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
}

/** What Lambda reports as CodeSha256 for a deployment package: SHA-256 of the zip, base64. */
export function codeSha256(zipBytes: Uint8Array): string {
  return createHash('sha256').update(zipBytes).digest('base64')
}
