// Country from an IPv4 address, with real data shipped in an npm package:
// @ip-location-db/geo-whois-asn-country (package licence CC0-1.0; built from RIR whois and
// ASN data that the NRO publishes under CC BY 4.0 — attribution: https://www.nro.net/).
//
// The CSV lists inclusive ranges `start,end,CC` (numeric form), sorted by start. A few
// thousand rows are more specific ranges (from geofeeds) nested inside a broader whois
// range, so a plain "last range starting at or before the address" search would answer
// wrongly after a nested range ends. We flatten the rows once into disjoint segments,
// the later (more specific) row winning where two overlap, then binary-search those.
//
// Caveat: the package's README warns that its npm releases carry known data errors and
// that npm updates will stop in favour of GitHub releases. For this example that is fine:
// every address block the traffic generator uses (lib/traffic.ts) was checked, address by
// address, against the version in package-lock.json. Production code would pin and
// refresh its data on purpose.

import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'

export const GEO_DATA_FILE = '@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4-num.csv'

export const GEO_ATTRIBUTION =
  'IP-to-country data: @ip-location-db/geo-whois-asn-country, from RIR data by the NRO (nro.net), CC BY 4.0'

/** The address is private, loopback, multicast or otherwise reserved: no country can ever be found for it. */
export class ReservedAddressError extends Error {
  constructor(
    readonly ip: string,
    readonly range: string,
  ) {
    super(`${ip} is in ${range}, which is not routed on the public internet; it has no country`)
    this.name = 'ReservedAddressError'
  }
}

/** The address is public but the data set has no range for it. */
export class UnknownAddressError extends Error {
  constructor(readonly ip: string) {
    super(`no country for ${ip} in the geo database (${GEO_DATA_FILE.split('/')[1]})`)
    this.name = 'UnknownAddressError'
  }
}

/** IANA special-purpose IPv4 blocks (RFC 6890 and successors) that never belong to a country. */
const RESERVED: readonly (readonly [cidr: string, name: string])[] = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0/8', 'private range 10.0.0.0/8'],
  ['100.64.0.0/10', 'carrier-grade NAT range 100.64.0.0/10'],
  ['127.0.0.0/8', 'loopback range 127.0.0.0/8'],
  ['169.254.0.0/16', 'link-local range 169.254.0.0/16'],
  ['172.16.0.0/12', 'private range 172.16.0.0/12'],
  ['192.0.0.0/24', 'IETF protocol assignments 192.0.0.0/24'],
  ['192.0.2.0/24', 'documentation range TEST-NET-1 192.0.2.0/24'],
  ['192.88.99.0/24', '6to4 relay anycast 192.88.99.0/24'],
  ['192.168.0.0/16', 'private range 192.168.0.0/16'],
  ['198.18.0.0/15', 'benchmarking range 198.18.0.0/15'],
  ['198.51.100.0/24', 'documentation range TEST-NET-2 198.51.100.0/24'],
  ['203.0.113.0/24', 'documentation range TEST-NET-3 203.0.113.0/24'],
  ['224.0.0.0/4', 'multicast range 224.0.0.0/4'],
  ['240.0.0.0/4', 'reserved range 240.0.0.0/4'],
]

const reservedBlocks = RESERVED.map(([cidr, name]) => {
  const [base, bits] = cidr.split('/') as [string, string]
  const size = 2 ** (32 - Number(bits))
  const start = ipv4ToNumber(base)!
  return { start, end: start + size - 1, name }
})

/** The address as an unsigned 32-bit number, or undefined when it is not dotted-quad IPv4. */
export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    n = n * 256 + octet
  }
  return n
}

/** The name of the reserved block holding `ip`, or undefined for a public address. */
export function reservedRange(ip: string): string | undefined {
  const n = ipv4ToNumber(ip)
  if (n === undefined) return undefined
  return reservedBlocks.find((b) => n >= b.start && n <= b.end)?.name
}

/** The loaded data: disjoint, sorted segments. */
export class GeoDb {
  /** Addresses learned after loading (a data update), checked where the ranges have none. */
  private readonly learned = new Map<string, string>()

  constructor(
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    private readonly codeIndex: Uint16Array,
    private readonly codes: readonly string[],
  ) {}

  get segments(): number {
    return this.starts.length
  }

  /**
   * The ISO 3166-1 alpha-2 country of `ip`.
   * @throws TypeError when `ip` is not IPv4; ReservedAddressError for private and other
   *   reserved addresses; UnknownAddressError when the data has no range for it.
   */
  country(ip: string): string {
    const n = ipv4ToNumber(ip)
    if (n === undefined) throw new TypeError(`not an IPv4 address: ${JSON.stringify(ip)}`)
    const reserved = reservedRange(ip)
    if (reserved !== undefined) throw new ReservedAddressError(ip, reserved)
    // The last segment starting at or before n.
    let lo = 0
    let hi = this.starts.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.starts[mid]! <= n) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (found < 0 || this.ends[found]! < n) {
      const learned = this.learned.get(ip)
      if (learned !== undefined) return learned
      throw new UnknownAddressError(ip)
    }
    return this.codes[this.codeIndex[found]!]!
  }

  /** Adds one address's country, as an update of the data would: lookups that failed can be replayed. */
  learn(ip: string, country: string): void {
    this.learned.set(ip, country)
  }
}

/** Parses the CSV into disjoint segments (see the header). Exported for tests. */
export function buildGeoDb(csv: string): GeoDb {
  // Typed arrays, grown by doubling: plain arrays of numbers above 2^31 cost several times more.
  let capacity = Math.max(1024, Math.ceil(csv.length / 24))
  let starts = new Uint32Array(capacity)
  let ends = new Uint32Array(capacity)
  let codes = new Uint16Array(capacity)
  let count = 0
  const codeNames: string[] = []
  const codeIds = new Map<number, number>()
  const push = (s: number, e: number, c: number) => {
    if (count > 0 && codes[count - 1] === c && ends[count - 1]! + 1 === s) {
      ends[count - 1] = e // merge neighbours of the same country
      return
    }
    if (count === capacity) {
      capacity *= 2
      starts = grow(starts, capacity)
      ends = grow(ends, capacity)
      codes = grow(codes, capacity)
    }
    starts[count] = s
    ends[count] = e
    codes[count] = c
    count++
  }
  const bad = (at: number): never => {
    const from = csv.lastIndexOf('\n', at) + 1
    const to = csv.indexOf('\n', at)
    throw new Error(`geo database: bad line ${JSON.stringify(csv.slice(from, to < 0 ? undefined : to))}`)
  }
  // A hand-rolled scanner over char codes, all in locals: several times faster than split/Number.
  const length = csv.length
  let pos = 0
  while (pos < length) {
    let ch = csv.charCodeAt(pos)
    if (ch === 10 || ch === 13) {
      pos++
      continue
    }
    const lineAt = pos
    let start = 0
    for (; ch >= 48 && ch <= 57; ch = csv.charCodeAt(++pos)) start = start * 10 + (ch - 48)
    if (pos === lineAt || ch !== 44 /* , */) bad(lineAt)
    ch = csv.charCodeAt(++pos)
    const endAt = pos
    let end = 0
    for (; ch >= 48 && ch <= 57; ch = csv.charCodeAt(++pos)) end = end * 10 + (ch - 48)
    if (pos === endAt || ch !== 44) bad(lineAt)
    const c1 = csv.charCodeAt(pos + 1)
    const c2 = csv.charCodeAt(pos + 2)
    pos += 3
    const after = csv.charCodeAt(pos)
    if (!(c1 >= 65 && c1 <= 90 && c2 >= 65 && c2 <= 90) || end < start || end > 0xffffffff) bad(lineAt)
    if (pos < length && after !== 10 && after !== 13) bad(lineAt)
    let code = codeIds.get(c1 * 256 + c2)
    if (code === undefined) {
      code = codeNames.push(String.fromCharCode(c1, c2)) - 1
      codeIds.set(c1 * 256 + c2, code)
    }
    if (count === 0 || ends[count - 1]! < start) {
      push(start, end, code)
      continue
    }
    // Segments ending at or after `start` overlap this row: take them off and put back what lies outside it.
    const tail: [number, number, number][] = []
    while (count > 0 && ends[count - 1]! >= start) {
      count--
      tail.unshift([starts[count]!, ends[count]!, codes[count]!])
    }
    for (const [s, e, c] of tail) if (s < start) push(s, Math.min(e, start - 1), c)
    push(start, end, code)
    for (const [s, e, c] of tail) if (e > end) push(Math.max(s, end + 1), e, c)
  }
  return new GeoDb(starts.slice(0, count), ends.slice(0, count), codes.slice(0, count), codeNames)
}

function grow<T extends Uint32Array | Uint16Array>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(capacity)
  bigger.set(array)
  return bigger
}

let opening: Promise<GeoDb> | undefined

/** Loads the data once per process (about 330,000 ranges, a few hundred milliseconds). */
export function openGeoDb(): Promise<GeoDb> {
  opening ??= (async () => {
    const file = createRequire(import.meta.url).resolve(GEO_DATA_FILE)
    return buildGeoDb(await readFile(file, 'utf8'))
  })()
  // A failed load may be tried again.
  opening.catch(() => {
    opening = undefined
  })
  return opening
}
