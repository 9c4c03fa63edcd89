// A client of the tunnel test's echo service, run inside a host's namespace: connects to host:port,
// reads the task's greeting line (the connect latency: TCP connect, the tunnel, the far agent's
// connect to the task, and the greeting back), then sends `bytes` bytes and reads them back echoed
// (the throughput, both ways at once), then half-closes and waits for the end. Prints one JSON line.
//
//   node tunnel-client.mjs <host> <port> <bytes>

import { connect } from 'node:net'

const [host, port, bytes] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0)]
const started = performance.now()
const socket = connect({ host, port, allowHalfOpen: true })
let buffered = Buffer.alloc(0)
let greeting
let connectMs
let echoStarted
let echoed = 0
let mismatch = false
const payload = Buffer.alloc(64 * 1024)
for (let i = 0; i < payload.length; i++) payload[i] = i % 251

function sendAll() {
  let sent = 0
  const more = () => {
    while (sent < bytes) {
      const chunk = payload.subarray(0, Math.min(payload.length, bytes - sent))
      sent += chunk.length
      if (!socket.write(chunk)) return socket.once('drain', more)
    }
    socket.end()
  }
  more()
}

socket.on('data', (chunk) => {
  if (greeting === undefined) {
    buffered = Buffer.concat([buffered, chunk])
    const newline = buffered.indexOf(10)
    if (newline < 0) return
    greeting = buffered.subarray(0, newline).toString()
    connectMs = performance.now() - started
    chunk = buffered.subarray(newline + 1)
    echoStarted = performance.now()
    sendAll()
  }
  for (let i = 0; i < chunk.length && !mismatch; i++) if (chunk[i] !== ((echoed + i) % payload.length) % 251) mismatch = true
  echoed += chunk.length
})
socket.on('end', () => {
  const echoMs = performance.now() - echoStarted
  process.stdout.write(`${JSON.stringify({ greeting, connectMs: Math.round(connectMs * 10) / 10, bytes, echoed, mismatch, echoMs: Math.round(echoMs), mibPerSecond: bytes > 0 ? Math.round((bytes / 1048576 / (echoMs / 1000)) * 10) / 10 : null })}\n`)
})
socket.on('error', (error) => {
  process.stdout.write(`${JSON.stringify({ error: error.code ?? error.message, greeting: greeting ?? null })}\n`)
  process.exitCode = 1
})
