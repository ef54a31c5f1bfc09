// `<dir>/dev.json`: where a running `troupe dev` says it is. troupe dev creates it to take the
// project folder (one troupe dev per folder: the emulators' files take one process at a time),
// adds the inspection URL as soon as it serves inspection, everything else once ready, and
// removes it when it stops. `troupe inspect` and `troupe ui` read it when given no --url or
// --table, so they find the troupe dev of the folder they run in.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { DevReady } from './dev-report.js'

/** The project folder troupe dev uses unless told otherwise (--dir). */
export const DEV_DIR = '.troupe'
export const DEV_FILE = 'dev.json'

/** What dev.json holds: always the process, then what has started so far. */
export type DevFile = { pid: number; startedAt: string } & (
  | { event?: undefined }
  | ({ event: 'starting' } & Pick<DevReady, 'inspect' | 'dynamodb' | 'kinesis'>)
  | DevReady
)

/**
 * Replaces the file's content in one step (a temporary file renamed over it): a reader never
 * sees half of it, and the file, which is the folder's lock, never goes missing meanwhile.
 */
export function writeDevFile(file: string, content: DevFile): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`)
  renameSync(temporary, file)
}

/** The file's content, or undefined when there is none or it is not troupe dev's. */
export function readDevFile(file: string): DevFile | undefined {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
  const pid = (value as { pid?: unknown } | null)?.pid
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? (value as DevFile) : undefined
}

/** Whether a process with this id exists (one of another user's counts: EPERM). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}
