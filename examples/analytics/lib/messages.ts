// The pipeline's message shapes. Schemas are zod (a Standard Schema), so troupe checks
// every tell against them and rejects a bad body at once with a ValidationError naming
// the actor and the field.

import { z } from 'zod'

/** A page view as the browser beacon posts it. */
export const pageViewSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(1024), // it becomes PageStats' key: at most 1024 characters
  ip: z.ipv4(),
  ua: z.string().min(1).max(1024),
})
export type PageViewBody = z.infer<typeof pageViewSchema>

/**
 * GeoIpLookup's mailbox. `ip` alone is a question (ask it, get `{ country }`); with `view`,
 * it is also a step of the pipeline and passes the view on, enriched, to ResolveUserAgent.
 */
export const geoIpLookupSchema = z.object({
  ip: z.ipv4(),
  view: pageViewSchema.optional(),
})
export type GeoIpLookupIn = z.infer<typeof geoIpLookupSchema>
export interface GeoIpLookupReply {
  /** ISO 3166-1 alpha-2. */
  country: string
}

/** A page view with its country, on its way to the user-agent step. */
export type GeoView = PageViewBody & { country: string }

/** ResolveUserAgent's mailbox: the same two uses as GeoIpLookup's. */
export interface ResolveUserAgentIn {
  ua: string
  view?: GeoView
}

/** What PageStats counts: one enriched view of one page. */
export interface PageStatsIn {
  url: string
  country: string
  browser: string
  os: string
}

/** One page's counters: PageStats' state, one instance per url. */
export interface PageStatsState {
  views: number
  byCountry: Record<string, number>
  byBrowser: Record<string, number>
  byOs: Record<string, number>
}
