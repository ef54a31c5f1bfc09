import superjson, { type SuperJSONResult, type SuperJSONValue } from 'superjson'
import { plainJson } from './plain-json.js'

/** The superjson document of `value`: plain JSON data is its own document's `json`, with no meta (plain-json.ts). */
export function serialize(value: unknown): SuperJSONResult {
  return plainJson(value) ? { json: value as SuperJSONValue } : superjson.serialize(value as Parameters<typeof superjson.serialize>[0])
}

/** Encodes a message body or state the way it travels and is stored: superjson text. */
export function encode(value: unknown): string {
  return JSON.stringify(serialize(value))
}

/** Decodes what `encode` made. */
export function decode<T = unknown>(text: string): T {
  return superjson.parse<T>(text)
}
