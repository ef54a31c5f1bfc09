// What every benchmarked system provides: one handle per workload, each doing the same work.
// Each adapter builds its own idiomatic message per send (one object per message for all).

/**
 * W2D is W2 with all-distinct keys (the W2 adapter, one message per key); W4S a saga (the W4
 * adapter with a fork of 2 and a join, on AWS); W6 is the cold start; W7 one large state.
 */
export type WorkloadName = 'W1' | 'W2' | 'W2D' | 'W3' | 'W4' | 'W4S' | 'W6' | 'W7'

/** W1: one producer, fire-and-forget messages to one counting actor. */
export interface TellHandle {
  send(by: number): void
  /** Resolves once the counter has processed the n-th message. */
  done(): Promise<void>
  count(): number | Promise<number>
  /** More columns for the rep line (the AWS adapters' requests per message), read after count(). */
  metrics?(): Record<string, number> | Promise<Record<string, number>>
  teardown(): unknown
}

/** W2: many keyed counters, messages addressed by key. */
export interface ManyHandle {
  send(key: string, by: number): void
  /** Resolves once every counter has processed its share. */
  done(): Promise<void>
  total(): number | Promise<number>
  /** More columns for the rep line (the AWS adapters' requests per message), read after total(). */
  metrics?(): Record<string, number> | Promise<Record<string, number>>
  teardown(): unknown
}

/** W3: sequential request/reply; the reply is the counter's value after the request. */
export interface AskHandle {
  ask(): Promise<number>
  teardown(): unknown
}

/**
 * W4: one fork/join. `fanout` children each get `x`; child j replies `x + j`; the join sums
 * the replies. Resolves to the sum, once every child replied.
 */
export interface ForkJoinHandle {
  forkJoin(x: number): Promise<number>
  /** More columns for the rep line (the AWS adapters' requests and dollars per fork/join), read after the last. */
  metrics?(): Record<string, number> | Promise<Record<string, number>>
  teardown(): unknown
}

export interface BenchSystem {
  readonly name: string
  /** How the adapter does each workload, printed with the results. */
  readonly notes: Partial<Record<WorkloadName, string>>
  W1?(n: number): TellHandle | Promise<TellHandle>
  W2?(keys: readonly string[], perActor: number): ManyHandle | Promise<ManyHandle>
  W3?(): AskHandle | Promise<AskHandle>
  W4?(fanout: number): ForkJoinHandle | Promise<ForkJoinHandle>
  /** W7: one singleton whose state holds a count per key of `keys`, made before the clock starts; `send(key, by)` adds to one, `done` after n sends. */
  W7?(keys: readonly string[], n: number): ManyHandle | Promise<ManyHandle>
  /** Builds the Lambda bundle and measures `runs` module inits, each in a fresh process. */
  W6?(runs: number): Promise<Record<string, number>>
  /** Stops what the adapter keeps across runs in this process (the AWS adapters' server process). */
  close?(): Promise<void>
}

/** A promise and the function that resolves it. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
