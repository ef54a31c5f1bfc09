// `ask` by a direct invocation of the host function (the `invoke` option; aws-system.ts is the
// facade): the host runs the turn under the same conditional commit as the stream path and
// answers with the reply. Whatever the invocation does not settle goes on the stream, where the
// host finishes it and a copy of one applied is not applied again: an answer of `unfinished`, no
// answer in the ask's time, a request that broke off. A function error puts a flush record, so
// that what a committed turn sent still goes out.
import type { Clock } from '../core/clock.js'
import type { Envelope } from '../core/envelope.js'
import { AskTimeoutError, SystemStoppedError, TroupeError } from '../core/errors.js'
import { derivedId } from '../core/ids.js'
import type { TroupeEvent } from '../core/inspection.js'
import { messageLogFields, type Logger } from '../core/logger.js'
import type { DurableHost } from '../hosts/durable/durable-host.js'
import { flushRecord } from '../hosts/durable/flush-record.js'
import { INVOKED } from '../hosts/durable/pending-receipts.js'
import type { AskAnswer, AskInvocation } from '../platform/lambda-events.js'
import type { RecordCodec } from '../routing/record-codec.js'
import type { Router } from '../routing/router.js'
import type { DynamoDBJournalStore } from '../store/dynamodb-journal.js'
import type { KinesisTransport } from '../transport/kinesis.js'
import type { AwsOutbox } from './aws-outbox.js'
import type { HostInvoker } from './lambda-invoker.js'
import type { AskOutcome, ReceiptWaiter } from './receipt-waiter.js'

export interface InvokeAskOptions {
  invoker: HostInvoker
  /** The codec the envelope travels in. */
  codec: RecordCodec
  host: DurableHost
  outbox: AwsOutbox
  transport: KinesisTransport
  router: Router
  journal: DynamoDBJournalStore
  /** Ends the wait for the function's answer when the system stops. */
  waiter: ReceiptWaiter
  clock: Clock
  logger: Logger
  emit: (event: TroupeEvent) => void
  stopping: () => boolean
}

export class InvokeAsk {
  constructor(private readonly o: InvokeAskOptions) {}

  /**
   * The message's final receipt, or undefined when the host left it unfinished and it was put on
   * the stream (the ask then waits for its receipt).
   */
  async ask(envelope: Envelope, timeoutMs: number): Promise<AskOutcome | undefined> {
    const { host, outbox } = this.o
    // Its place in this process's lane is settled once no copy of it can be put any more: when
    // the function answers, or once it is on the stream (`putAgain`).
    const pos = host.lane.stamp(envelope)
    // The host raises this lane's fence for the instance to the ask's: true only once the instance
    // has read everything this process sent it on that stream before, which `after` (the last of
    // them) makes the host wait for. Without a last one kept (never told here, or forgotten), the
    // ask vouches for nothing.
    if (!outbox.hasTold(envelope)) envelope.origin!.fence = '0'
    const putAgain: Promise<unknown>[] = []
    try {
      return await this.invokeHost(envelope, timeoutMs, putAgain)
    } finally {
      void Promise.allSettled(putAgain).then(() => host.lane.settle(pos))
    }
  }

  private async invokeHost(envelope: Envelope, timeoutMs: number, putAgain: Promise<unknown>[]): Promise<AskOutcome | undefined> {
    const { invoker, codec, host, outbox, clock, logger } = this.o
    const functionName = invoker.functionName
    const what = `ask to ${envelope.type} (message ${envelope.id})`
    // Offloaded once: the copy put on the stream after an invocation with no answer is this one.
    const travelling = await outbox.offload(envelope)
    const data = codec.encode(travelling).toString('base64')
    // The accepted entry is written while the invocation runs, not before it: the function's
    // commit and its final entry do not depend on it (the entries' keys order the history
    // whichever lands first), and waiting for it cost the ask a DynamoDB round trip. It starts
    // once the invocation's request is on its way, which must not wait behind this one's CPU.
    // It goes with the message's trace link, and says the ask went by Invoke: the function's final
    // entry travels in the instance's commit and is written later (pending-receipts.ts), so a
    // reader of the receipt meanwhile finds the instance, and a trace finds the message, from here.
    const acceptedEntry = host.receiptRecord(envelope, 'accepted', INVOKED)
    const accepted = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.o.journal.putReceipts([acceptedEntry]))
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      )
    host.counts.get(envelope.type)!.accepted++
    this.o.emit({ type: '@troupe.accepted', at: clock.now(), envelope })
    const abort = new AbortController()
    const timer = clock.setTimeout(() => abort.abort(), timeoutMs)
    // stop() wakes the waiters of every message: it ends this wait too.
    const stopListening = this.o.waiter.listen(envelope.id, () => {
      if (this.o.stopping()) abort.abort()
    })
    let text: string
    let functionError: string | undefined
    try {
      // Everything this process sent the instance before the ask's fence was taken is at or before `after` in its shard.
      const after = await outbox.toldAt(envelope)
      const invocation: AskInvocation = { troupe: 'ask', envelope: data, stream: this.o.router.route(envelope).stream, keepReceipt: true, ...(after ? { after } : {}) }
      const out = await invoker.invoke(JSON.stringify(invocation), abort.signal)
      text = out.payload
      functionError = out.functionError
    } catch (error) {
      await accepted
      // No answer: the function may still run the turn, or never have got it.
      putAgain.push(this.putAfterUnknownInvoke(travelling))
      if (abort.signal.aborted) {
        if (this.o.stopping()) throw new SystemStoppedError('the system stopped before the reply came')
        // The invocation runs on; its receipt will say how it ended.
        throw new AskTimeoutError(envelope.type, envelope.key, envelope.id, 'accepted', timeoutMs)
      }
      throw new TroupeError('TROUPE_INVOKE_UNANSWERED', `${what}: invoking ${functionName} got no answer: ${(error as Error).message}; the message was put on its stream (it applies once, whether or not the function ran it), and its receipt will say how it ended`, { cause: error })
    } finally {
      clock.clearTimeout(timer)
      stopListening()
    }
    const notAccepted = await accepted
    if (functionError !== undefined) {
      this.flushAfterFailedInvoke(envelope)
      let detail = text
      try {
        const e = JSON.parse(text) as { errorType?: string; errorMessage?: string }
        detail = `${e.errorType}: ${e.errorMessage}`
      } catch {
        // not JSON: quote it as it is
      }
      throw new TroupeError('TROUPE_INVOKE_FAILED', `${what}: the function ${functionName} failed (${functionError}): ${detail.slice(0, 1_000)}`)
    }
    let answer: AskAnswer | undefined
    try {
      answer = JSON.parse(text) as AskAnswer
    } catch {
      // reported below
    }
    if (answer?.troupe !== 'answer') throw new TroupeError('TROUPE_INVOKE_FAILED', `${what}: the function ${functionName} did not answer an ask: ${text.slice(0, 200)}`)
    if (answer.status === 'unfinished') {
      // The host finishes it from the stream, where its receipt must begin as any ask's does.
      if (notAccepted) throw new TroupeError('TROUPE_STORE_UNAVAILABLE', `${what}: the function left it unfinished, and its accepted receipt could not be written, so it was not put on the stream: ${notAccepted.message}`, { cause: notAccepted })
      logger.warn('an ask did not finish in its invocation; it goes on the stream', { ...messageLogFields(envelope), reason: answer.reason })
      await outbox.sendOffloaded(envelope)
      return undefined
    }
    // The message ran and its final entry is kept: only the start of its history is missing.
    // The message ran; its final entry waits in the instance's item, which only the accepted entry
    // points a reader to: one more try, or the receipt shows nothing until that entry is written.
    if (notAccepted) {
      const again = await this.o.journal.putReceipts([acceptedEntry]).then(
        () => undefined,
        (error: unknown) => error as Error,
      )
      if (again) logger.warn("an ask's accepted receipt entry could not be written; its receipt shows once the instance's next record writes the final entry", { ...messageLogFields(envelope), error: again.message })
    }
    return { status: answer.status, ...(answer.status === 'done' && answer.reply !== undefined ? { reply: answer.reply } : {}), ...(answer.error ? { error: answer.error } : {}) }
  }

  /**
   * After an invocation that ended in a function error: the function may have committed the turn
   * and died before putting the flush record that makes the instance's shard send what the turn
   * sent. A flush record here does it (it applies nothing, so putting one twice is harmless).
   */
  private flushAfterFailedInvoke(envelope: Envelope): void {
    const { host, logger } = this.o
    if (!host.typeOf(envelope.type).stateful) return
    const flush = flushRecord(envelope.type, envelope.key, derivedId(envelope.id, 'flush'), envelope.correlationId, this.o.clock.now())
    const notPut = (error: Error) => logger.warn("could not put the flush record of a failed ask; what its turn sent waits for the instance's next message", { ...messageLogFields(envelope), error: error.message })
    this.o.transport.enqueue(flush).then(
      (r) => r.status === 'failed' && notPut(r.error),
      (error: unknown) => notPut(error as Error),
    )
  }

  /**
   * After an invocation with no answer (timed out, or its request broke off): the function may be
   * running the turn still, or may never run it. The message itself goes on its stream, with its
   * origin: a copy if the function applied it (and the flush the turn's messages need), the run if
   * not; a function still running after that finds a copy. Only once it is put may the ask's
   * position be settled: a fence past it would make the function's late run a copy of nothing.
   */
  private async putAfterUnknownInvoke(envelope: Envelope): Promise<void> {
    try {
      // Into the transport at once, before the caller hears of the failure and tells anything after it.
      const result = await this.o.outbox.enqueueTracked(envelope)
      if (result.status === 'failed') throw result.error
    } catch (error) {
      this.o.logger.error('an ask without an answer could not be put on its stream; it applies only if the function finished it', { ...messageLogFields(envelope), error: (error as Error).message })
    }
  }
}
