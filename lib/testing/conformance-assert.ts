// What the conformance suites (store-conformance.ts, journal-conformance.ts) need of a test runner.

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
