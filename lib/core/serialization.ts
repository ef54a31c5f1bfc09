import superjson from 'superjson'
import { plainJson } from './plain-json.js'

/** Encodes a message body or state the way it travels and is stored: superjson text. */
export function encode(value: unknown): string {
  // Plain JSON data is its own superjson document's `json`, with no meta (plain-json.ts).
  return plainJson(value) ? JSON.stringify({ json: value }) : superjson.stringify(value)
}

/** Decodes what `encode` made. */
export function decode<T = unknown>(text: string): T {
  return superjson.parse<T>(text)
}
