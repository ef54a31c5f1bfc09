// What the crawl never visits: paths that change things or lead nowhere useful.
export const BLOCKLIST: readonly RegExp[] = [/\/logout\b/, /\/admin(\/|$)/, /[?&]sort=/, /\.(pdf|zip|png|jpe?g)$/i]

/** Why `url` must not be visited, or undefined when it may be. */
export function blocked(url: string, scope: readonly string[]): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'not a URL'
  }
  if (!scope.includes(parsed.host)) return `off-scope host ${parsed.host}`
  const rule = BLOCKLIST.find((r) => r.test(parsed.pathname + parsed.search))
  return rule ? `blocklisted by ${rule}` : undefined
}
