// The pipeline's message shapes. Schemas are zod (a Standard Schema), so troupe checks
// every tell against them and rejects a bad body at once with a ValidationError naming
// the actor and the field. zod/mini is zod's tree-shakable form: the Lambda bundle carries
// only the checks used here (the full "zod" import would add ~440 KB to it).

import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'

// zod/mini ships no messages of its own: without a locale every issue says "Invalid input".
z.config(en())

/** A page view as the browser beacon posts it. */
export const pageViewSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).check(z.maxLength(1024)), // it becomes PageStats' key: at most 1024 characters
  ip: z.ipv4(),
  ua: z.string().check(z.minLength(1), z.maxLength(1024)),
})
export type PageViewBody = z.infer<typeof pageViewSchema>

/** GeoIpLookup's mailbox: an address to place. */
export const geoIpLookupSchema = z.object({
  ip: z.ipv4(),
})
export type GeoIpLookupIn = z.infer<typeof geoIpLookupSchema>
export interface GeoIpLookupReply {
  /** ISO 3166-1 alpha-2. */
  country: string
}

/** ResolveUserAgent's mailbox: a User-Agent header to parse. */
export interface ResolveUserAgentIn {
  ua: string
}

/** What PageStats counts: one enriched view of one page. */
export interface PageStatsIn {
  url: string
  /** ISO 3166-1 alpha-2, or "unknown" when GeoIpLookup gave no answer. */
  country: string
  browser: string
  os: string
  /** The lookups an incomplete join lacked, as "actor status" (e.g. "geoIpLookup dead"). */
  missing?: string[]
}

/** One page's counters: PageStats' state, one instance per url. */
export interface PageStatsState {
  views: number
  byCountry: Record<string, number>
  byBrowser: Record<string, number>
  byOs: Record<string, number>
  /** Views counted from an incomplete join (a lookup dead or past the deadline). */
  incomplete: number
  /** Those views by what was missing: "geoIpLookup dead" → count. */
  missing: Record<string, number>
}
