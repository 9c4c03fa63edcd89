// A two-tier app for the service-discovery tests on real hosts: `kv`, a counter that answers its own
// slot, reachable by name only; and `web`, an HTTP front end published on every peer (ingress 8080)
// that, for each request, resolves kv by name through its agent's DNS and asks kv at the address it
// got, i.e. through its own agent's forwarder. kv/1 never passes its healthcheck, so it must never
// take traffic nor appear in DNS.
//
// As processes (Node HTTP servers on $PORT): web resolves `kv.peer` with a dns.Resolver pointed at
// PEER_DNS. As containers of the test image (busybox): both are `httpd` with a CGI
// script; web's asks `http://kv:6379/…` with wget, the bare name resolved through the container's
// resolver (the agent's DNS, search domain `peer`).

import type { ServiceSpec } from '../../core/index.js'
import { validService } from './service-spec.js'

export const KV = 'kv'
export const WEB = 'web'
export const KV_PORT = 6379
export const WEB_PORT = 80
export const PUBLISHED = 8080
/** The slot whose healthcheck always fails. */
export const UNREADY_SLOT = `${KV}/1`

/** The back end: `{"slot":…,"count":n}` for any request. */
const KV_SERVER = `
let count = 0
require('node:http').createServer((request, response) => {
  response.end(JSON.stringify({ slot: process.env.PEER_SLOT, count: ++count }))
}).listen(Number(process.env.PORT))
`

/** The front end: resolves kv.peer through PEER_DNS on every request, then asks kv there. */
const WEB_SERVER = `
const http = require('node:http')
const { Resolver } = require('node:dns').promises
const ask = (host) => new Promise((resolve, reject) => {
  const request = http.get({ host, port: ${KV_PORT}, path: '/cgi-bin/kv', timeout: 2000, agent: false }, (response) => {
    let body = ''
    response.on('data', (chunk) => (body += chunk))
    response.on('end', () => resolve(JSON.parse(body)))
    response.on('error', reject)
  })
  request.on('timeout', () => request.destroy(new Error('kv did not answer within 2 s')))
  request.on('error', reject)
})
http.createServer(async (request, response) => {
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

/** The path clients ask web for (the process ignores it; the container's CGI script is there). */
export const WEB_PATH = '/cgi-bin/web'

/** What web answers when all went well. */
export interface WebAnswer {
  readonly web: string
  /** The address kv.peer resolved to (processes only). */
  readonly kvAddress?: string
  readonly kv: { readonly slot: string; readonly count: number }
}

const valid = validService

const HEALTHCHECK = {
  // Fails for kv/1 only: the probe carries the task's PEER_SLOT. Three failures in a row, not one, make
  // a task unhealthy: on a loaded machine one `docker exec` can take longer than its timeout, and
  // kv/0 is the only ready endpoint, so one slow probe would rightly refuse every request.
  command: ['sh', '-c', `test "$PEER_SLOT" != ${UNREADY_SLOT}`],
  interval: '200ms', timeout: '1s', retries: 3,
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

/** kv's CGI script: counts in a file, answers `{"slot":…,"count":n}`. */
const KV_CGI = `#!/bin/sh
n=$(( $(cat /tmp/count 2>/dev/null || echo 0) + 1 ))
echo $n > /tmp/count
printf 'Content-Type: application/json\\r\\n\\r\\n{"slot":"%s","count":%s}' "$PEER_SLOT" "$n"
`

/**
 * web's: asks kv by its bare name; a 502 naming what failed otherwise. `timeout`, not wget's own
 * `-T`: the test image's busybox wget crashes (SIGSEGV) when given `-T`.
 */
const WEB_CGI = `#!/bin/sh
if kv=$(timeout 3 wget -q -O - http://${KV}:${KV_PORT}/cgi-bin/kv 2>&1); then
  printf 'Content-Type: application/json\\r\\n\\r\\n{"web":"%s","kv":%s}' "$PEER_SLOT" "$kv"
else
  printf 'Status: 502 Bad Gateway\\r\\nContent-Type: application/json\\r\\n\\r\\n{"web":"%s","error":"%s"}' "$PEER_SLOT" "$(echo $kv | tr -d '"')"
fi
`

/** A container of the test image serving `cgi` as /cgi-bin/<name> with httpd on `port`. */
function cgiContainer(image: string, name: string, cgi: string, port: number): Record<string, unknown> {
  return {
    image,
    command: ['sh', '-c', `mkdir -p /tmp/w/cgi-bin && printf '%s' "$CGI" > /tmp/w/cgi-bin/${name} && chmod +x /tmp/w/cgi-bin/${name} && exec httpd -f -p ${port} -h /tmp/w`],
    env: { CGI: cgi },
  }
}

/** The same app as containers of `image` (the test image). */
export function containerApp(webHost: string, image: string): ServiceSpec[] {
  const resources = { cpu: '50m', memory: '32Mi' }
  return [
    valid(KV, {
      ...cgiContainer(image, 'kv', KV_CGI, KV_PORT), replicas: 2, resources, constraints: [`host != ${webHost}`],
      ports: [{ host: 0, container: KV_PORT, mode: 'ingress' }], healthcheck: HEALTHCHECK,
    }),
    valid(WEB, {
      ...cgiContainer(image, 'web', WEB_CGI, WEB_PORT), replicas: 1, resources, constraints: [`host == ${webHost}`],
      ports: [{ host: PUBLISHED, container: WEB_PORT, mode: 'ingress' }],
    }),
  ]
}

/** The name an SRV target gives a host address: its hex spelling under addr.peer. */
export const addrName = (address: string): string => `${address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0')).join('')}.addr.peer`
