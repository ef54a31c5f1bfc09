// The crawl as a pipeline: PageUrl downloads, PageBody reads the links, each link goes back to
// PageUrl (a loop) until every page in scope was visited.
import { pipeline } from 'troupe'
import { PageBody } from './actors/PageBody.js'
import { PageUrl } from './actors/PageUrl.js'

export const crawl = pipeline('crawl').from(PageUrl).pipe(PageBody).each(PageUrl)
