// The size DynamoDB bills an item by, from the item as the SDK sends it (AttributeValue maps):
// a write request unit per started 1 KB, a read request unit per started 4 KB. The rules are
// DynamoDB's ("Item sizes and formats" in the developer guide): attribute names count their
// UTF-8 bytes; a string its UTF-8 bytes; a number about one byte per two significant digits plus
// one; binary its bytes; null and booleans one byte; a list or map 3 bytes plus one per element
// plus what it holds. Numbers are approximate, as DynamoDB says its own are.

/** An attribute value in the SDK's wire shape (`{ S: 'x' }`, `{ N: '1' }`, `{ M: {...} }`, …). */
export type AttributeValueLike = Record<string, unknown>

/** Bytes of an item (its attribute names and values). */
export function itemBytes(item: Readonly<Record<string, unknown>>): number {
  let n = 0
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name) + valueBytes(value)
  return n
}

function valueBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  const v = value as AttributeValueLike
  if (typeof v.S === 'string') return Buffer.byteLength(v.S)
  if (typeof v.N === 'string') return numberBytes(v.N)
  if (v.B instanceof Uint8Array) return v.B.byteLength
  if (typeof v.B === 'string') return Buffer.byteLength(v.B, 'base64')
  if (v.NULL !== undefined || v.BOOL !== undefined) return 1
  if (Array.isArray(v.SS)) return (v.SS as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0)
  if (Array.isArray(v.NS)) return (v.NS as string[]).reduce((n, s) => n + numberBytes(s), 0)
  if (Array.isArray(v.BS)) return (v.BS as Uint8Array[]).reduce((n, b) => n + (b instanceof Uint8Array ? b.byteLength : 0), 0)
  if (Array.isArray(v.L)) return 3 + (v.L as unknown[]).reduce<number>((n, e) => n + 1 + valueBytes(e), 0)
  if (v.M !== null && typeof v.M === 'object') {
    const m = v.M as Record<string, unknown>
    return 3 + Object.keys(m).length + itemBytes(m)
  }
  return 0
}

/** One byte per two significant digits, plus one. */
function numberBytes(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '')
  return digits.length === 0 ? 1 : 1 + Math.ceil(digits.length / 2)
}
