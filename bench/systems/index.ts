// The systems the benchmark knows, loaded lazily so a child process imports only the one it runs.
import type { BenchSystem, WorkloadName } from './system.js'

/** `local`: in one process. `aws`: on local Kinesis and DynamoDB servers (and W6). `restate`: on a Restate server. */
export type Suite = 'local' | 'aws' | 'restate'
export const SUITE_NAMES: readonly Suite[] = ['local', 'aws', 'restate']
/** What `npm run bench` runs without --full: Restate is in the full run only. */
export const DEFAULT_SUITES: readonly Suite[] = ['local', 'aws']

export interface SystemEntry {
  load(): Promise<BenchSystem>
  /** The workloads it runs unless --workloads/--systems say otherwise. */
  defaultWorkloads: readonly WorkloadName[]
  /** Which part of the benchmark it belongs to (and so which sizes it runs, unless `sizedAs` says otherwise). @default 'local' */
  suite?: Suite
  /** Runs in the full run (--full) only, unless named with --systems. */
  fullOnly?: boolean
  /** Workloads it runs at another suite's sizes: those of the peer it is compared with. */
  sizedAs?: Partial<Record<WorkloadName, Suite>>
}

const troupeVariant = (name: string, asyncReceive: boolean, checkSerializable: boolean, forkInTurn = false, noRollback = false) => async () =>
  (await import('./troupe.js')).troupe({ name, asyncReceive, checkSerializable, forkInTurn, noRollback })

const ALL: readonly WorkloadName[] = ['W1', 'W2', 'W3', 'W4']

export const SYSTEMS: Record<string, SystemEntry> = {
  // The limits: a function call per message, Node's EventEmitter, a hand-written mailbox.
  'function-call': { load: async () => (await import('./function-call.js')).functionCall, defaultWorkloads: [...ALL, 'W7'] },
  'event-emitter': { load: async () => (await import('./event-emitter.js')).eventEmitter, defaultWorkloads: ALL },
  mailbox: { load: async () => (await import('./mailbox.js')).mailbox, defaultWorkloads: ['W1', 'W2', 'W3', 'W4'] },
  'xstate-machine': {
    load: async () => (await import('./xstate-machine.js')).xstateMachine,
    defaultWorkloads: ['W1', 'W2', 'W3', 'W4'],
  },
  // The peers in one process.
  'xstate-transition': { load: async () => (await import('./xstate-transition.js')).xstateTransition, defaultWorkloads: ALL },
  nact: { load: async () => (await import('./nact.js')).nactSystem, defaultWorkloads: ALL },
  comedy: { load: async () => (await import('./comedy.js')).comedy, defaultWorkloads: ALL },
  // W4's limit: fork/join by hand with Promise.all.
  promises: { load: async () => (await import('./promises.js')).promises, defaultWorkloads: ['W4'] },
  // The production setting: checkSerializable off. W4 through system.fork, from outside a turn.
  troupe: { load: troupeVariant('troupe', false, false), defaultWorkloads: ['W1', 'W2', 'W3', 'W4', 'W7'] },
  // W7's reference: the same actor on its state itself, with no rollback of a failed turn.
  'troupe-no-rollback': { load: troupeVariant('troupe-no-rollback', false, false, false, true), defaultWorkloads: ['W7'] },
  // W4 inside the actor world: a parent actor forks in its turn, a join actor resolves the caller.
  'troupe-fork-in-turn': { load: troupeVariant('troupe-fork-in-turn', false, false, true), defaultWorkloads: ['W4'] },
  'troupe-async': { load: troupeVariant('troupe-async', true, false), defaultWorkloads: ['W1'] },
  // The development and test default, so users see what the check costs.
  'troupe-checked': { load: troupeVariant('troupe-checked', false, true), defaultWorkloads: ['W1', 'W7'] },
  // The AWS mode on kinesalite + dynalite; its references on the same servers are further down.
  'troupe-aws': { load: async () => (await import('./troupe-aws.js')).troupeAws, defaultWorkloads: ['W1', 'W2', 'W2D', 'W3', 'W4S'], suite: 'aws' },
  // The same with ordering 'batched': a hot key's records share PutRecords calls; FIFO per key can break when Kinesis fails part of a call.
  'troupe-aws-batched': { load: async () => (await import('./troupe-aws.js')).troupeAwsBatched, defaultWorkloads: ['W1'], suite: 'aws', fullOnly: true },
  // What flow control adds: troupe-aws at the mapping's batch size (100) without it, with a type
  // throttle and with a concurrency cap that hold nothing back (run.ts's `flow` line, bench/README.md).
  'troupe-aws-b100': { load: async () => (await import('./troupe-aws.js')).troupeAwsB100, defaultWorkloads: ['W2D'], suite: 'aws' },
  'troupe-aws-b100-throttle': { load: async () => (await import('./troupe-aws.js')).troupeAwsB100Throttle, defaultWorkloads: ['W2D'], suite: 'aws' },
  'troupe-aws-b100-cap': { load: async () => (await import('./troupe-aws.js')).troupeAwsB100Cap, defaultWorkloads: ['W2D'], suite: 'aws' },
  // The Lambda path: the bundled host in child processes, fed by the local event source mapping.
  'troupe-lambda': { load: async () => (await import('./troupe-lambda.js')).troupeLambda, defaultWorkloads: ['W1', 'W2D', 'W3'], suite: 'aws' },
  // ask by a direct Lambda Invoke through the local Invoke API.
  // Its W3 has Restate's sizes: the two are compared at the same number of asks.
  'troupe-lambda-invoke': { load: async () => (await import('./troupe-lambda.js')).troupeLambdaInvoke, defaultWorkloads: ['W3'], suite: 'aws', sizedAs: { W3: 'restate' } },
  // W6: the flagship example's Lambda bundle, its size and module init.
  'troupe-bundle': { load: async () => (await import('./troupe-bundle.js')).troupeBundle, defaultWorkloads: ['W6'], suite: 'aws' },
  // The durable peer (the full run only): restate-server and the SDK endpoint on loopback.
  restate: { load: async () => (await import('./restate.js')).restateSystem, defaultWorkloads: ALL, suite: 'restate' },
  // The ceiling: PutRecords in 500-batches, then GetRecords of every shard; no troupe, no state.
  'raw-kinesis': { load: async () => (await import('./raw-kinesis.js')).rawKinesis, defaultWorkloads: ['W1', 'W2'], suite: 'aws' },
  // The limit for all-distinct keys: one conditional PutItem per message, 16 in flight; no Kinesis.
  'raw-dynalite': { load: async () => (await import('./raw-dynalite.js')).rawDynalite, defaultWorkloads: ['W2D'], suite: 'aws' },
  // The baseline: one PutRecord per message, GetItem + PutItem per message in the consumer.
  'hand-lambda': { load: async () => (await import('./hand-lambda.js')).handLambda, defaultWorkloads: ['W1', 'W2'], suite: 'aws' },
}

export const suiteOf = (system: string): Suite => SYSTEMS[system]?.suite ?? 'local'
/** The suite whose sizes `system` runs `workload` at. */
export const sizeSuiteOf = (system: string, workload: WorkloadName): Suite => SYSTEMS[system]?.sizedAs?.[workload] ?? suiteOf(system)

/** The baselines troupe's ratio lines compare against (the targets are in ../targets.ts). */
export const BASELINES = ['function-call', 'event-emitter', 'mailbox', 'xstate-machine', 'xstate-transition', 'nact', 'comedy', 'promises', 'troupe-no-rollback'] as const

/** The AWS suite's references: troupe-aws's ratio lines compare against these. */
export const AWS_BASELINES = ['raw-kinesis', 'raw-dynalite', 'hand-lambda'] as const

/** The flow line: each variant's requests per message against the same system without flow control. */
export const FLOW_BASE = 'troupe-aws-b100'
export const FLOW_VARIANTS: Readonly<Record<string, string>> = { 'troupe-aws-b100-throttle': 'a type throttle (policy.throttle)', 'troupe-aws-b100-cap': 'a concurrency cap (policy.concurrency)' }
