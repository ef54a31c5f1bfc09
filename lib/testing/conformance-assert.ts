// What the conformance suites (store-conformance.ts, journal-conformance.ts, …) need of a test runner,
// and how each of their cases gets a fresh store.

/**
 * The assertions the suite uses. tap's `Test` fits as it is; another runner needs only
 * these methods.
 */
export interface Assert {
  // The subtest is typed loosely so a runner's own, richer test type fits; the suite uses it as an Assert.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  test(name: string, fn: (t: any) => Promise<void>): unknown
  equal(found: unknown, wanted: unknown, ...message: Message): unknown
  strictSame(found: unknown, wanted: unknown, ...message: Message): unknown
  match(found: unknown, pattern: unknown, ...message: Message): unknown
  ok(value: unknown, ...message: Message): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rejects(fn: Promise<unknown> | (() => Promise<unknown>), ...wanted: any[]): Promise<unknown>
}

type Message = [] | [message: string]

/** A store a suite's factory makes: closed after its case, if it can be. */
export type Closable<S> = S & { close?(): Promise<void> }

/** A subtest that gets a fresh store from the factory, and closes it however the case ends. */
export type StoreCase<S> = (name: string, body: (t: Assert, store: S) => Promise<void>) => unknown

/** Runs each case of a suite as a subtest of `t`, on a store the factory makes for it alone. */
export function storeCase<S>(t: Assert, factory: () => Promise<Closable<S>>): StoreCase<S> {
  return (name, body) =>
    t.test(name, async (t: Assert) => {
      const store = await factory()
      try {
        await body(t, store)
      } finally {
        await store.close?.()
      }
    })
}
