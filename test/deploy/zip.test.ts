// The zip writer: archives any reader opens (read back here by a small reader that follows the
// format's own structures), the same bytes for the same files, and CRC-32 as zip computes it.
import t from 'tap'
import { inflateRawSync } from 'node:zlib'
import { codeSha256, crc32, zip } from '../../lib/deploy/zip.js'

/** Reads an archive through its end record and central directory, as unzip does. */
function unzip(archive: Buffer): Map<string, { data: Buffer; mode: number; method: number }> {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (end < 0) throw new Error('no end of central directory')
  const count = archive.readUInt16LE(end + 10)
  let at = archive.readUInt32LE(end + 16)
  const files = new Map<string, { data: Buffer; mode: number; method: number }>()
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central header')
    const method = archive.readUInt16LE(at + 10)
    const crc = archive.readUInt32LE(at + 16)
    const size = archive.readUInt32LE(at + 20)
    const nameLength = archive.readUInt16LE(at + 28)
    const extra = archive.readUInt16LE(at + 30)
    const comment = archive.readUInt16LE(at + 32)
    const mode = archive.readUInt32LE(at + 38) >>> 16
    const offset = archive.readUInt32LE(at + 42)
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf8')
    if (archive.readUInt32LE(offset) !== 0x04034b50) throw new Error('bad local header')
    const localName = archive.readUInt16LE(offset + 26)
    const localExtra = archive.readUInt16LE(offset + 28)
    const body = archive.subarray(offset + 30 + localName + localExtra, offset + 30 + localName + localExtra + size)
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body)
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`)
    files.set(name, { data, mode, method })
    at += 46 + nameLength + extra + comment
  }
  return files
}

t.test('CRC-32 is the IEEE one zip uses', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
  t.equal(crc32(Buffer.alloc(0)), 0)
})

t.test('an archive reads back: names, contents, permissions; deflated when that helps', async (t) => {
  const big = 'export const handler = async () => 1\n'.repeat(1000)
  const archive = zip([
    { name: 'index.mjs', data: big },
    { name: 'dir/tiny.txt', data: new Uint8Array([1, 2, 3]), mode: 0o755 },
  ])
  const files = unzip(archive)
  t.same([...files.keys()], ['index.mjs', 'dir/tiny.txt'])
  t.equal(files.get('index.mjs')!.data.toString('utf8'), big)
  t.equal(files.get('index.mjs')!.method, 8, 'deflated')
  t.same([...files.get('dir/tiny.txt')!.data], [1, 2, 3])
  t.equal(files.get('dir/tiny.txt')!.method, 0, 'stored: deflate would make it bigger')
  t.equal(files.get('index.mjs')!.mode, 0o100644)
  t.equal(files.get('dir/tiny.txt')!.mode, 0o100755)
  t.ok(archive.length < big.length / 10, 'compressed')
})

t.test('the same files make the same bytes, so CodeSha256 says whether the code changed', async (t) => {
  const a = zip([{ name: 'index.mjs', data: 'x' }])
  await new Promise((r) => setTimeout(r, 1100))
  const b = zip([{ name: 'index.mjs', data: 'x' }])
  t.same(a, b)
  t.equal(codeSha256(a), codeSha256(b))
  t.not(codeSha256(a), codeSha256(zip([{ name: 'index.mjs', data: 'y' }])))
  t.match(codeSha256(a), /^[A-Za-z0-9+/]{43}=$/, 'base64 SHA-256, as Lambda reports it')
})

t.test('names are checked', async (t) => {
  t.throws(() => zip([{ name: '/abs', data: '' }]), /relative path/)
  t.throws(() => zip([{ name: '../up', data: '' }]), /relative path/)
  t.throws(() => zip([{ name: 'a', data: '' }, { name: 'a', data: '' }]), /listed twice/)
})
