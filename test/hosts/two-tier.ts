// A two-tier app for the service-discovery tests on real hosts, as processes: `kv`, a counter over
// TCP that answers its own slot, reachable by name only; and `web`, an HTTP front end published on
// every peer (ingress 8080) that, for each request, resolves `kv.peer` through its agent's DNS
// (PEER_DNS) and asks kv through that address, i.e. through its own agent's forwarder. kv/1 never
// passes its healthcheck, so it must never take traffic nor appear in DNS.

import { validateService, type ServiceSpec, type SpecError } from '../../core/index.js'

export const KV = 'kv'
export const WEB = 'web'
export const KV_PORT = 6379
export const WEB_PORT = 80
export const PUBLISHED = 8080
/** The slot whose healthcheck always fails. */
export const UNREADY_SLOT = `${KV}/1`

/** The back end: one line per connection, `{"slot":…,"count":n}`. */
const KV_SERVER = `
let count = 0
require('node:net').createServer((socket) => {
  socket.on('error', () => {})
  socket.once('data', () => socket.end(JSON.stringify({ slot: process.env.PEER_SLOT, count: ++count }) + '\\n'))
}).listen(Number(process.env.PORT))
`

/** The front end: resolves kv.peer through PEER_DNS on every request, then asks kv there. */
const WEB_SERVER = `
const net = require('node:net')
const { Resolver } = require('node:dns').promises
const ask = (host) => new Promise((resolve, reject) => {
  let reply = ''
  const socket = net.connect(${KV_PORT}, host)
  socket.setTimeout(2000, () => socket.destroy(new Error('kv did not answer within 2 s')))
  socket.on('data', (chunk) => (reply += chunk))
  socket.on('end', () => (reply === '' ? reject(new Error('kv closed without answering')) : resolve(JSON.parse(reply))))
  socket.on('error', reject)
  socket.write('incr\\n')
})
require('node:http').createServer(async (request, response) => {
  const resolver = new Resolver({ timeout: 1000, tries: 1 })
  resolver.setServers([process.env.PEER_DNS])
  try {
    const [address] = await resolver.resolve4('${KV}.peer')
    response.end(JSON.stringify({ web: process.env.PEER_SLOT, kvAddress: address, kv: await ask(address) }))
  } catch (error) {
    response.statusCode = 502
    response.end(JSON.stringify({ web: process.env.PEER_SLOT, error: error.message }))
  }
}).listen(Number(process.env.PORT))
`

/** What web answers when all went well. */
export interface WebAnswer {
  readonly web: string
  readonly kvAddress: string
  readonly kv: { readonly slot: string; readonly count: number }
}

function valid(name: string, body: Record<string, unknown>): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(name, body, name, errors)
  if (spec === undefined) throw new Error(`${name} is invalid: ${JSON.stringify(errors)}`)
  return spec
}

const HEALTHCHECK = {
  // Fails for kv/1 only: the probe carries the task's PEER_SLOT.
  command: ['sh', '-c', `test "$PEER_SLOT" != ${UNREADY_SLOT}`],
  interval: '200ms', timeout: '1s', retries: 1,
}

/** kv off `webHost`, web on it: the tiers on different hosts. */
export function processApp(webHost: string): ServiceSpec[] {
  const resources = { cpu: '50m', memory: '32Mi' }
  return [
    valid(KV, {
      command: [process.execPath, '-e', KV_SERVER], replicas: 2, resources, constraints: [`host != ${webHost}`],
      ports: [{ host: 0, container: KV_PORT, mode: 'ingress' }], healthcheck: HEALTHCHECK,
    }),
    valid(WEB, {
      command: [process.execPath, '-e', WEB_SERVER], replicas: 1, resources, constraints: [`host == ${webHost}`],
      ports: [{ host: PUBLISHED, container: WEB_PORT, mode: 'ingress' }],
    }),
  ]
}

/** The name an SRV target gives a host address: its hex spelling under addr.peer. */
export const addrName = (address: string): string => `${address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0')).join('')}.addr.peer`
