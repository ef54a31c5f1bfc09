import { Parser } from 'htmlparser2'
import { Actor } from 'troupe'
import type { PageBodyIn, PageUrlIn } from './messages.js'

/**
 * Reads a page's links with a real HTML parser (htmlparser2) and replies one PageUrl message per
 * distinct http(s) link, resolved against the page (and its <base href>), without fragments.
 * Stateless: pages are read concurrently. Which links were visited is PageUrl's business.
 */
export class PageBody extends Actor<PageBodyIn, PageUrlIn[]> {
  static readonly type = 'pageBody'

  receive(msg: PageBodyIn): PageUrlIn[] {
    const links = new Set<string>()
    let base = msg.url
    const parser = new Parser(
      {
        onopentag(name, attributes) {
          if (name === 'base' && attributes.href) base = resolve(attributes.href, msg.url) ?? base
          if ((name === 'a' || name === 'area') && attributes.href && !('download' in attributes)) {
            const url = resolve(attributes.href, base)
            if (url) links.add(url)
          }
        },
      },
      { decodeEntities: true },
    )
    parser.write(msg.html)
    parser.end()
    links.delete(msg.url)
    return [...links].map((url) => ({ url, referrer: msg.url, scope: msg.scope }))
  }
}

function resolve(href: string, base: string): string | undefined {
  try {
    const url = new URL(href.trim(), base)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
    url.hash = ''
    return url.href
  } catch {
    return undefined
  }
}
