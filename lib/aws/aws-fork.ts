// A fork made from outside a turn (`system.fork`) on AWS (aws-system.ts is the facade): the
// children go out as the host's entries, and their joiner tells the fork-result actor, whose turn
// keeps the joined replies with the fork's receipt. The caller waits for that receipt, which may
// be read in any process: the replies travel with it, or, when too large for its item, wait in
// the overflow store under a key the receipt names.
import { FORK_RESULT, type DeliverFork } from '../../actors/fork-result.js'
import type { ActorClass } from '../core/actor.js'
import type { Clock } from '../core/clock.js'
import { AskTimeoutError, SystemStoppedError, TroupeError } from '../core/errors.js'
import type { ForkChildren, Joined, JoinOptions } from '../core/fork.js'
import type { MessageId } from '../core/ids.js'
import { decode, encode } from '../core/serialization.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import type { StoredReceipt } from '../store/index.js'
import type { PayloadStore } from '../store/payload-store.js'
import { outsideFork } from '../turn/fork-plan.js'
import { outsideTrace } from '../turn/turn-trace.js'
import type { ReceiptWaiter } from './receipt-waiter.js'

/** A fork's joined replies larger than this wait in the overflow store; its receipt holds where (`KEPT_RESULT`). */
const KEPT_RESULT_BYTES = 256 * 1024
const KEPT_RESULT = '@troupe.kept'
/** How long a kept fork result stays: as long as the receipt that refers to it. */
const FORK_RESULT_TTL_MS = 24 * 60 * 60_000
/** A `system.fork` waits this much longer than its join's timeout before giving up on it. */
const FORK_GRACE_MS = 30_000

/** What the fork-result actor of a durable host does with a joined fork: keeps it with the fork's receipt. */
export function keepForkResult(h: DurableHost, overflow: PayloadStore, clock: Clock): DeliverFork {
  return {
    async deliverFork(forkId, joined, ctx) {
      // The joined replies go with the fork's receipt, one item: larger ones wait in the overflow store.
      let reply = encode(joined)
      if (Buffer.byteLength(reply) > KEPT_RESULT_BYTES) {
        const key = `fork/${forkId}`
        await overflow.put(key, Buffer.from(reply, 'utf8'), clock.now() + FORK_RESULT_TTL_MS)
        reply = encode({ [KEPT_RESULT]: key })
      }
      h.addEntry(ctx, { kind: 'receipt', record: h.receiptRecord({ id: forkId as MessageId, type: FORK_RESULT, key: '', attempt: 1 }, 'done', undefined, { reply }) })
    },
  }
}

/**
 * Whether a receipt is the one kept under a fork's id for its `system.fork` caller: the joined
 * replies, troupe's own bookkeeping rather than a message (no message has the fork's id). It alone
 * of the fork-result actor's receipts has a reply: nothing asks that actor. The embedded mode hands
 * the replies over in memory and keeps none, so neither mode shows it as a message.
 */
export function isKeptForkResult(receipt: Pick<StoredReceipt, 'actor' | 'reply'>): boolean {
  return receipt.actor === FORK_RESULT && receipt.reply !== undefined
}

export interface ForkParts {
  host: DurableHost
  waiter: ReceiptWaiter
  overflow: PayloadStore
  stopping: () => boolean
}

/** Sends the fork's children and resolves to their joined replies, once its receipt has them. */
export async function forkAndJoin<const T extends readonly ActorClass[], Value>(parts: ForkParts, forkId: MessageId, children: ForkChildren<T>, options: JoinOptions<Value>): Promise<Joined<T, Value>> {
  const { host } = parts
  const { effects, cause } = outsideFork(host, forkId, children, host.typeOf(FORK_RESULT).cls, options as JoinOptions<unknown>, outsideTrace())
  await host.sendEntries(host.entries(effects, cause))
  const timeoutMs = options.timeoutMs + FORK_GRACE_MS
  const receipt = await parts.waiter.waitFor(forkId, new Set(['done']), timeoutMs)
  if (receipt?.reply === undefined) {
    if (parts.stopping()) throw new SystemStoppedError('the system stopped before the fork joined')
    throw new AskTimeoutError(FORK_RESULT, '', forkId, 'unknown', timeoutMs)
  }
  const result = decode(receipt.reply) as Joined<T, Value> | Record<typeof KEPT_RESULT, string>
  if (!(KEPT_RESULT in result)) return result
  const data = await parts.overflow.get(result[KEPT_RESULT])
  if (data === undefined) throw new TroupeError('TROUPE_OVERFLOW_MISSING', `the joined replies of fork ${forkId} are not in the overflow store under ${result[KEPT_RESULT]}`)
  return decode(Buffer.from(data).toString('utf8')) as Joined<T, Value>
}
