/** Where a command writes: the process's streams, or a test's own. */
export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}
