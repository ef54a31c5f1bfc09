// The Lambda runtimes the host function runs on. AWS deprecates a Node runtime when its Node
// reaches end of life and then refuses to create functions on it: Node 20's ended in April 2026.

/** The runtimes troupe deploys to, newest first. */
export const LAMBDA_RUNTIMES = ['nodejs24.x', 'nodejs22.x'] as const
export type LambdaRuntime = (typeof LAMBDA_RUNTIMES)[number]
export const DEFAULT_LAMBDA_RUNTIME: LambdaRuntime = 'nodejs24.x'

/** The Node major a runtime runs (`nodejs24.x` → 24). */
export function nodeMajor(runtime: LambdaRuntime): number {
  return Number(runtime.slice('nodejs'.length, runtime.indexOf('.')))
}

/** The Node a runtime runs, as esbuild names a target (`node24`): the bundle is built for it. */
export function nodeTarget(runtime: LambdaRuntime): string {
  return `node${nodeMajor(runtime)}`
}

export function isLambdaRuntime(value: unknown): value is LambdaRuntime {
  return (LAMBDA_RUNTIMES as readonly unknown[]).includes(value)
}
