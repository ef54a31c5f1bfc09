// The X-Ray trace header of a Lambda invocation as a W3C traceparent (lib/lambda/xray-trace.ts).
import t from 'tap'
import { xrayTrace } from '../../lib/lambda/xray-trace.js'

t.test('Root, Parent and Sampled make the traceparent', async (t) => {
  t.strictSame(xrayTrace('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'), {
    parent: '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01',
  })
  t.strictSame(xrayTrace('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0'), {
    parent: '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00',
  })
})

t.test('fields in any order, with others beside them; case and spaces do not matter', async (t) => {
  const want = { parent: '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01' }
  t.strictSame(xrayTrace('Sampled=1;Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793'), want)
  t.strictSame(xrayTrace('Root=1-5759E988-BD862E3FE1BE46A994272793; Parent=53995C3F42CD8AD8; Sampled=1;Lineage=a87bd80c:1|68fd508a:5'), want)
  t.strictSame(xrayTrace('Self=1-67891234-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'), want)
})

t.test('not sampled unless Sampled=1: missing, 0 or ? (the caller left it to the function)', async (t) => {
  for (const sampled of ['', ';Sampled=0', ';Sampled=?']) {
    t.equal(xrayTrace(`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8${sampled}`)?.parent.slice(-2), '00', sampled || 'no Sampled')
  }
})

t.test('no header, or one without a valid Root and Parent, gives nothing', async (t) => {
  const cases = [
    undefined,
    '',
    'garbage',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    'Parent=53995c3f42cd8ad8;Sampled=1',
    'Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8',
    'Root=1-5759e98-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8',
    'Root=1-5759e988-bd862e3fe1be46a99427279g;Parent=53995c3f42cd8ad8',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8a',
    'Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000',
    `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Lineage=${'x'.repeat(2000)}`,
  ]
  for (const header of cases) t.equal(xrayTrace(header), undefined, String(header).slice(0, 60))
})
