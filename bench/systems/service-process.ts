// A part of the bench's world in a process of its own (the local AWS servers, the Lambda
// service): a TypeScript entry run with tsx, which writes one JSON line on stdout once it serves,
// and stops when told (SIGTERM) or when its stdin closes, so it never outlives the bench child.
import { spawn, type ChildProcess } from 'node:child_process'

const START_TIMEOUT_MS = 60_000

export interface ServiceProcess<T> {
  /** The first line the process wrote. */
  info: T
  pid: number
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>
}

/** Starts `entry` with `args`; `what` names it in errors. */
export function startServiceProcess<T>(entry: string, args: string[], what: string): Promise<ServiceProcess<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
    function fail(e: Error) {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(e)
    }
    child.once('error', fail)
    child.once('exit', (code, signal) => fail(new Error(`${what} exited (${signal ?? code}) before it served`)))
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      child.removeAllListeners('error')
      child.stdout!.removeAllListeners('data')
      child.stdout!.resume()
      let info: T
      try {
        info = JSON.parse(out.slice(0, nl)) as T
      } catch {
        return fail(new Error(`${what} wrote ${JSON.stringify(out.slice(0, 200))} where its first line, JSON, was due`))
      }
      resolve({ info, pid: child.pid!, stop: () => stopChild(child) })
    })
  })
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once `child` exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(killer)
}
