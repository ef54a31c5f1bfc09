import superjson from 'superjson'

/** Encodes a message body or state the way it travels and is stored: superjson text. */
export function encode(value: unknown): string {
  return superjson.stringify(value)
}

/** Decodes what `encode` made. */
export function decode<T = unknown>(text: string): T {
  return superjson.parse<T>(text)
}
