// TCP hole punching between two hosts behind NAT, with Node's own `net` and nothing else: the
// check behind docs/edge.md#hole-punching. Run by scripts/tcp-hole-punch.sh, which builds the
// namespaces; this file is both ends.
//
//   node tcp-hole-punch.mjs rendezvous <ip> <port>
//       A public host: each peer connects to it, it answers each with the address it saw the
//       other come from (its NAT mapping), once both are there.
//   node tcp-hole-punch.mjs peer <name> <rendezvous ip:port> <mode> <port>
//       Listens on <port> as an agent does, learns the other peer's mapped address from the
//       rendezvous, then connects to it, retrying for 10 s, and prints one JSON line with what
//       happened. Modes, each a port the dial could leave from:
//       listen-port  <port> itself, so that the mapping others dial leads to the listener.
//       punch-port   <port> + 1, which nothing listens on (every socket on it bound with
//                    SO_REUSEADDR, as libuv does for any explicit bind).
//       ephemeral    a port the kernel picks, to the other's mapping: what libp2p's TCP transport
//                    does (net.connect without a local port).

import net from 'node:net'

const [role, ...args] = process.argv.slice(2)
const say = (fields) => console.log(JSON.stringify(fields))

if (role === 'rendezvous') rendezvous(args[0], Number(args[1]))
else if (role === 'peer') await peer(args[0], args[1], args[2], Number(args[3]))
else throw new Error(`unknown role ${role}`)

function rendezvous(host, port) {
  const waiting = new Map()
  net.createServer((socket) => {
    socket.setEncoding('utf8')
    socket.once('data', (line) => {
      const name = line.trim()
      const seen = `${socket.remoteAddress}:${socket.remotePort}`
      say({ rendezvous: 'saw', name, from: seen })
      waiting.set(name, { socket, seen })
      if (waiting.size < 2) return
      const [a, b] = [...waiting.values()]
      // Both at once, so the two dials start within a round trip of each other.
      a.socket.write(`${b.seen}\n`)
      b.socket.write(`${a.seen}\n`)
      waiting.clear()
    })
    socket.on('error', () => {})
  }).listen(port, host)
}

async function peer(name, rendezvousAddress, mode, port) {
  const [rendezvousHost, rendezvousPort] = splitAddress(rendezvousAddress)
  const server = net.createServer((socket) => socket.end(`${name} via listener\n`))
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject).listen(port, '0.0.0.0'))
  // Ask the rendezvous from the port the dial will leave from, so the mapping it reports is the
  // one the other side must aim at. A port that listens cannot dial (EADDRINUSE), so then the
  // rendezvous sees an ephemeral port instead.
  const localPort = { 'listen-port': port, 'punch-port': port + 1, ephemeral: undefined }[mode]
  let toRendezvous = await connect({ host: rendezvousHost, port: rendezvousPort, localPort })
  let rendezvousFrom = localPort === undefined ? 'ephemeral port' : 'punch port'
  if (!toRendezvous.ok) {
    say({ name, mode, step: 'rendezvous from the punch port', error: toRendezvous.error })
    toRendezvous = await connect({ host: rendezvousHost, port: rendezvousPort })
    rendezvousFrom = 'ephemeral port'
  }
  if (!toRendezvous.ok) throw new Error(`rendezvous unreachable: ${toRendezvous.error}`)
  const socket = toRendezvous.socket
  socket.setEncoding('utf8')
  socket.write(`${name}\n`)
  const other = (await new Promise((resolve) => socket.once('data', resolve))).trim()
  say({ name, mode, rendezvousFrom, localPort: socket.localPort, otherMapped: other })
  const [otherHost, otherPort] = splitAddress(other)

  const attempts = []
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const result = await connect({ host: otherHost, port: otherPort, localPort, timeoutMs: 3000 })
    if (result.ok) {
      const link = result.socket
      link.setEncoding('utf8')
      link.write(`hello from ${name}\n`)
      const heard = await Promise.race([
        new Promise((resolve) => link.once('data', (data) => resolve(String(data).trim()))),
        new Promise((resolve) => setTimeout(() => resolve('(nothing within 3 s)'), 3000)),
      ])
      say({ name, mode, result: 'connected', local: `${link.localAddress}:${link.localPort}`, remote: `${link.remoteAddress}:${link.remotePort}`, heard, failedAttempts: attempts })
      setTimeout(() => process.exit(0), 500)
      return
    }
    attempts.push(result.error)
    if (result.error.startsWith('EADDRINUSE')) break // it will not change by retrying
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  say({ name, mode, result: 'failed', failedAttempts: summarise(attempts) })
  process.exit(1)
}

function connect({ host, port, localPort, timeoutMs = 3000 }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, ...(localPort === undefined ? {} : { localPort }) })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ ok: false, error: `timeout after ${timeoutMs} ms` })
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve({ ok: true, socket })
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      resolve({ ok: false, error: `${error.code}: ${error.message}` })
    })
  })
}

/** Runs of the same error as "error ×n", in order. */
function summarise(errors) {
  const runs = []
  for (const error of errors) {
    const last = runs[runs.length - 1]
    if (last && last.error === error) last.times += 1
    else runs.push({ error, times: 1 })
  }
  return runs.map(({ error, times }) => (times > 1 ? `${error} ×${times}` : error))
}

function splitAddress(address) {
  const colon = address.lastIndexOf(':')
  return [address.slice(0, colon).replace(/^::ffff:/, ''), Number(address.slice(colon + 1))]
}
