import { Actor, drop, RetryableError, TerminalError, type Context } from 'troupe'
import { blocked } from './blocklist.js'
import type { HostState, PageBodyIn, PageUrlIn } from './messages.js'

/** A page slower than this is given up on (and retried by the policy). */
const FETCH_TIMEOUT_MS = 5_000

/**
 * Downloads a URL and marks it visited. Keyed by host: one instance per host, one fetch at a
 * time per host, and its throttle (requests per second per host) keeps the crawl polite while
 * other hosts flow. Its filter drops URLs on the blocklist or off the crawl's hosts before they
 * cost anything. A broken link (404, 410) ends as a dead letter naming the page that linked it.
 */
export class PageUrl extends Actor<PageUrlIn, PageBodyIn | null, HostState> {
  static readonly type = 'pageUrl'
  static readonly policy = {
    throttlePerKey: { ratePerSecond: 400, burst: 40 },
    maxAttempts: 3,
    initialDelayMs: 50,
    attemptTimeoutMs: 20_000,
  }

  key(msg: PageUrlIn) {
    return new URL(msg.url).host
  }

  initialState(): HostState {
    return { visited: [], bytes: 0 }
  }

  filter(msg: PageUrlIn) {
    const why = blocked(msg.url, msg.scope)
    if (why) return drop(why)
  }

  async receive(msg: PageUrlIn, ctx: Context<HostState>): Promise<PageBodyIn | null> {
    if (ctx.state.visited.includes(msg.url)) return null
    const page = await ctx.once('fetch', () => download(msg.url))
    if (page.status === 404 || page.status === 410) {
      throw new TerminalError(`broken link: ${msg.url} answered ${page.status}${msg.referrer ? `, linked from ${msg.referrer}` : ''}`)
    }
    if (page.status >= 500 || page.status === 429) throw new RetryableError(`${msg.url} answered ${page.status}`)
    ctx.state.visited.push(msg.url)
    ctx.state.bytes += page.html.length
    if (!page.html) return null // not HTML, or a redirect elsewhere: nothing to read
    return { url: msg.url, html: page.html, scope: msg.scope }
  }
}

async function download(url: string): Promise<{ status: number; html: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'manual', headers: { 'user-agent': 'troupe-crawler-example' } })
  const html = (response.headers.get('content-type') ?? '').includes('text/html') ? await response.text() : ''
  if (!html) await response.body?.cancel()
  return { status: response.status, html }
}
