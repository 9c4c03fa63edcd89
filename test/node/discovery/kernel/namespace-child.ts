// A process run inside one test host's network namespace (`ip netns exec NS node --import tsx …`),
// driven by JSON lines on stdin, one answer line each on stdout. It can serve (a TCP and a UDP server
// on one port that answer with the host's name), be a client (connect many times and tally who
// answered), and run the real KernelForwarder with endpoints the test sets. It exits when stdin
// closes, so a test that dies takes it along.

import { createServer, connect, type Socket } from 'node:net'
import { createSocket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { KernelForwarder, kernelForwardingAvailable } from '../../../../node/discovery/kernel/index.js'
import type { Endpoint, EndpointSource, Listener, Transport } from '../../../../node/discovery/types.js'

type Command =
  | { op: 'serve'; name: string; port: number }
  | { op: 'probe'; host: string; port: number; count: number; protocol: Transport }
  | { op: 'hold'; host: string; port: number }
  | { op: 'echo'; connection: number; text: string }
  | { op: 'available' }
  | { op: 'start'; endpoints: Record<string, Endpoint[]> }
  | { op: 'apply'; listeners: Listener[] }
  | { op: 'endpoints'; endpoints: Record<string, Endpoint[]> }
  | { op: 'traffic' }
  | { op: 'close' }

/** Endpoints by `<service> <target> <protocol>`, as the test last set them. */
let table: Record<string, Endpoint[]> = {}
const source: EndpointSource = {
  ready: (service, target, protocol) =>
    (table[`${service} ${target} ${protocol}`] ?? []).filter((endpoint) => endpoint.ready).sort((a, b) => Number(b.local) - Number(a.local)),
}
let forwarder: KernelForwarder | undefined
const held = new Map<number, { socket: Socket; lines: Lines }>()

function serve(name: string, port: number): Promise<void> {
  const tcp = createServer((socket) => {
    socket.write(`${name}\n`)
    socket.on('data', (data) => socket.write(data))
    socket.on('error', () => {})
  })
  const udp = createSocket('udp4')
  udp.on('message', (_message, from) => udp.send(name, from.port, from.address))
  return Promise.all([
    new Promise<void>((resolve) => tcp.listen(port, '0.0.0.0', resolve)),
    new Promise<void>((resolve) => udp.bind(port, '0.0.0.0', resolve)),
  ]).then(() => {})
}

/** Reads a socket line by line: next() resolves with the next line, or undefined once it closed. */
class Lines {
  readonly #lines: string[] = []
  readonly #waiting: Array<(line: string | undefined) => void> = []
  #buffer = ''
  #ended = false

  constructor(socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      let end: number
      while ((end = this.#buffer.indexOf('\n')) >= 0) {
        this.#push(this.#buffer.slice(0, end))
        this.#buffer = this.#buffer.slice(end + 1)
      }
    })
    socket.on('close', () => {
      this.#ended = true
      for (const waiter of this.#waiting.splice(0)) waiter(undefined)
    })
  }

  next(): Promise<string | undefined> {
    const line = this.#lines.shift()
    if (line !== undefined || this.#ended) return Promise.resolve(line)
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  #push(line: string): void {
    const waiter = this.#waiting.shift()
    if (waiter !== undefined) waiter(line)
    else this.#lines.push(line)
  }
}

/** Opens a connection and resolves once the server's greeting arrived. */
function open(host: string, port: number): Promise<{ socket: Socket; lines: Lines; name: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    socket.setTimeout(3_000, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })))
    socket.once('error', reject)
    const lines = new Lines(socket)
    void lines.next().then((name) => {
      socket.setTimeout(0)
      socket.removeListener('error', reject)
      socket.on('error', () => {})
      if (name !== undefined) resolve({ socket, lines, name })
      else reject(Object.assign(new Error('closed before the greeting'), { code: 'ECLOSED' }))
    })
  })
}

function askUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' }))
    }, 2_000)
    socket.on('message', (message) => {
      clearTimeout(timer)
      socket.close()
      resolve(message.toString())
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      socket.close()
      reject(error)
    })
    socket.send('who', port, host)
  })
}

/** Connects `count` times, one after another, and counts who answered and which errors came back. */
async function probe(host: string, port: number, count: number, protocol: Transport) {
  const counts: Record<string, number> = {}
  const errors: Record<string, number> = {}
  let slowestErrorMs = 0
  for (let i = 0; i < count; i++) {
    const started = Date.now()
    try {
      let name: string
      if (protocol === 'udp') name = await askUdp(host, port)
      else {
        const connection = await open(host, port)
        name = connection.name
        connection.socket.end()
      }
      counts[name] = (counts[name] ?? 0) + 1
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown'
      errors[code] = (errors[code] ?? 0) + 1
      slowestErrorMs = Math.max(slowestErrorMs, Date.now() - started)
    }
  }
  return { counts, errors, slowestErrorMs }
}

let nextHeld = 1
async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'serve':
      return serve(command.name, command.port)
    case 'probe':
      return probe(command.host, command.port, command.count, command.protocol)
    case 'hold': {
      const connection = await open(command.host, command.port)
      const id = nextHeld++
      held.set(id, connection)
      return { connection: id, name: connection.name }
    }
    case 'echo': {
      const connection = held.get(command.connection)!
      connection.socket.write(`${command.text}\n`)
      return connection.lines.next()
    }
    case 'available':
      return kernelForwardingAvailable()
    case 'start':
      table = command.endpoints
      // Checked every half second, so a test of the rules' repair need not wait ten.
      forwarder = await KernelForwarder.start(source, { checkIntervalMs: 500, log: (message) => process.stderr.write(`${message}\n`) })
      return { chains: forwarder.chains.services }
    case 'apply':
      return forwarder!.apply(command.listeners)
    case 'endpoints':
      table = command.endpoints
      forwarder!.endpointsChanged()
      await forwarder!.settled()
      return null
    case 'traffic':
      return forwarder!.refreshTraffic()
    case 'close':
      await forwarder!.close()
      return null
  }
}

const input = createInterface({ input: process.stdin })
input.on('line', (line) => {
  const { id, ...command } = JSON.parse(line) as Command & { id: number }
  handle(command as Command).then(
    (result) => process.stdout.write(`${JSON.stringify({ id, result: result ?? null })}\n`),
    (error: Error) => process.stdout.write(`${JSON.stringify({ id, error: error.message })}\n`),
  )
})
input.on('close', () => process.exit(0))
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
