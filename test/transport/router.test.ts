// The router: stream and partition key per message.
import t from 'tap'
import { createHash } from 'node:crypto'
import { makeEnvelope, type Envelope } from '../../lib/core/envelope.js'
import type { CorrelationId, MessageId } from '../../lib/core/ids.js'
import { Router, fitPartitionKey, partitionKeyOf } from '../../lib/routing/router.js'

function envelope(type: string, key: string, id = 'id-1', body: unknown = {}): Envelope {
  return makeEnvelope({ id: id as MessageId, type, key, body, correlationId: 'c' as CorrelationId, sentAt: 0 })
}

t.test('keyed actors get type#key (one shard, FIFO per instance); unkeyed ones their message id', async (t) => {
  const router = new Router({ defaultStream: 'troupe' })
  t.strictSame(router.route(envelope('pageStats', '/home')), { stream: 'troupe', partitionKey: 'pageStats#/home' })
  t.equal(router.route(envelope('pageStats', '/home', 'other-id')).partitionKey, 'pageStats#/home', 'the same instance, the same key, whatever the id')
  t.equal(router.route(envelope('geoIp', '', 'msg-7')).partitionKey, 'msg-7', 'unkeyed: the id spreads stateless work')
  t.not(router.route(envelope('geoIp', '', 'msg-8')).partitionKey, 'msg-7')
  t.equal(partitionKeyOf(envelope('a', 'ü€😀')), 'a#ü€😀', 'Unicode kept')
})

t.test('isKeyed: a keyed actor with the empty key still keeps its order', async (t) => {
  const keyed = new Set(['singleton'])
  const router = new Router({ defaultStream: 'troupe', isKeyed: (type) => keyed.has(type) })
  t.equal(router.route(envelope('singleton', '', 'x')).partitionKey, 'singleton#')
  t.equal(router.route(envelope('worker', 'ignored', 'y')).partitionKey, 'y', 'the registry says unkeyed: the id')
})

t.test('partition keys over 256 characters are hashed deterministically, keeping a readable prefix', async (t) => {
  t.equal(fitPartitionKey('k'.repeat(256)), 'k'.repeat(256), '256 characters fit as they are')
  const long = `pageStats#${'/very/long/url'.repeat(40)}`
  const fitted = fitPartitionKey(long)
  t.equal(fitted.length, 256)
  t.ok(fitted.startsWith('pageStats#/very/long/url'), 'the readable prefix stays')
  t.ok(fitted.endsWith(`~${createHash('sha256').update(long).digest('base64url')}`), 'then ~ and the sha256 of the whole key')
  t.equal(fitPartitionKey(long), fitted, 'deterministic')
  t.not(fitPartitionKey(`${long}x`), fitted, 'another key, another partition key')
  t.not(fitPartitionKey(`${long.slice(0, -1)}y`), fitted, 'even when only the end differs')
  t.equal(fitPartitionKey('k'.repeat(257)).length, 256)

  // A surrogate pair straddling the cut is not split.
  const emoji = `${'a'.repeat(211)}😀${'b'.repeat(100)}`
  const cut = fitPartitionKey(emoji)
  t.ok(cut.length <= 256)
  t.notOk(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut), 'no lone high surrogate')
  t.equal(Buffer.from(cut, 'utf8').toString('utf8'), cut, 'valid UTF-16, so valid UTF-8')

  const router = new Router({ defaultStream: 'troupe' })
  t.equal(router.route(envelope('pageStats', 'u'.repeat(1_000))).partitionKey.length, 256)
  t.throws(() => fitPartitionKey(''), { code: 'TROUPE_CONFIG' })
})

t.test('streams: per-message priority, then the actor type, then the default', async (t) => {
  const router = new Router({
    defaultStream: 'troupe',
    streams: { alert: 'troupe-urgent', audit: 'troupe-audit' },
    priorities: { high: 'troupe-urgent', bulk: 'troupe-bulk' },
    priorityOf: (e) => (e.body as { priority?: string }).priority,
  })
  t.equal(router.route(envelope('pageView', '')).stream, 'troupe', 'no rule: the default')
  t.equal(router.route(envelope('alert', '')).stream, 'troupe-urgent', 'by actor type')
  t.equal(router.route(envelope('audit', 'k')).stream, 'troupe-audit')
  t.equal(router.route(envelope('pageView', '', 'i', { priority: 'high' })).stream, 'troupe-urgent', 'by priority')
  t.equal(router.route(envelope('audit', 'k', 'i', { priority: 'bulk' })).stream, 'troupe-bulk', 'priority wins over the type')
  t.equal(router.route(envelope('audit', 'k', 'i', { priority: 'bulk' })).partitionKey, 'audit#k', 'the partition key does not change with the stream')
  t.throws(() => router.route(envelope('pageView', '', 'msg-3', { priority: 'urgent!' })), {
    code: 'TROUPE_CONFIG',
    message: /priority "urgent!" of message msg-3 for pageView is not in RouterOptions.priorities \(known: high, bulk\)/,
  })
  t.strictSame(router.streams, ['troupe', 'troupe-urgent', 'troupe-audit', 'troupe-bulk'], 'every stream, default first, once each')
})

t.test('options are checked when the router is made', async (t) => {
  t.throws(() => new Router({ defaultStream: '' }), { code: 'TROUPE_CONFIG', message: /defaultStream must be a Kinesis stream name/ })
  t.throws(() => new Router({ defaultStream: 'has space' }), { code: 'TROUPE_CONFIG' })
  t.throws(() => new Router({ defaultStream: 'x'.repeat(129) }), { code: 'TROUPE_CONFIG' })
  t.throws(() => new Router({ defaultStream: 'ok', streams: { a: 'bad/name' } }), { message: /RouterOptions.streams\["a"\]/ })
  t.throws(() => new Router({ defaultStream: 'ok', priorityOf: () => 'x' }), { message: /priorityOf needs RouterOptions.priorities/ })
  t.throws(() => new Router({ defaultStream: 'ok', streams: [] as never }), { code: 'TROUPE_CONFIG' })
  t.doesNotThrow(() => new Router({ defaultStream: 'a-B_c.9' }))
})
