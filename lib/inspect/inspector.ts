// The inspection port: one set of questions about a troupe system, answered over a running
// system in this process (SystemInspector), over the DynamoDB table of the AWS mode
// (TableInspector), or over HTTP from a process that serves them (HttpInspector). The CLI
// (`troupe inspect`) and the web view (`troupe ui`) ask only through it.
import type { MessageStatus, ReceiptEntry } from '../core/receipt.js'
import type { MessageCost } from '../cost/message-cost.js'
import type { Pause } from '../core/system.js'
import type { TimerRecord } from '../store/index.js'
import type { AttemptRecord, ErrorRecord } from '../core/dead-letter.js'

/** One actor type at a glance. Counts a source cannot know are undefined. */
export interface ActorRow {
  type: string
  kind?: 'keyed' | 'singleton' | 'stateless'
  instances: number
  processed?: number
  /** Retries scheduled so far (a message retried twice counts twice). */
  retried?: number
  dead: number
  queued?: number
  throttled?: number
  /** Turns under way now. */
  running?: number
  /** On AWS: messages parked in their instances' items until a throttle has a token for them. */
  parked?: number
  /** When the oldest of them was sent, epoch milliseconds. */
  oldestParkedAt?: number
  /**
   * On AWS, from the hosts' metrics: how long the oldest of the type's records in a batch had been
   * in the stream when a host took the batch in, ms (the most any host reported lately).
   */
  iteratorAgeMs?: number
  paused: boolean
  pausedKeys: string[]
  /** Epoch milliseconds. */
  lastActivityAt?: number
  /**
   * Over a table: its items whose bookkeeping or version troupe could not read (written by hand, or
   * damaged); `state <type>` names each, and those whose state cannot be read.
   */
  unreadable?: number
}

/** One instance: its state as plain data (superjson decoded), version and last message. */
export interface InstanceRow {
  type: string
  key: string
  state: unknown
  /**
   * On AWS, the version of the instance's item: how many commits it has had (each is a conditional
   * write on it), not the version of its state's shape (`stateVersion`). The embedded mode keeps none.
   */
  version?: number
  /**
   * Over a table: the version of the state's shape the item holds (`sv`; 1 when absent), which a
   * `migrate` of the actor brings to its own; absent when `sv` is no positive whole number (`unreadable` says what it holds).
   */
  stateVersion?: number
  lastMessageId?: string
  /** Epoch milliseconds. */
  updatedAt?: number
  paused?: boolean
  /** Messages waiting for it: queued in the embedded mode; on AWS held while paused, or parked for a token, a slot or a retry. */
  waiting?: number
  /**
   * Ids of the messages that changed it, newest first, as far as the source remembers them
   * (a bounded few; undefined when the source keeps none).
   */
  recent?: string[]
  /** Over a table: why part of the item could not be read (written by hand, or damaged); what could not is left out of the row. */
  unreadable?: string
}

export interface Page<T> {
  items: T[]
  /** Pass as `after` for the next page; undefined on the last. */
  next?: string
}

/** What is known of one message: where it is, what it was, where it came from. */
export interface MessageNode {
  id: string
  type: string
  key: string
  correlationId?: string
  /** The message whose turn sent this one. */
  parentId?: string
  status: MessageStatus | 'unknown'
  attempts: number
  /** Epoch milliseconds it was accepted. */
  sentAt?: number
  /** How long its last turn took, when known. */
  durationMs?: number
  history: ReceiptEntry[]
  error?: ErrorRecord
}

export interface MessageView {
  message: MessageNode
  /** From the root down to the message's parent. */
  causes: MessageNode[]
  /** The messages its turns sent. */
  caused: MessageNode[]
}

/** A trace: every message of one request, as a tree from its root(s). */
export interface TraceNode extends MessageNode {
  children: TraceNode[]
}

export interface DeadRow {
  id: string
  type: string
  key: string
  correlationId: string
  error: ErrorRecord
  attempts: AttemptRecord[]
  deadAt: number
  body: unknown
}

export interface JoinRow {
  forkId: string
  join: string
  total: number
  received: number
  /** Epoch milliseconds after which the join runs with what came, if known. */
  deadline?: number
  missing: { index: number; actor: string; messageId: string }[]
  /** Over a table: why the joiner's item could not be read (written by hand, or damaged); the rest of the row is then empty. */
  unreadable?: string
}

export interface CostView {
  /** Epoch milliseconds the counters start from. */
  since?: number
  messages: number
  requests: number
  requestsPerMessage?: number
  /** `units`: what AWS bills the API's requests by (PUT payload units, DynamoDB request units). */
  byApi: Record<string, { requests: number; errors: number; requestBytes: number; responseBytes: number; units?: number }>
  /**
   * What ran the turns counted: 'process', the process that counted reads its streams itself (a
   * container, `troupe dev --host process`: no Lambda compute, and its shard leases and checkpoints
   * are among the requests); 'lambda', host functions (the metrics the Lambda hosts write). Absent
   * when not known (a process that only sends): priced as on Lambda, troupe deploy's form.
   */
  compute?: 'process' | 'lambda'
  /** The same in dollars, per million messages and a month's standing costs: `troupe inspect cost` prices it from a price file (lib/cost). */
  dollars?: MessageCost
}

/** Who sends to whom, learned from traffic. */
export interface GraphView {
  nodes: { type: string; count: number }[]
  edges: { from: string; to: string; count: number; perSecond: number }[]
}

/** What an inspector reads: the mode of the system and where its answers come from. */
export interface InspectorSource {
  /** 'embedded' or 'aws'. */
  mode: string
  /** Where the answers come from, for people: 'one process', 'table orders', … */
  source: string
}

export interface Inspector {
  actors(): Promise<ActorRow[]>
  /** One instance, or undefined. */
  instance(type: string, key: string): Promise<InstanceRow | undefined>
  /** A page of a type's instances (`search`: keys containing it). */
  instances(type: string, options?: { limit?: number; after?: string; search?: string }): Promise<Page<InstanceRow>>
  message(id: string): Promise<MessageView | undefined>
  /** The tree of a request, from its root; empty when nothing of it is known. */
  trace(correlationId: string): Promise<TraceNode[]>
  dead(type?: string): Promise<DeadRow[]>
  /** Puts a dead letter back; resolves to its id. */
  replay(id: string): Promise<string>
  joins(): Promise<JoinRow[]>
  timers(): Promise<TimerRecord[]>
  cost(): Promise<CostView | undefined>
  /** Message types as a graph, when the source saw traffic (undefined over the table alone). */
  graph(): Promise<GraphView | undefined>
  pause(type: string, key?: string): Promise<void>
  resume(type: string, key?: string): Promise<void>
  pauses(): Promise<Pause[]>
  /** An xstate machine actor's definition (as `machine.toJSON()` gives it), for drawing its statechart. */
  machine?(type: string): Promise<unknown>
  /** Which mode and source it reads, for the web view's header. */
  describe?(): Promise<InspectorSource>
  close?(): Promise<void>
}
