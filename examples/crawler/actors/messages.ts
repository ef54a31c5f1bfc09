// The messages of the crawl.

/** A link to visit. `scope` lists the hosts the crawl may visit; it travels with every link. */
export interface PageUrlIn {
  url: string
  /** The page that linked here; null for the seed. */
  referrer: string | null
  scope: string[]
}

/** A downloaded page, for PageBody to read its links from. */
export interface PageBodyIn {
  url: string
  html: string
  scope: string[]
}

/** What PageUrl keeps per host. */
export interface HostState {
  /** URLs fetched (or being fetched) on this host; a URL seen again is not fetched again. */
  visited: string[]
  /** Bytes of HTML read from this host. */
  bytes: number
}
