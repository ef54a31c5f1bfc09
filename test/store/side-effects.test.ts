// The records of ctx.once side effects (SideEffectStore): the memory and DynamoDB stores against
// one conformance suite; then what each call costs on DynamoDB, and a result too large to record.
import t from 'tap'
import { tableStores } from './fixtures/table-stores.js'
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { RequestCounter, countRequests } from '../../lib/aws/request-counter.js'
import { clients } from '../../lib/local/local-stack.js'
import { DynamoDBSideEffects } from '../../lib/store/dynamodb-side-effects.js'
import { MemorySideEffects } from '../../lib/store/memory-side-effects.js'
import { sideEffectConformance } from '../../lib/testing/side-effect-conformance.js'

const { stack, dynamodb, fresh, countedClient } = await tableStores(t)
const freshStore = (client = dynamodb) => fresh('effects', (options) => new DynamoDBSideEffects(options), client)

t.test('memory conformance', async (t) => {
  sideEffectConformance(t, async () => new MemorySideEffects())
})

t.test('DynamoDB conformance', async (t) => {
  sideEffectConformance(t, () => freshStore())
})

t.test('on DynamoDB a put and a claim are one request each, a lost claim included', async (t) => {
  const { client: counted, counter } = countedClient(t)
  const store = await freshStore(counted)
  t.teardown(() => store.close())
  const at = 1_000
  await store.put({ messageId: 'm1', name: 'a', actor: 'x', status: 'done', result: '{"json":1}', at, expiresAt: at + 1_000 })
  t.equal(await store.claim({ messageId: 'm2', name: 'a', actor: 'x', status: 'started', at, expiresAt: at + 1_000 }, at), undefined)
  const lost = await store.claim({ messageId: 'm2', name: 'a', actor: 'x', status: 'started', at: at + 1, expiresAt: at + 1_001 }, at + 1)
  t.equal(lost?.at, at, 'the lost claim got the first')
  const requests = Object.fromEntries(Object.entries(counter.snapshot().byApi).map(([api, c]) => [api, c.requests]))
  // dynalite does not return the item that failed the condition, so its lost claim reads once more;
  // DynamoDB returns it (ReturnValuesOnConditionCheckFailure), and the read is not made.
  t.same(requests, { 'DynamoDB.PutItem': 3, 'DynamoDB.GetItem': 1 }, 'three PutItem: the result, the claim, the lost claim (which reads what won)')
})

t.test('a result too large for an item is refused with the message, the name and the size', async (t) => {
  const store = await freshStore()
  t.teardown(() => store.close())
  const result = JSON.stringify({ json: 'x'.repeat(410 * 1024) })
  await t.rejects(
    Promise.resolve(store.put({ messageId: 'm1', name: 'report', actor: 'shop.pay', status: 'done', result, at: 1, expiresAt: 2 })),
    { code: 'TROUPE_ONCE_TOO_LARGE', message: /ctx\.once\('report'\) in shop\.pay's turn on message m1 is 410\.\d KB/ },
  )
  t.equal(await store.get('m1', 'report', 1), undefined, 'nothing written')
})

t.test('a lost claim reads nothing more where DynamoDB returns the item that failed the condition', async (t) => {
  // dynalite leaves ReturnValuesOnConditionCheckFailure out; this client adds what DynamoDB sends:
  // the item, on the ConditionalCheckFailedException (read here through a client of its own).
  const counter = new RequestCounter()
  const answering = clients(stack).dynamodb
  const reader = clients(stack).dynamodb
  t.teardown(() => (answering.destroy(), reader.destroy()))
  answering.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args)
      } catch (e) {
        const input = args.input as { TableName?: string; Item?: Record<string, AttributeValue>; ReturnValuesOnConditionCheckFailure?: string }
        if (context.commandName !== 'PutItemCommand' || (e as Error).name !== 'ConditionalCheckFailedException' || input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') throw e
        const key = { pk: input.Item!['pk']!, sk: input.Item!['sk']! }
        const old = await reader.send(new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }))
        throw Object.assign(e as Error, { Item: old.Item })
      }
    },
    { step: 'initialize', name: 'returnOldItem' },
  )
  countRequests(answering, counter)
  const store = await freshStore(answering)
  t.teardown(() => store.close())
  t.equal(await store.claim({ messageId: 'm1', name: 'a', actor: 'x', status: 'started', at: 5, expiresAt: 1_000 }, 5), undefined)
  const lost = await store.claim({ messageId: 'm1', name: 'a', actor: 'x', status: 'started', at: 6, expiresAt: 1_000 }, 6)
  t.strictSame(lost, { messageId: 'm1', name: 'a', actor: 'x', status: 'started', at: 5, expiresAt: 1_000 }, 'the first claim, from the failed write')
  const requests = Object.fromEntries(Object.entries(counter.snapshot().byApi).map(([api, c]) => [api, c.requests]))
  t.same(requests, { 'DynamoDB.PutItem': 2 }, 'two PutItem, no read')
})
