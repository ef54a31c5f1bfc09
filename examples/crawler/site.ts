// The site the example crawls: a few hundred generated, interlinked HTML pages over three hosts
// (three HTTP servers on 127.0.0.1, each its own port), with broken links, a slow page,
// blocklisted and off-site links. Each server counts its requests, and the most it served at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { seededRandom } from 'troupe/testing'

export interface SiteOptions {
  /** Pages per host, the index included. @default 100 */
  pagesPerHost?: number
  /** How long the slow page takes to answer. @default 1_200 */
  slowMs?: number
  /** @default 7 */
  seed?: number
}

export interface HostStats {
  /** Requests by path. */
  hits: Map<string, number>
  /** The most requests this host served at once. */
  maxConcurrent: number
}

export interface Site {
  /** `127.0.0.1:<port>` of each host. */
  hosts: string[]
  /** Where the crawl starts: the first host's index. */
  seed: string
  /** Every page a crawl of the scope must visit, by host. */
  pages: Map<string, string[]>
  /** Every broken link: the missing page and the page linking to it. */
  broken: { url: string; from: string }[]
  stats: Map<string, HostStats>
  close(): Promise<void>
}

const SECTIONS = ['guide', 'reference', 'blog'] as const

export async function startSite(options: SiteOptions = {}): Promise<Site> {
  const pagesPerHost = options.pagesPerHost ?? 100
  const slowMs = options.slowMs ?? 1_200
  const random = seededRandom(options.seed ?? 7)
  const pick = (n: number) => Math.floor(random() * n)

  // Listen first: the pages link across hosts by their ports.
  const servers: Server[] = []
  const hosts: string[] = []
  const bodies = new Map<string, Map<string, string>>()
  const stats = new Map<string, HostStats>()
  for (let h = 0; h < SECTIONS.length; h++) {
    const pages = new Map<string, string>()
    const hostStats: HostStats = { hits: new Map(), maxConcurrent: 0 }
    let inFlight = 0
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      hostStats.hits.set(path, (hostStats.hits.get(path) ?? 0) + 1)
      hostStats.maxConcurrent = Math.max(hostStats.maxConcurrent, ++inFlight)
      const answer = () => {
        inFlight--
        const html = pages.get(path)
        if (html === undefined) {
          res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Not found</title><h1>Not found</h1>')
        } else {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
        }
      }
      if (path === '/slow') setTimeout(answer, slowMs)
      else answer()
    })
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    servers.push(server)
    hosts.push(host)
    bodies.set(host, pages)
    stats.set(host, hostStats)
  }

  const pagesOf = new Map<string, string[]>()
  const broken: { url: string; from: string }[] = []
  hosts.forEach((host, h) => {
    const section = SECTIONS[h]!
    const paths = Array.from({ length: pagesPerHost }, (_, i) => (i === 0 ? '/' : `/${section}/${i}`))
    if (h === 0) paths.push('/slow')
    pagesOf.set(host, paths.map((p) => `http://${host}${p}`))
    const pages = bodies.get(host)!
    for (const [i, path] of paths.entries()) {
      const links: string[] = []
      // The chain reaches every page; the rest are shortcuts, written as a browser would meet them.
      if (i + 1 < pagesPerHost) links.push(i === 0 ? `${section}/1` : `${i + 1}`) // relative
      links.push('/', `/${section}/${1 + pick(pagesPerHost - 1)}#part-2`, `http://${host}/${section}/${1 + pick(pagesPerHost - 1)}`, '../', '#top')
      if (i === 0) {
        for (const other of hosts) if (other !== host) links.push(`http://${other}/`)
        if (h === 0) links.push('/slow')
      }
      if (i % 10 === 3) links.push(`http://${hosts[(h + 1) % hosts.length]}/${SECTIONS[(h + 1) % hosts.length]}/${1 + pick(pagesPerHost - 1)}`)
      if (i % 17 === 5) {
        const missing = i % 34 === 5 ? `http://${hosts[(h + 2) % hosts.length]}/gone/${h}-${i}` : `http://${host}/missing/${i}`
        links.push(missing)
        broken.push({ url: missing, from: `http://${host}${path === '/' ? '/' : path}` })
      }
      // Never visited: blocklisted, off-site, not http.
      links.push('/logout', '/admin/', `/${section}/${i}?sort=date`, '/handbook.pdf', 'https://example.com/about', 'mailto:team@example.com', 'javascript:void(0)')
      pages.set(path, page(`${section} ${i}`, links))
    }
  })

  return {
    hosts,
    seed: `http://${hosts[0]}/`,
    pages: pagesOf,
    broken,
    stats,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve())
              s.closeAllConnections()
            }),
        ),
      )
    },
  }
}

function page(title: string, links: string[]): string {
  const items = links.map((href, i) => `      <li><a href="${href.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">link ${i + 1}</a></li>`).join('\n')
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${title}</title></head>
  <body>
    <h1 id="top">${title}</h1>
    <p>A generated page. <a href="#part-2">Skip ahead</a>.</p>
    <ul>
${items}
    </ul>
    <h2 id="part-2">Part 2</h2>
    <p><a download href="/export.csv">Export</a></p>
  </body>
</html>
`
}
