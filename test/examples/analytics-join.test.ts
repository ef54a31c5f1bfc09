// The example's join, on its own: what EnrichedPageView does with a complete join, and with
// an incomplete one (a lookup dead, or still running at the deadline).
import t from 'tap'
import { createTestSystem } from 'troupe/testing'
import { EnrichedPageView, UNKNOWN, type EnrichedPageViewIn } from '../../examples/analytics/actors/EnrichedPageView.js'
import { PageStats } from '../../examples/analytics/actors/PageStats.js'

const url = 'https://shop.example.com/pricing'
const view = { url, ip: '8.8.8.8', ua: 'Mozilla/5.0 Firefox/127.0' }
const agent = { browser: 'Firefox', os: 'Linux', platform: 'desktop' }

t.test('a complete join is counted under its country; an incomplete one under "unknown", with what was missing', async (t) => {
  const { system, settle } = createTestSystem({ actors: [EnrichedPageView, PageStats] })
  const joins: EnrichedPageViewIn[] = [
    { forkId: 'f1', complete: true, replies: [{ country: 'US' }, agent], missing: [], value: view },
    {
      forkId: 'f2',
      complete: false,
      replies: [undefined, agent],
      missing: [{ index: 0, actor: 'geoIpLookup', messageId: 'm2', status: 'dead', error: { name: 'TerminalError', message: 'private range' } }],
      value: { ...view, ip: '10.0.0.1' },
    },
    // Past the deadline: the lookup was still running.
    { forkId: 'f3', complete: false, replies: [undefined, agent], missing: [{ index: 0, actor: 'geoIpLookup', messageId: 'm3', status: 'running' }], value: view },
  ]
  for (const join of joins) await system.tell(EnrichedPageView, join)
  await settle()
  t.same(await system.state(PageStats, url), {
    views: 3,
    byCountry: { US: 1, [UNKNOWN]: 2 },
    byBrowser: { Firefox: 3 },
    byOs: { Linux: 3 },
    incomplete: 2,
    missing: { 'geoIpLookup dead': 1, 'geoIpLookup running': 1 },
  })
})
