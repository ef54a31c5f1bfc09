// The prices in use: the built-in book (prices.ts), a user's price file laid over it, single
// prices set by name, and the region picked. Checked when read, so a typo in a price file is an
// error that names it, never a silent zero.
import { ConfigError } from '../core/errors.js'
import { DEFAULT_PRICE_REGION, PRICE_NAMES, PRICES, type Price, type PriceBook, type PriceName, type RegionPrices } from './prices.js'

/** What prices a figure was made with. */
export interface PricesInUse {
  region: string
  /** The date of the book (or of the user's file, when it gave one). */
  date: string
  prices: RegionPrices
  /** How the region's prices were made, when not read for it (`the us-east-1 list prices`). */
  basis?: string
  /** Names set by `--price` (or `overrides`), over the book. */
  overridden: PriceName[]
}

export interface PriceChoice {
  /** A price file's parsed JSON, laid over the built-in book. */
  file?: unknown
  /** Where `file` came from, for errors. */
  fileName?: string
  /** @default 'us-east-1' */
  region?: string
  /** Single prices, in USD per the item's `per` (per million requests, per shard hour, …). */
  overrides?: Partial<Record<PriceName, number>>
}

/**
 * The prices for one region.
 *
 * @example
 * const { prices } = choosePrices({ region: 'us-east-1', overrides: { 'dynamodb.writeRequestUnit': 0.7 } })
 * prices['dynamodb.writeRequestUnit'].usd // 0.7 (per million)
 */
export function choosePrices(choice: PriceChoice = {}): PricesInUse {
  const book = choice.file === undefined ? PRICES : layPriceFile(PRICES, choice.file, choice.fileName ?? 'the price file')
  const region = choice.region ?? DEFAULT_PRICE_REGION
  const found = book.regions[region]
  if (!found) {
    throw new ConfigError(`no prices for region ${region}: known are ${Object.keys(book.regions).join(', ')}; give a price file with --prices (see docs/cost.md)`)
  }
  const { basis, ...rest } = found
  const prices = { ...rest } as RegionPrices
  const overridden: PriceName[] = []
  for (const [name, usd] of Object.entries(choice.overrides ?? {}) as [PriceName, number][]) {
    prices[name] = { ...prices[name], usd, source: 'set by hand' }
    overridden.push(name)
  }
  return { region, date: book.date, prices, ...(basis !== undefined ? { basis } : {}), overridden }
}

/**
 * A price file laid over a book: `{ "date": "…", "regions": { "<region>": { "<name>": { "usd": n, "per"?: n, "source"?: "…" } } } }`.
 * A region the book has may give only the prices that differ; a new region must give every one.
 */
export function layPriceFile(book: PriceBook, file: unknown, fileName: string): PriceBook {
  if (!isRecord(file) || !isRecord(file.regions)) throw new ConfigError(`${fileName} must be a JSON object with "regions": { "<region>": { "<price name>": { "usd": … } } }`)
  if (file.date !== undefined && typeof file.date !== 'string') throw new ConfigError(`${fileName}: "date" must be a string such as "2027-01-31", got ${JSON.stringify(file.date)}`)
  const regions: PriceBook['regions'] = { ...book.regions }
  for (const [region, given] of Object.entries(file.regions)) {
    if (!isRecord(given)) throw new ConfigError(`${fileName}: regions.${region} must be an object of prices by name`)
    const base = book.regions[region]
    // The file's prices replace the basis a copied region had: its sources say what each one is.
    const { basis: _basis, ...kept } = base ?? {}
    const merged: Partial<RegionPrices> = { ...kept }
    for (const [name, entry] of Object.entries(given)) {
      const at = `${fileName}: regions.${region}.${name}`
      if (!isPriceName(name)) throw new ConfigError(`${at} is not a price troupe knows; the names are ${PRICE_NAMES.join(', ')}`)
      merged[name] = priceOf(entry, base?.[name] ?? PRICES.regions['us-east-1']![name], at)
    }
    const missing = PRICE_NAMES.filter((n) => merged[n] === undefined)
    if (missing.length !== 0) throw new ConfigError(`${fileName}: regions.${region} is a region without built-in prices, so it must give every price; missing ${missing.join(', ')}`)
    regions[region] = merged as RegionPrices
  }
  return { date: typeof file.date === 'string' ? file.date : book.date, currency: 'USD', regions }
}

/** The regions priced: the book's, and a price file's (checked as {@link layPriceFile} checks it). */
export function priceRegions(file?: unknown, fileName = 'the price file'): string[] {
  return Object.keys((file === undefined ? PRICES : layPriceFile(PRICES, file, fileName)).regions)
}

/** `name=usd` (a `--price` flag) as a name and a number. */
export function parsePriceOverride(text: string): [PriceName, number] {
  const eq = text.indexOf('=')
  const name = text.slice(0, eq)
  const usd = Number(text.slice(eq + 1))
  if (eq < 0 || !isPriceName(name)) throw new ConfigError(`--price takes <name>=<usd>, the name one of ${PRICE_NAMES.join(', ')}; got ${JSON.stringify(text)}`)
  if (text.slice(eq + 1).trim() === '' || !Number.isFinite(usd) || usd < 0) throw new ConfigError(`--price ${name} must be a number of dollars, 0 or more, got ${JSON.stringify(text.slice(eq + 1))}`)
  return [name, usd]
}

function priceOf(entry: unknown, like: Price, at: string): Price {
  const e = typeof entry === 'number' ? { usd: entry } : entry
  if (!isRecord(e) || typeof e.usd !== 'number' || !Number.isFinite(e.usd) || e.usd < 0) throw new ConfigError(`${at} must be { "usd": <dollars, 0 or more> } (or a number), got ${JSON.stringify(entry)}`)
  if (e.per !== undefined && (typeof e.per !== 'number' || !(e.per > 0))) throw new ConfigError(`${at}.per must be a number above 0 (1000000 for "per million"), got ${JSON.stringify(e.per)}`)
  return { usd: e.usd, per: (e.per as number | undefined) ?? like.per, unit: typeof e.unit === 'string' ? e.unit : like.unit, source: typeof e.source === 'string' ? e.source : 'a price file' }
}

function isPriceName(name: string): name is PriceName {
  return (PRICE_NAMES as readonly string[]).includes(name)
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}
