// The local AWS servers for the AWS benchmark, in a process of their own: dynalite and kinesalite
// (in memory, random ports on 127.0.0.1) through troupe's startLocalStack. Started by the bench
// child (aws-stack.ts), which reads the endpoints from the first line on stdout. It stops when
// told (SIGTERM) or when its stdin closes, so it never outlives the child that started it, even
// one that was killed.
import { startLocalStack } from '../../lib/local/local-stack.js'

const stack = await startLocalStack({ kinesis: 'kinesalite' })
process.stdout.write(`${JSON.stringify({ dynamodbEndpoint: stack.dynamodbEndpoint, kinesisEndpoint: stack.kinesisEndpoint })}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  const exit = () => process.exit(0)
  stack.stop().then(exit, exit)
  setTimeout(exit, 2_000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
