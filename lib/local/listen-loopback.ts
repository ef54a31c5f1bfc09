import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Starts a local emulator's server on 127.0.0.1 (`port` 0: any free one) and gives its address. */
export async function listenLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
