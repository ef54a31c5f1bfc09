// troupe: an actor runtime for TypeScript. The core: actors, the system, the supervisor.
// AWS, Lambda, xstate and the testing kit live behind subpaths (troupe/aws, troupe/lambda,
// troupe/xstate, troupe/testing), so this entry loads none of them.

// Actors
export { Actor } from './core/actor.js'
export type { ActorClass, AnyActor, InOf, ReplyOf, StateOf } from './core/actor.js'
export type { Context, OnceOptions, TurnTellOptions } from './core/context.js'
export { drop } from './core/filter.js'
export type { Drop, Filter } from './core/filter.js'
export type { Serializable } from './core/serializable.js'

// The system
export { createSystem } from './hosts/create-system.js'
export type {
  AskOptions,
  AwaitReceiptOptions,
  Pause,
  StopOptions,
  StopReport,
  System,
  TellOptions,
} from './core/system.js'
export type { SystemOptions } from './hosts/embedded/system-options.js'

// Fork/join
export type { Fork, ForkChild, ForkChildren, Joined, JoinOptions, MissingChild, RepliesOf } from './core/fork.js'

// Pipelines declared in code
export { componentMetrics, pipeline, toDot, toMermaid, traced } from './pipeline/index.js'
export type {
  ComponentBeat,
  ForkedPipeline,
  GraphEdge,
  GraphNode,
  LineageStep,
  MetricsOptions,
  OutputOf,
  Pipeline,
  PipelineGraph,
  PipelineInfo,
  PipelineStart,
  StageKind,
  Traced,
} from './pipeline/index.js'

// Timers and stores
export type { ScheduleOptions } from './core/schedule.js'
export type { BucketRate, SideEffectRecord, SideEffectStore, StateStore, StoredInstance, Stores, TimerOrder, TimerRecord, TimerStore, TypeBucketStore } from './store/index.js'
export { MemoryStateStore, MemoryTimerStore, memoryStores } from './store/memory.js'
export { MemoryTypeBuckets } from './store/memory-type-buckets.js'
export type { SlotLease, TypeSlots, TypeSlotStore } from './store/index.js'
export { MemoryTypeSlots } from './store/memory-type-slots.js'
export { MemorySideEffects } from './store/memory-side-effects.js'
export { MemoryJournalStore, type MemoryJournalOptions } from './store/memory-journal.js'

// Messages and receipts
export type { Envelope, TraceContext } from './core/envelope.js'
export type { CorrelationId, MessageId } from './core/ids.js'
export type { MessageStatus, Receipt, ReceiptEntry } from './core/receipt.js'

// Supervision
export type { PolicyOptions, Rate } from './core/policy-options.js'
export type { AttemptRecord, DeadLetter, ErrorRecord } from './core/dead-letter.js'
export {
  AskFailedError,
  AskTimeoutError,
  ConfigError,
  ItemTooLargeError,
  NoDeadLetterError,
  NotPausableError,
  NotSerializableError,
  OnceInterruptedError,
  OnceResultLostError,
  ReceiptTimeoutError,
  ReplayUnderWayError,
  RetryableError,
  StateMigrationError,
  StateVersionError,
  StoreConflictError,
  SystemStoppedError,
  TerminalError,
  TroupeError,
  TurnTimeoutError,
  UnknownActorError,
  ValidationError,
} from './core/errors.js'
export { MissingPeerError } from './core/optional-peer.js'
export { errorCodes } from './core/error-codes.js'
export type { ErrorCode, ErrorCodeInfo } from './core/error-codes.js'

// Time, logs and inspection
export { systemClock } from './core/clock.js'
export type { Clock, TimerHandle } from './core/clock.js'
export { createLogger } from './core/logger.js'
export type { Logger, LogLevel } from './core/logger.js'
export type {
  ActorCounts,
  ActorSnapshot,
  InstanceSnapshot,
  Listener,
  SystemSnapshot,
  TroupeEvent,
  TroupeEventType,
} from './core/inspection.js'
