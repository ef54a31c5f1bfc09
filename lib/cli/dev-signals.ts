// How `troupe dev` hears SIGINT and SIGTERM while it runs: the run checks `received` between its
// start-up steps and waits on `stopped` once it is ready.

/** The first SIGINT/SIGTERM asks for a clean stop; a second one exits at once. */
export class Signals {
  received: NodeJS.Signals | undefined
  readonly stopped: Promise<NodeJS.Signals>
  private resolve!: (signal: NodeJS.Signals) => void

  constructor(private readonly stderr: NodeJS.WritableStream) {
    this.stopped = new Promise((resolve) => (this.resolve = resolve))
    process.on('SIGINT', this.handle)
    process.on('SIGTERM', this.handle)
  }

  private readonly handle = (signal: NodeJS.Signals): void => {
    if (this.received) {
      this.stderr.write(`troupe dev: ${signal} again: exiting now, without a clean stop\n`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    this.received = signal
    this.stderr.write(`\ntroupe dev: ${signal}: stopping (send it again to force the exit)\n`)
    this.resolve(signal)
  }

  dispose(): void {
    process.off('SIGINT', this.handle)
    process.off('SIGTERM', this.handle)
  }
}
