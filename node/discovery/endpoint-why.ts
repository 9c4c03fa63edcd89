// Why an endpoint takes no traffic from this agent, in words, for `peer why <slot>` and `peer
// endpoints`. Read from the rows the agent answers with, so the CLI explains what the agent sees.

import type { DiscoveryStatus, ServicePortRow } from './discovery.js'

/** One line per port of the slot's service: whether the slot's task takes traffic there, and if not, why. */
export function endpointWhy(rows: readonly ServicePortRow[], slot: string, status: DiscoveryStatus): string[] {
  const lines: string[] = []
  for (const row of rows) {
    const port = `${row.target}/${row.protocol}`
    const endpoint = row.endpoints.find((e) => e.slot === slot)
    if (endpoint === undefined) {
      lines.push(`port ${port}: no endpoint — the slot's task is not running, or its peer's address is not known to this agent (no open connection to it)`)
      continue
    }
    const at = `${endpoint.address}:${endpoint.port}`
    if (!endpoint.ready) {
      lines.push(`port ${port} (${at}): takes no new connections: its task is ${endpoint.state}${endpoint.state === 'running' || endpoint.state === 'unhealthy' || endpoint.state === 'starting' ? ', not passing its readiness check' : ''}`)
      continue
    }
    const traffic = endpoint.traffic
    if (traffic !== null && traffic.total > 0) {
      lines.push(`port ${port} (${at}): takes traffic from this agent: ${traffic.total} connections (${traffic.active} open)${traffic.failed > 0 ? `, ${traffic.failed} failed to connect` : ''}`)
      continue
    }
    lines.push(`port ${port} (${at}): ready, no traffic from this agent yet: ${noTrafficReason(row, endpoint.local, status)}`)
  }
  return lines
}

function noTrafficReason(row: ServicePortRow, local: boolean, status: DiscoveryStatus): string {
  if (status.mode === 'off') return `this agent forwards nothing (${status.modeReason ?? 'the mesh is off'})`
  const bound = row.listeners.filter((l) => l.bound)
  if (bound.length === 0) {
    const failed = row.listeners.filter((l) => !l.bound).map((l) => `${l.listener.host}:${l.listener.port} ${l.error ?? ''}`.trim())
    return failed.length > 0 ? `this agent cannot listen for it (${failed.join('; ')})` : 'this agent has no listener for it'
  }
  const localReady = row.endpoints.filter((e) => e.ready && e.local)
  if (!local && localReady.length > 0) return `this agent sends new connections to its own ready task${localReady.length === 1 ? '' : 's'} first (${localReady.map((e) => e.slot).join(', ')})`
  if (status.mode === 'kernel') return 'the kernel has sent it no connection since its rules were written (counters are read about once a second)'
  return `no client has connected through ${bound.map((l) => `${l.listener.host}:${l.listener.port}`).join(' or ')} since it was ready`
}
