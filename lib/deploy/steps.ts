// How `troupe deploy` runs its steps: each resource is read first, then created, updated or left
// alone; under a dry run the read decides what the step would do and nothing is changed. Each
// step is reported twice to `onProgress` when it changes something (started, done), once when
// it does not.
import { TroupeError } from '../core/errors.js'

export type DeployResource =
  | 'stream'
  | 'table'
  | 'table-ttl'
  | 'table-pitr'
  | 'role'
  | 'role-policy'
  | 'function'
  | 'function-code'
  | 'function-config'
  | 'event-source-mapping'
  | 'tick-rule'
  | 'tick-permission'
  | 'tick-target'

/**
 * - `create`, `update`: changed (or, under a dry run, would change).
 * - `unchanged`: as wanted already.
 * - `skipped`: the endpoint lacks the API (a local emulator): nothing to do there.
 */
export type DeployAction = 'create' | 'update' | 'unchanged' | 'skipped'

export interface DeployStep {
  resource: DeployResource
  /** The resource's name (a stream, the table, the function, …). */
  name: string
  action: DeployAction
  /** What changes, or why nothing does. */
  detail?: string
}

export interface DeployProgress extends DeployStep {
  /** False as a change starts (it may take a while), true once it is done or decided. */
  done: boolean
  dryRun: boolean
}

export class Steps {
  readonly list: DeployStep[] = []

  constructor(
    readonly dryRun: boolean,
    private readonly onProgress: ((progress: DeployProgress) => void) | undefined,
  ) {}

  /** Records a step; runs `change` unless the step changes nothing or this is a dry run. */
  async run(step: DeployStep, change?: () => Promise<void>): Promise<void> {
    const changes = step.action === 'create' || step.action === 'update'
    if (changes && !this.dryRun) {
      this.onProgress?.({ ...step, done: false, dryRun: false })
      try {
        await change?.()
      } catch (error) {
        throw new TroupeError('TROUPE_DEPLOY', `${verb(step.action)} ${step.resource} ${step.name} failed: ${messageOf(error)}`, { cause: error })
      }
    }
    this.record(step)
  }

  /** Records a step whose change already ran (or that changes nothing). */
  record(step: DeployStep): void {
    this.list.push(step)
    this.onProgress?.({ ...step, done: true, dryRun: this.dryRun })
  }

  /** Reads, wrapped so that a failure names what was being read. */
  async read<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read()
    } catch (error) {
      throw new TroupeError('TROUPE_DEPLOY', `reading ${what} failed: ${messageOf(error)}`, { cause: error })
    }
  }
}

function verb(action: DeployAction): string {
  return action === 'create' ? 'creating' : 'updating'
}

export function errorName(e: unknown): string | undefined {
  const name = (e as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return errorName(e) && !e.message.includes(e.name) && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message
  return String(e)
}

/** Is `e` an AWS error of one of these names? */
export function isError(e: unknown, ...names: string[]): boolean {
  return names.includes(errorName(e) ?? '')
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface WaitOptions {
  timeoutMs: number
  /** First wait between polls; doubles up to a second. */
  firstPollMs?: number
}

/** Polls `check` until it answers something other than undefined; throws after the timeout, naming `what`. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (let wait = options.firstPollMs ?? 10; ; wait = Math.min(wait * 2, 1_000)) {
    const found = await check()
    if (found !== undefined) return found
    if (Date.now() + wait > deadline) throw new TroupeError('TROUPE_DEPLOY_TIMEOUT', `${what} did not happen within ${options.timeoutMs} ms`)
    await sleep(wait)
  }
}

/**
 * Runs `call`, again after each of `delaysMs` while `retryable` says the failure is one that
 * passes with time (IAM is eventually consistent: a new role or policy takes seconds to reach
 * Lambda). The last failure is thrown.
 */
export async function retrying<T>(call: () => Promise<T>, retryable: (e: unknown) => boolean, delaysMs: readonly number[]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const delay = delaysMs[attempt]
      if (delay === undefined || !retryable(error)) throw error
      await sleep(delay)
    }
  }
}
