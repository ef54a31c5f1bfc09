// Runs kinesis-local (kinesis-mock compiled to JS) in a child process for local-stack.ts.
//
// kinesis-local starts its HTTP and HTTPS servers as soon as its module loads, takes its ports
// from KINESIS_MOCK_PLAIN_PORT / KINESIS_MOCK_TLS_PORT and binds every interface. This launcher
// asks for free ports (0), pins every listen() onto 127.0.0.1, finds which of the two servers
// speaks plain HTTP by asking it, and reports that port to the parent over IPC as { ready }.
// It exits when the parent disconnects or sends SIGTERM, so it never outlives its stack.
'use strict'
const net = require('node:net')
const path = require('node:path')

const HOST = '127.0.0.1'
const PROBE_TIMEOUT_MS = 5000
/** A starved machine may answer late: a probe that got no answer at all is tried again. */
const PROBE_RETRY_MS = 250

const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (args.length && typeof args[0] === 'object' && args[0] !== null) args[0] = { ...args[0], host: HOST }
  else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    if (typeof args[1] === 'string') args[1] = HOST
    else args.splice(1, 0, HOST)
  }
  this.once('listening', () => {
    const address = this.address()
    if (address && typeof address === 'object') probe(address.port)
  })
  return originalListen.apply(this, args)
}

let reported = false
function probe(port) {
  const socket = net.connect(port, HOST, () => socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`))
  let head = ''
  socket.setTimeout(PROBE_TIMEOUT_MS, () => socket.destroy())
  socket.on('data', (chunk) => {
    head += chunk.toString('latin1')
    if (head.length >= 5) socket.destroy()
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    if (reported) return
    if (head.startsWith('HTTP/')) {
      reported = true
      process.send?.({ ready: port })
    } else if (head.length === 0) {
      // No answer (the TLS server may close on plain text, or the loop was too busy): ask again
      // until the plain one answers; the parent's start timeout bounds it.
      setTimeout(() => probe(port), PROBE_RETRY_MS).unref()
    }
  })
}

process.env.KINESIS_MOCK_PLAIN_PORT = '0'
process.env.KINESIS_MOCK_TLS_PORT = '0'
process.env.KINESIS_MOCK_CERT_PATH ||= path.join(path.dirname(require.resolve('kinesis-local/package.json')), 'server.json')

process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
// A terminal's Ctrl-C reaches the whole process group: the parent decides when this one stops
// (SIGTERM or disconnect), after kinesis-mock's once-a-second save has had its chance.
process.on('SIGINT', () => {})

try {
  require('kinesis-local/main.js')
} catch (e) {
  process.send?.({ error: `cannot load kinesis-local (npm install --save-dev kinesis-local): ${e && e.message}` })
  process.exit(1)
}
