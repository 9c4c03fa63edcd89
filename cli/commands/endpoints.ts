// `peer endpoints [service]`: every port of every service with where it can be reached — the
// service's address on the asked agent, the port the routing mesh publishes on every peer, and
// each task that serves it (host, health, and the connections this agent sent it). The agent asked
// decides: another agent's traffic column counts its own connections.

import type { Command } from 'commander'
import type { EndpointsAnswer } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, shortPeer, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface EndpointsOptions extends PeerOptions {
  json?: boolean
}

export function registerEndpoints(program: Command): void {
  addPeerOption(
    program
      .command('endpoints')
      .description('list each service port\'s endpoints: host, health and the traffic the asked agent sent each (peer ids shortened; --json has them in full)')
      .argument('[service]', 'only this service'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (service: string | undefined, options: EndpointsOptions) => {
      const answer = await ask(options, 'GET /v1/endpoints', service === undefined ? {} : { query: { service } })
      if (options.json) printJson(answer)
      else process.stdout.write(endpointsText(answer))
    })
}

export function endpointsText(answer: EndpointsAnswer): string {
  const { discovery } = answer
  const head = `Forwarding: ${discovery.mode}${discovery.modeReason === undefined ? '' : ` (${discovery.modeReason})`}; service addresses ${discovery.serviceRange}; DNS ${discovery.dns ?? 'off'}`
  if (answer.ports.length === 0) return `${head}\n\nNo service publishes or names a port.\n`
  const rows: string[][] = []
  for (const port of answer.ports) {
    const reach = [
      port.serviceAddress === null ? undefined : `${port.service}.peer:${port.target} (${port.serviceAddress})`,
      port.published === undefined ? undefined : `mesh :${port.published}`,
      port.hostPublished === undefined ? undefined : `host :${port.hostPublished}`,
    ].filter((part) => part !== undefined).join(', ')
    if (port.endpoints.length === 0) rows.push([port.service, `${port.target}/${port.protocol}`, reach, '-', '-', '-', 'no task', '-'])
    for (const endpoint of port.endpoints) {
      const traffic = endpoint.traffic
      rows.push([
        port.service,
        `${port.target}/${port.protocol}`,
        reach,
        endpoint.slot,
        `${shortPeer(endpoint.peer)}${endpoint.local ? ' (here)' : endpoint.tunnel === true ? ' (tunnel)' : ''}`,
        `${endpoint.address}:${endpoint.port}`,
        endpoint.ready ? 'ready' : `not ready: ${endpoint.state}`,
        traffic === null ? '0' : `${traffic.total}${traffic.active > 0 ? ` (${traffic.active} open)` : ''}${traffic.failed > 0 ? `, ${traffic.failed} failed` : ''}`,
      ])
    }
  }
  const failed = answer.ports.flatMap((port) => port.listeners.filter((l) => !l.bound).map((l) => `cannot listen on ${l.listener.host}:${l.listener.port}/${l.listener.protocol} for ${port.service}: ${l.error ?? 'unknown error'}`))
  const notes = failed.length === 0 ? '' : `\n\n${[...new Set(failed)].join('\n')}`
  return `${head}\n\n${table(['SERVICE', 'PORT', 'REACHED AT', 'SLOT', 'HOST', 'ENDPOINT', 'HEALTH', 'CONNECTIONS'], rows)}${notes}\n`
}
