// The joiner: fork/join's aggregate, written as an actor. One instance per fork (keyed by
// the fork id), so the replies of a fork are handled one at a time and each lands in one
// state commit; the join message leaves in the same turn that marks the fork joined, so
// the join actor runs once per fork, whatever is retried, redelivered or replayed.
//
// A fork too large for one joiner's item (fork-plan.ts, `groupSize`) is joined by a tree: a
// joiner per group of children keeps their replies, writes them to its host's overflow store
// when the group is complete (or at the deadline), and reports a reference to the fork's own
// joiner, which reads the groups back in order and sends the join whole.
import { Actor } from '../lib/core/actor.js'
import type { Context } from '../lib/core/context.js'
import type { ForkMembership, MissingChild } from '../lib/core/fork.js'
import type { MessageStatus } from '../lib/core/receipt.js'
import type { MaybePromise } from '../lib/store/index.js'
import { ENDED_STATE, NO_STATE_COPY } from '../lib/turn/actor-type.js'
import { tellInFork } from '../lib/turn/turn-context.js'
import { JOINER, type ChildOutcome as Outcome, type JoinerMessage, type OpenFork } from '../lib/turn/join-protocol.js'

export { JOINER }

/** Replies for a fork the joiner has no open record of are kept this long, then dropped. */
export const JOIN_RETENTION_MS = 10 * 60_000

/** A group's replies and missing children (indexes within the group), as a group's joiner keeps them. */
export interface GroupResult {
  replies: unknown[]
  missing: MissingChild[]
}

/** What a group's joiner reports to the fork's joiner: where its result is kept. */
interface GroupReport {
  '@troupe.group': string
}

/** A reply kept out of the joiner's item: where it is. */
interface KeptReply {
  '@troupe.kept': string
}

function isKept(reply: unknown): reply is KeptReply {
  return typeof (reply as Partial<KeptReply> | null)?.['@troupe.kept'] === 'string'
}

export interface JoinerState {
  open?: OpenFork
  /** Outcomes by child index. */
  outcomes: Record<string, Outcome>
  received: number
  joined: boolean
  /** Replies that came after the join: recorded, never a second join. */
  late: number
}

/** What the joiner asks of its host. */
export interface JoinerHost {
  /** A message's last known status, for the missing children of a join; `member` is its place in the fork. */
  lastStatus(messageId: string, member: ForkMembership): MaybePromise<MessageStatus | undefined>
  /**
   * Whether a joined fork keeps a small record that recognises a redelivered open or a late
   * reply. A host whose messages can be redelivered (the stream) needs it, and keeps it
   * cheaply (a TTL); a host that never redelivers deletes the fork at its join.
   */
  readonly keepJoinedRecords: boolean
  /**
   * Keeps a value out of the joiner's item, under `key` (a write to the overflow store): a group's
   * result of a large fork, or a reply too large to hold beside the others. Hosts whose joiner
   * state has no size limit (in memory) need not.
   */
  keep?(key: string, value: unknown): Promise<void>
  /** A value kept by `keep`. */
  read?(key: string): Promise<unknown>
  /** Whether a reply is too large to hold in the joiner's item beside the others. */
  large?(reply: unknown): boolean
}

/**
 * The joiner: one class for every system, so its code and its objects' shapes are the same in
 * every system of a process (a class per system would make each new system's hot paths see new
 * shapes). Each host hands its instance itself when it registers the class (`serveJoiner`).
 */
export class Joiner extends Actor<JoinerMessage, void, JoinerState> {
  static readonly type = JOINER
  static readonly policy = { maxAttempts: 10 }
  /** The host whose turns this instance runs in: set once, when the host registers the class. */
  host!: JoinerHost

  key(msg: JoinerMessage) {
    return msg.forkId
  }

  initialState(): JoinerState {
    return { outcomes: {}, received: 0, joined: false, late: 0 }
  }

  receive(msg: JoinerMessage, ctx: Context<JoinerState>): void | Promise<void> {
    const host = this.host
    // A reply too large to hold beside the others is kept out of the item first (a keyed write:
    // a rerun writes the same), and the state holds where it is.
    if (msg.op === 'reply' && msg.outcome.ok && host.large?.(msg.outcome.reply) && !ctx.state.joined && ctx.state.outcomes[msg.index] === undefined) {
      return this.keepLarge(host, msg, msg.outcome.reply, ctx)
    }
    // Every change to the state comes after the last thing that can throw (the join's
    // send), so a failed turn leaves the state as it was and the host need not copy it.
    const s = ctx.state
    switch (msg.op) {
      case 'open': {
        if (s.open !== undefined) return // a redelivered open
        const open = frozenFork(msg.fork)
        if (s.received >= open.total) return join(host, ctx, open, undefined)
        s.open = open
        return
      }
      case 'reply': {
        if (s.joined) {
          s.late++
          return
        }
        if (s.outcomes[msg.index] !== undefined) return // a duplicate of a reply already counted
        if (s.open !== undefined && s.received + 1 >= s.open.total) return join(host, ctx, s.open, msg)
        if (s.open === undefined && s.received === 0) expireLater(ctx) // replies without an open fork must not linger
        s.outcomes[msg.index] = msg.outcome
        s.received++
        return
      }
      case 'deadline':
        if (!s.joined && s.open !== undefined) return join(host, ctx, s.open, undefined)
        return
      case 'expire':
        ctx.state = undefined as never // forget the fork
        return
    }
  }

  /**
   * Keeps a large reply out of the item, then takes the reply with where it is. A method of its
   * own: the closure in `receive` made every turn of every joiner allocate its scope.
   */
  private keepLarge(host: JoinerHost, msg: Reply, reply: unknown, ctx: Context<JoinerState>): Promise<void> {
    const key = `join/${msg.forkId}/${msg.index}`
    const kept: KeptReply = { '@troupe.kept': key }
    return host.keep!(key, reply).then(() => this.receive({ ...msg, outcome: { ok: true, reply: kept } }, ctx))
  }
}
Object.defineProperty(Joiner, NO_STATE_COPY, { value: true })
Object.defineProperty(Joiner, ENDED_STATE, { value: (s: JoinerState | undefined) => s?.joined === true })

/** Hands the joiner instance a host registered to the host that runs its turns. */
export function serveJoiner(actor: unknown, host: JoinerHost): void {
  if (!(actor instanceof Joiner)) throw new Error(`internal: serveJoiner got a ${(actor as object)?.constructor?.name}, not troupe's joiner`)
  actor.host = host
}

/**
 * Joins now, or once the statuses of missing children are read if the host reads them
 * asynchronously. `last` is the reply that completes the fork, not yet in the state.
 */
function join(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined): void | Promise<void> {
  const outcomes = ctx.state.outcomes
  const lookups: (MessageStatus | undefined | Promise<MessageStatus | undefined>)[] = []
  let async = false
  for (let i = 0; i < open.total; i++) {
    if (outcomeOf(outcomes, last, i) !== undefined) continue
    const status = host.lastStatus(open.children[i]!.messageId, { forkId: ctx.key, index: i })
    if (status instanceof Promise) async = true
    lookups[i] = status
  }
  if (async) return Promise.all(lookups).then((statuses) => finishJoin(host, ctx, open, last, statuses))
  return finishJoin(host, ctx, open, last, lookups as (MessageStatus | undefined)[])
}

function finishJoin(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined, statuses: (MessageStatus | undefined)[]): void | Promise<void> {
  const s = ctx.state
  const replies: unknown[] = []
  const missing: MissingChild[] = []
  for (let i = 0; i < open.total; i++) {
    const outcome = outcomeOf(s.outcomes, last, i)
    if (outcome?.ok) {
      replies.push(outcome.reply)
      continue
    }
    replies.push(undefined)
    const child = open.children[i]!
    missing.push(
      outcome === undefined
        ? { index: i, actor: child.actor, messageId: child.messageId, status: statuses[i] ?? 'unknown' }
        : { index: i, actor: child.actor, messageId: child.messageId, status: outcome.status, error: outcome.error },
    )
  }
  if (replies.some(isKept)) return readKept(host, replies).then((whole) => finishWhole(host, ctx, open, last, whole, missing))
  return finishWhole(host, ctx, open, last, replies, missing)
}

function finishWhole(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined, replies: unknown[], missing: MissingChild[]): void | Promise<void> {
  if (open.report !== undefined) return finishGroup(host, ctx, open, last, { replies, missing })
  if (open.groups !== undefined) return joinGroups(host, ctx, open, last, replies, missing)
  sendJoin(host, ctx, open, last, replies, missing)
}

/** The replies with those kept out of the item read back. */
async function readKept(host: JoinerHost, replies: unknown[]): Promise<unknown[]> {
  return Promise.all(replies.map((r) => (isKept(r) ? host.read!(r['@troupe.kept']) : r)))
}

/** A group of a large fork is complete (or out of time): its result goes to the store, a reference to the fork's joiner. */
async function finishGroup(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined, result: GroupResult): Promise<void> {
  const key = `join/${ctx.key}`
  await host.keep!(key, result)
  const report: GroupReport = { '@troupe.group': key }
  tellInFork(ctx, JOINER, { op: 'reply', forkId: open.report!.forkId, index: open.report!.index, outcome: { ok: true, reply: report } }, undefined)
  ended(host, ctx, open, last)
}

/** The fork's own joiner in a tree: its groups' results read back in order, joined whole. */
async function joinGroups(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined, groups: unknown[], lost: MissingChild[]): Promise<void> {
  const { size, children } = open.groups!
  const results = (await Promise.all(groups.map((g) => (g === undefined ? undefined : host.read!((g as GroupReport)['@troupe.group']))))) as (GroupResult | undefined)[]
  const replies: unknown[] = []
  const missing: MissingChild[] = []
  results.forEach((result, g) => {
    const first = g * size
    const count = Math.min(size, children - first)
    if (result === undefined) {
      // The group's joiner never reported: none of its children's replies can be vouched for.
      const why = lost.find((m) => m.index === g)
      for (let j = 0; j < count; j++) {
        replies.push(undefined)
        missing.push({ index: first + j, actor: '(unknown)', messageId: '', status: why?.status ?? 'unknown', ...(why?.error ? { error: why.error } : {}) })
      }
      return
    }
    replies.push(...result.replies)
    for (const m of result.missing) missing.push({ ...m, index: first + m.index })
  })
  sendJoin(host, ctx, open, last, replies, missing)
}

function sendJoin(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined, replies: unknown[], missing: MissingChild[]): void {
  // The join's message carries the outer fork's membership when forwarded.
  tellInFork(ctx, open.join, { forkId: ctx.key, complete: missing.length === 0, replies, missing, value: open.value }, open.forward)
  ended(host, ctx, open, last)
}

/** After the join (or a group's report): the deadline is cancelled and what is kept recognises late replies. */
function ended(host: JoinerHost, ctx: Context<JoinerState>, open: OpenFork, last: Reply | undefined): void {
  const s = ctx.state
  ctx.cancelSchedule('deadline')
  if (!host.keepJoinedRecords) {
    ctx.state = undefined as never
    return
  }
  // Keep only what recognises late replies and a redelivered open: the host lets it expire as
  // it lets a deleted instance's watermarks expire (ENDED_STATE), with no timer to delete it.
  if (last !== undefined) s.received++
  s.joined = true
  s.outcomes = {}
  s.open = { ...open, children: [], value: undefined }
}

function expireLater(ctx: Context<JoinerState>): void {
  ctx.schedule(Joiner, { op: 'expire', forkId: ctx.key }, { afterMs: JOIN_RETENTION_MS, name: 'expire', idempotent: true })
}

type Reply = Extract<JoinerMessage, { op: 'reply' }>

/** Child `i`'s outcome: the completing reply's, or the one the state holds. */
function outcomeOf(outcomes: Record<string, Outcome>, last: Reply | undefined, i: number): Outcome | undefined {
  return last !== undefined && last.index === i ? last.outcome : outcomes[i]
}

/**
 * The open record never changes after it arrives: frozen, state copies (the durable host's)
 * share it instead of copying the children list on every reply. Only the record itself is
 * frozen: a copy stops at a frozen object, and freezing the children array too made its
 * elements a dictionary, slower to freeze and to read at the join. The value passed along is
 * the user's and stays as it is.
 */
function frozenFork(fork: OpenFork): OpenFork {
  return Object.freeze(fork)
}
