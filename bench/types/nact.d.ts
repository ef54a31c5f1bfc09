// The part of nact 7's API the benchmark uses (nact ships no types).
declare module 'nact' {
  namespace nact {
    interface Ref {
      readonly path: unknown
    }
    interface Context {
      sender: Ref
      self: Ref
      parent: Ref
      name: string
      children: Map<string, Ref>
    }
    type Receive<S, M> = (state: S, msg: M, ctx: Context) => S | Promise<S>
    function start(): Ref
    function spawn<S, M>(parent: Ref, f: Receive<S, M>, name?: string, properties?: { initialState?: S }): Ref
    function dispatch(actor: Ref, msg: unknown, sender?: Ref): void
    function query(actor: Ref, msg: unknown, timeoutMs: number): Promise<unknown>
    function stop(actor: Ref): void
  }
  export default nact
}
