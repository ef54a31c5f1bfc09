// The project folder's lock: `<dir>/dev.json`, written before anything starts there.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { CliError, messageOf } from './cli-error.js'
import { isAlive, readDevFile } from './dev-file.js'

/**
 * One troupe dev per project folder: the emulators' LevelDB files take one process at a time,
 * and a second one would crash on the lock. `dev.json` names the process that runs there; one
 * whose process is gone (a forced exit) is taken over.
 */
export function takeLock(dir: string, file: string, show: (path: string) => string): void {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (error) {
    throw new CliError(`cannot make the project folder ${show(dir)} (--dir): ${messageOf(error)}`)
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`, { flag: 'wx' })
      return
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw new CliError(`cannot write ${show(file)}: ${messageOf(error)}`)
    }
    const pid = readDevFile(file)?.pid
    if (pid !== undefined && isAlive(pid)) {
      throw new CliError(`${show(dir)} is in use by another troupe dev (pid ${pid}); stop it, or give another folder with --dir`)
    }
    rmSync(file, { force: true }) // left by a process that is gone
  }
  throw new CliError(`cannot take ${show(file)}: another troupe dev is starting in ${show(dir)}`)
}
