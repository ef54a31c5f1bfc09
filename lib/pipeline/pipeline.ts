// Pipelines declared in code: a typed processing graph over actor classes.
//
//   const orders = pipeline('orders')
//     .from(ParseOrder)                 // what you tell; its reply flows on
//     .pipe(Validate)                   // Validate's mailbox must take ParseOrder's reply
//     .fork(PriceOrder, CheckStock)     // both get Validate's reply, at once
//     .join(Decide, { timeoutMs: 5_000 })  // Decide takes Joined<[PriceOrder, CheckStock], …>
//     .pipe(Ship)
//   createSystem({ actors: orders.actors })
//
// A stage's reply is its output: `undefined` or `null` stops the message there (a filter).
// Naming a stage that is already in the pipeline leads back to it: a loop, such as a crawler's
// `.from(PageUrl).pipe(PageBody).each(PageUrl)`.
import type { ActorClass, InOf, ReplyOf } from '../core/actor.js'
import { ConfigError } from '../core/errors.js'
import type { Joined } from '../core/fork.js'
import { nodeOf, type GraphEdge, type PipelineGraph } from './graph.js'
import { stageOf, type Route } from './stage.js'

/** What a stage passes on: its reply, less the `undefined`/`null` that stops a message. */
export type OutputOf<C extends ActorClass> = Exclude<ReplyOf<C>, undefined | null | void>

/** `unknown` when `N` takes `T`; else a type no class has, naming the mismatch in the error. */
type Takes<T, N extends ActorClass> = [T] extends [InOf<N>] ? unknown : { readonly 'this stage does not take the previous stage\'s output': T }

/** `unknown` when every class of `T` takes `Out`. */
type AllTake<Out, T extends readonly ActorClass[]> = { [I in keyof T]: [Out] extends [InOf<T[I]>] ? true : false }[number] extends true
  ? unknown
  : { readonly 'a forked stage does not take the previous stage\'s output': Out }

type ItemOf<T> = T extends readonly (infer E)[] ? Exclude<E, undefined | null> : never

interface Definition {
  name: string
  source: ActorClass | undefined
  stages: ActorClass[]
  /** The stage classes by the user's class. */
  byClass: Map<ActorClass, ActorClass>
  routes: Map<ActorClass, Route>
  edges: GraphEdge[]
}

/** What every position of a pipeline offers: the whole pipeline's actors and graph. */
export interface PipelineInfo {
  readonly name: string
  /** The stage classes to give `createSystem` / `defineApp` (subclasses of yours, same type names). */
  readonly actors: readonly ActorClass[]
  /** Nodes and edges, for `troupe graph`. */
  graph(): PipelineGraph
}

/** A pipeline at a point where messages of type `Out` come out. */
export interface Pipeline<Out> extends PipelineInfo {
  /** The next stage takes this output as its message. */
  pipe<N extends ActorClass>(next: N & Takes<Out, N>): Pipeline<OutputOf<N>>
  /** The output is an array: the next stage takes each item as its own message. */
  each<N extends ActorClass>(
    next: N & ([Out] extends [readonly unknown[]] ? Takes<ItemOf<Out>, N> : { readonly '.each needs a previous stage that replies an array': Out }),
  ): Pipeline<OutputOf<N>>
  /** Every stage named gets the output at once; `.join(…)` names the stage that gets their replies. */
  fork<const T extends readonly ActorClass[]>(...stages: T & AllTake<Out, T>): ForkedPipeline<T, Out>
}

export interface ForkedPipeline<T extends readonly ActorClass[], Value> {
  /** The stage that takes the branches' replies, as a tuple, with the forked output as `value`; it runs once per fork. */
  join<J extends ActorClass>(
    stage: J & ([Joined<T, Value>] extends [InOf<J>] ? unknown : { readonly 'join stage does not take Joined<...> of this fork': Joined<T, Value> }),
    options: { timeoutMs: number },
  ): Pipeline<OutputOf<J>>
}

/** The start of a pipeline: name its source. */
export interface PipelineStart {
  readonly name: string
  /** The first stage: what you tell. Its reply is the output that flows on. */
  from<S extends ActorClass>(source: S): Pipeline<OutputOf<S>>
}

/**
 * Declares a pipeline: a chain (with forks and joins) of actor classes in which each stage's
 * reply becomes the next stage's message, checked at compile time against its mailbox.
 *
 * @example
 * export const orders = pipeline('orders').from(ParseOrder).pipe(Validate).fork(Price, Stock).join(Decide, { timeoutMs: 5_000 })
 * const system = createSystem({ actors: orders.actors })
 * await system.tell(ParseOrder, { raw })
 */
export function pipeline(name: string): PipelineStart {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new ConfigError(`pipeline name must be 1 to 64 letters, digits, "_", "-" or ".", starting with a letter; got ${JSON.stringify(name)}`)
  }
  const def: Definition = { name, source: undefined, stages: [], byClass: new Map(), routes: new Map(), edges: [] }
  return {
    name,
    from(source) {
      if (def.source) throw new ConfigError(`pipeline ${name} already starts at ${def.source.type}`)
      def.source = source
      return at(def, [add(def, source)]) as never
    },
  }
}

/** Adds a stage, once: naming a class that is already a stage again leads back to it (a loop). */
function add(def: Definition, cls: ActorClass): ActorClass {
  if (typeof cls !== 'function' || typeof cls.type !== 'string') throw new ConfigError(`pipeline ${def.name}: a stage must be an actor class, got ${String(cls)}`)
  const known = def.byClass.get(cls)
  if (known) return known
  const stage: ActorClass = stageOf(cls, (): Route | undefined => def.routes.get(stage))
  def.byClass.set(cls, stage)
  def.stages.push(stage)
  return stage
}

function route(def: Definition, from: ActorClass, r: Route): void {
  if (def.routes.has(from)) throw new ConfigError(`pipeline ${def.name}: ${from.type} already goes on; to send its output to several stages, use .fork(…)`)
  def.routes.set(from, r)
}

/** The pipeline positioned after `last` (one stage; after a join, the join stage). */
function at(def: Definition, last: readonly ActorClass[]): Pipeline<unknown> {
  const from = last[0]!
  const info: PipelineInfo = {
    name: def.name,
    get actors() {
      return [...def.stages]
    },
    graph: () => ({ name: def.name, nodes: def.stages.map(nodeOf), edges: [...def.edges] }),
  }
  return {
    ...info,
    get actors() {
      return info.actors
    },
    pipe(next: ActorClass) {
      const to = add(def, next)
      route(def, from, { kind: 'pipe', to })
      def.edges.push({ from: from.type, to: to.type, kind: 'pipe' })
      return at(def, [to])
    },
    each(next: ActorClass) {
      const to = add(def, next)
      route(def, from, { kind: 'each', to })
      def.edges.push({ from: from.type, to: to.type, kind: 'each' })
      return at(def, [to])
    },
    fork(...stages: ActorClass[]) {
      if (stages.length < 2) throw new ConfigError(`pipeline ${def.name}: fork after ${from.type} needs two stages or more; use .pipe(…) for one`)
      const branches = stages.map((s) => add(def, s))
      for (const b of branches) def.edges.push({ from: from.type, to: b.type, kind: 'fork' })
      return {
        join(stage: ActorClass, options: { timeoutMs: number }) {
          if (!(typeof options?.timeoutMs === 'number' && options.timeoutMs > 0)) {
            throw new ConfigError(`pipeline ${def.name}: join ${stage?.type} needs timeoutMs above 0, got ${String(options?.timeoutMs)}`)
          }
          const join = add(def, stage)
          route(def, from, { kind: 'fork', to: branches, join, timeoutMs: options.timeoutMs })
          for (const b of branches) def.edges.push({ from: b.type, to: join.type, kind: 'join' })
          return at(def, [join])
        },
      }
    },
  } as never
}
